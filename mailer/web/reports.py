"""The send report page."""

from fastapi import APIRouter

router = APIRouter()

"""POST /webhooks/sendgrid: verify the signature, store the events, answer fast."""

from fastapi import APIRouter

router = APIRouter()

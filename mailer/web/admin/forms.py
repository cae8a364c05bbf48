"""The workspace's forms as typed models: each page declares its fields once, and every form
carries the CSRF token its page filled in (checked by `checked`, before anything is done).

FastAPI reads a model from the form body (`Annotated[Model, Form()]`); fields too long for
their limit are a 400 page, like any malformed form.
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, Field

from mailer.issue.store import MAX_MARKDOWN
from mailer.web.admin.access import check_form

SHORT = 2000


class CsrfForm(BaseModel):
    csrf_token: str = Field(default="", max_length=200)


F = TypeVar("F", bound=CsrfForm)


def checked(request: Request, form: F) -> F:
    """The form, once its CSRF token is known to come from one of our pages."""
    check_form(request, form.csrf_token)
    return form


class ScheduleForm(CsrfForm):
    """The schedule form, and the pre-flight page's confirmation of it."""

    list: str = Field(default="", max_length=200)
    segment: str = Field(default="", max_length=SHORT)
    at: str = Field(default="", max_length=100)
    local_time: str = Field(default="", max_length=10)
    confirm: str = Field(default="", max_length=100)
    again: str = Field(default="", max_length=10)

    def fields(self, issue_id: int) -> dict[str, Any]:
        """What the schedule and pre-flight pages show again (and the send is made from)."""
        values: dict[str, Any] = self.model_dump(exclude={"csrf_token"})
        return {**values, "issue_id": issue_id, "local_time": bool(self.local_time)}


class DraftForm(CsrfForm):
    """The editor's form (without the script): Save, Send test copies, Schedule."""

    markdown: str = Field(default="", max_length=MAX_MARKDOWN)
    issue_id: str = Field(default="", max_length=20)
    version: str = Field(default="0", max_length=20)
    action: str = Field(default="save", max_length=20)
    test_to: str = Field(default="", max_length=SHORT)


def number(text: str) -> int | None:
    """A whole number typed or carried in a hidden field, else None."""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 12 else None

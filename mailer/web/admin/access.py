"""What every workspace page needs: who is signed in (by role), CSRF, and the page renderer.

Sign-in, sessions and roles are the accounts package's (`mailer.web.admin.auth`); this module
only names the three levels the pages ask for and renders pages under the workspace's CSP.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from mailer.accounts.principal import Principal, Role
from mailer.web import csrf
from mailer.web.admin.auth import page_principal
from mailer.web.deps import PageError
from mailer.web.preview_app import workspace_templates
from mailer.web.preview_frames import WORKSPACE_CSP

Viewer = Annotated[Principal, Depends(page_principal(Role.VIEWER))]
Editor = Annotated[Principal, Depends(page_principal(Role.EDITOR))]
Owner = Annotated[Principal, Depends(page_principal(Role.OWNER))]
SCOPE = "admin"
PREFIX = "/admin"
HEADER = "x-csrf-token"


def templates(request: Request) -> Jinja2Templates:
    state = request.app.state
    if getattr(state, "workspace_templates", None) is None:
        state.workspace_templates = workspace_templates()
    found: Jinja2Templates = state.workspace_templates
    return found


def render(
    request: Request,
    template: str,
    who: Principal,
    context: dict[str, Any] | None = None,
    status: int = 200,
) -> HTMLResponse:
    """A workspace page, with a fresh CSRF token for its forms and the signed-in person."""
    token = csrf.issue(request, SCOPE)
    values = {
        "who": who,
        "can_write": who.allows(Role.EDITOR),
        "csrf": token.value,
        "prefix": PREFIX,
        "path": request.url.path,
        **(context or {}),
    }
    response = templates(request).TemplateResponse(request, template, values, status_code=status)
    response.headers["Content-Security-Policy"] = WORKSPACE_CSP
    csrf.remember(request, response, token)
    return response


def check_form(request: Request, submitted: object) -> None:
    csrf.check(request, SCOPE, submitted)


def check_header(request: Request) -> None:
    """A script's POST carries the page's token in a header (JSON bodies have no form field)."""
    csrf.check(request, SCOPE, request.headers.get(HEADER, ""))


def not_found(what: str) -> PageError:
    return PageError(404, "Not found", f"There is no {what} at this address.")

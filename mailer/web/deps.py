"""What every page handler needs, built once per app: settings, database, signer, templates."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import Engine

from mailer.core.settings import Settings
from mailer.readers.links import BadToken, Purpose, Signer, Token, link
from mailer.web.limits import RateLimiter, make_limiter
from subscribers.db import make_engine

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates" / "pages"
CONFIRM_MAX_AGE = 7 * 24 * 3600

# Pages that show an issue keep its inline styles and remote images; no page runs a script.
PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' https: data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
ISSUE_CSP = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' https: http: data:; "
    "font-src https: data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


TEST_COPY_READER = 0  # the subscriber id in a test copy's links: no row has it
_TEST_COPY_NOTE = {
    Purpose.UNSUBSCRIBE: "In the real send, this link unsubscribes the reader in one click.",
    Purpose.PREFERENCES: "In the real send, this link opens the reader's preferences.",
    Purpose.FORWARD: "In the real send, this link lets the reader forward the issue to friends.",
}


_TEST_COPY_ANY = "In the real send, this link works for the reader it was sent to."


class PageError(Exception):
    """Shown to the visitor as a friendly page with this status, title and message."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


@dataclass
class Web:
    """The app's long-lived collaborators, kept on `app.state.web`."""

    settings: Settings
    engine: Engine
    signer: Signer
    templates: Jinja2Templates
    limiter: RateLimiter
    forms: URLSafeTimedSerializer  # CSRF form tokens

    @classmethod
    def build(cls, settings: Settings) -> Web:
        templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
        templates.env.globals["brand"] = brand(settings)
        return cls(
            settings=settings,
            engine=make_engine(settings.DATABASE_URL),
            signer=Signer(settings.SECRET_KEY),
            templates=templates,
            limiter=make_limiter(settings.REDIS_URL),
            forms=URLSafeTimedSerializer(settings.SECRET_KEY, salt="newsletter-form"),
        )

    def url(self, token: Token) -> str:
        return link(self.settings.PUBLIC_BASE_URL, self.signer, token)


def web(request: Request) -> Web:
    state: Web = request.app.state.web
    return state


def read_token(request: Request, text: str, purpose: Purpose, max_age: int | None = None) -> Token:
    """The link's token, or a friendly 4xx page saying what is wrong with it."""
    try:
        token = web(request).signer.read(text, purpose, max_age=max_age)
    except BadToken as exc:
        if "expired" in str(exc):
            raise PageError(
                400, "This link has expired", "Links like this one only work for 7 days."
            ) from exc
        raise PageError(
            404, "This link does not work", "Please check that you copied the whole link."
        ) from exc
    if token.subscriber_id == TEST_COPY_READER and purpose is not Purpose.VIEW:
        # A test copy (sending.create.send_test_copy) goes to nobody on the list: its links
        # work, and say what they do for real readers instead of a puzzling "not found".
        raise PageError(200, "This is a test copy", _TEST_COPY_NOTE.get(purpose, _TEST_COPY_ANY))
    return token


def not_found(what: str = "page") -> PageError:
    return PageError(404, "Not found", f"We could not find this {what}.")


def client_ip(request: Request) -> str:
    # uvicorn rewrites the client from X-Forwarded-For when the proxy is trusted.
    return request.client.host if request.client else "unknown"


def page(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    status: int = 200,
    csp: str = PAGE_CSP,
) -> HTMLResponse:
    response = web(request).templates.TemplateResponse(
        request, template, context or {}, status_code=status
    )
    response.headers["Content-Security-Policy"] = csp
    return response


def brand(settings: Settings) -> dict[str, str | None]:
    return {
        "name": settings.BRAND_NAME,
        "tagline": settings.BRAND_TAGLINE,
        "color": settings.BRAND_COLOR,
        "on_color": readable_on(settings.BRAND_COLOR),
        "text": settings.BRAND_TEXT_COLOR,
        "background": settings.BRAND_BACKGROUND,
        "logo_url": settings.BRAND_LOGO_URL,
        "footer": settings.FOOTER_TEXT,
        "postal_address": "" if settings.postal_address_is_placeholder else settings.POSTAL_ADDRESS,
    }


def readable_on(color: str) -> str:
    """Black or white, whichever reads better on `color` (#rrggbb), for button labels."""
    value = color.lstrip("#")
    if len(value) != 6:
        return "#ffffff"
    try:
        channels = [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    except ValueError:
        return "#ffffff"
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    # Contrast with white is 1.05/(L+0.05); with black (L+0.05)/0.05: pick the larger.
    return "#ffffff" if 1.05 / (luminance + 0.05) >= (luminance + 0.05) / 0.05 else "#111111"


def sibling(token: Token, purpose: Purpose) -> Token:
    """The same reader, list and send, for another page (preferences from unsubscribe, say)."""
    return Token(purpose, token.subscriber_id, token.list_id, token.send_id)

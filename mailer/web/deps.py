"""What every page handler needs, built once per app: settings, database, signer, templates."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import Engine, bindparam, select

from mailer.core.settings import Settings
from mailer.readers.links import TEST_SUBSCRIBER, BadToken, Purpose, Signer, Token, link
from mailer.web.limits import RateLimiter, make_limiter
from subscribers.db import is_sqlite, make_engine
from subscribers.models import Subscriber

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates" / "pages"
CONFIRM_MAX_AGE = 7 * 24 * 3600
_LINK_KEY = select(Subscriber.link_key).where(Subscriber.id == bindparam("b_id"))

# Pages that show an issue keep its inline styles and remote images; no page runs a script.
PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' https: data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
ISSUE_CSP = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' https: http: data:; "
    "font-src https: data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


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


# What a test copy's link opens instead of a reader's page (GET or POST: nothing changes).
_TEST_PAGES = {
    Purpose.UNSUBSCRIBE: "the reader's unsubscribe page, with one button to leave the list",
    Purpose.PREFERENCES: "the reader's preferences: the lists they stay on",
    Purpose.FORWARD: "a form to forward the issue to friends",
}


def read_token(request: Request, text: str, purpose: Purpose, max_age: int | None = None) -> Token:
    """The link's token, or a friendly page: a 4xx saying what is wrong with it (a token whose
    reader is gone, or whose id now belongs to someone else, does not work), or, for a test
    copy's link, a 200 saying what a reader would see there (and that nothing changed)."""
    token = _signed_token(request, text, purpose, max_age)
    if not _is_test_copy(token, purpose) and not key_matches(web(request).engine, token):
        raise _broken_link()
    return token


async def read_token_async(
    request: Request, text: str, purpose: Purpose, max_age: int | None = None
) -> Token:
    """`read_token` for handlers on the event loop: SQLite's indexed read of well under a
    millisecond stays on the loop; a database server's round trip goes to a thread."""
    token = _signed_token(request, text, purpose, max_age)
    if _is_test_copy(token, purpose):
        return token
    engine = web(request).engine
    if is_sqlite(engine):
        ok = key_matches(engine, token)
    else:
        ok = await run_in_threadpool(key_matches, engine, token)
    if not ok:
        raise _broken_link()
    return token


def key_matches(engine: Engine, token: Token) -> bool:
    with engine.connect() as conn:
        key = conn.execute(_LINK_KEY, {"b_id": token.subscriber_id}).scalar()
    return key is not None and key == token.key


def _is_test_copy(token: Token, purpose: Purpose) -> bool:
    """A test copy's links belong to nobody: /v shows the issue, the others explain themselves."""
    if token.subscriber_id != TEST_SUBSCRIBER:
        return False
    if purpose in _TEST_PAGES:
        raise PageError(
            200,
            "This link works: it is a test copy",
            f"In the real email this link opens {_TEST_PAGES[purpose]}. "
            "A test copy belongs to no subscriber, so nothing was changed.",
        )
    return True


def _signed_token(request: Request, text: str, purpose: Purpose, max_age: int | None) -> Token:
    try:
        token = web(request).signer.read(text, purpose, max_age=max_age)
    except BadToken as exc:
        if "expired" in str(exc):
            raise PageError(
                400, "This link has expired", "Links like this one only work for 7 days."
            ) from exc
        raise _broken_link() from exc
    return token


def _broken_link() -> PageError:
    return PageError(404, "This link does not work", "Please check that you copied the whole link.")


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
    return Token(purpose, token.subscriber_id, token.list_id, token.send_id, key=token.key)

"""CSRF protection for the page forms: a signed double-submit token bound to the page.

The hidden field carries, signed and time-stamped, the page it belongs to and a random nonce
that is also kept in a cookie; a POST passes only when both match. A third-party site can
neither read the cookie nor forge the signature. The RFC 8058 one-click POST needs none of
this: it carries no cookie by design and is safe because the link token names one subscriber.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from fastapi import Request, Response
from itsdangerous import BadSignature

from mailer.web.deps import PageError, web

COOKIE = "nl_form"
FIELD = "csrf_token"
MAX_AGE = 24 * 3600


@dataclass(frozen=True, slots=True)
class FormToken:
    value: str  # goes into the hidden field
    nonce: str  # goes into the cookie


def issue(request: Request, scope: str) -> FormToken:
    """A token for a form on the page `scope`, reusing the visitor's nonce when there is one."""
    nonce = request.cookies.get(COOKIE) or secrets.token_urlsafe(18)
    return FormToken(web(request).forms.dumps([scope, nonce]), nonce)


def remember(request: Request, response: Response, token: FormToken) -> None:
    response.set_cookie(
        COOKIE,
        token.nonce,
        max_age=MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def check(request: Request, scope: str, submitted: object) -> None:
    """Raise a friendly 400 page unless the form came from our page for `scope`."""
    nonce = request.cookies.get(COOKIE)
    value = submitted if isinstance(submitted, str) else ""
    try:
        signed_scope, signed_nonce = web(request).forms.loads(value, max_age=MAX_AGE)
    except (BadSignature, ValueError, TypeError) as exc:
        raise _expired() from exc
    if signed_scope != scope or not nonce or not secrets.compare_digest(signed_nonce, nonce):
        raise _expired()


def _expired() -> PageError:
    return PageError(
        400,
        "Please try again",
        "This form has expired or was not sent from our page. Reload the page and send it again.",
    )

"""INTERIM stand-in for the accounts issue's page sign-in (branch b11 replaces this file).

`page_principal(role)` is the dependency every workspace page uses: signed out -> 303 to
/admin/login, a role too low -> 403. Until the accounts work lands, the principal comes from a
cookie signed with SECRET_KEY (no login page mints it here; tests do).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from mailer.accounts.principal import Principal, Role, check_role
from mailer.core.errors import NewsletterError
from mailer.web.deps import PageError, client_ip, web

COOKIE = "nl_session"
MAX_AGE = 12 * 3600


class SignInRequired(Exception):
    """Answered with a 303 to the login page (see `install`)."""


def signer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(web(request).settings.SECRET_KEY, salt="newsletter-admin")


@cache
def page_principal(role: Role) -> Callable[[Request], Principal]:
    def dependency(request: Request) -> Principal:
        who = _signed_in(request)
        if who is None:
            raise SignInRequired()
        if not who.allows(role):
            raise PageError(403, "Not allowed", f"This needs the {role} role; you are {who.role}.")
        return who

    return dependency


def _signed_in(request: Request) -> Principal | None:
    try:
        name, role = signer(request).loads(request.cookies.get(COOKIE, ""), max_age=MAX_AGE)
        return Principal("user", None, str(name), check_role(str(role)), client_ip(request))
    except (BadSignature, ValueError, TypeError, NewsletterError):
        return None

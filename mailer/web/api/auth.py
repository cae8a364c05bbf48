"""Who is calling the API: `Authorization: Bearer TOKEN`, checked on every request.

401 without a valid (known, unrevoked) token, 403 when its role does not allow the call;
both as `{"detail": ...}`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from mailer.accounts.principal import Principal, Role
from mailer.accounts.tokens import token_principal
from mailer.web.deps import client_ip, web
from subscribers.db import transaction

_CHALLENGE = {"WWW-Authenticate": "Bearer"}


# Declared so the OpenAPI document says how to authenticate; the checks below are ours.
_scheme = HTTPBearer(auto_error=False, description="A token from `newsletter tokens create`.")


def api_principal(needed: Role) -> Callable[[Request], Principal]:
    """A dependency for a route that needs at least the role `needed`."""

    def dependency(
        request: Request, given: HTTPAuthorizationCredentials | None = Depends(_scheme)
    ) -> Principal:
        secret = given.credentials.strip() if given is not None else ""
        if not secret:
            raise HTTPException(
                401, "missing bearer token (Authorization: Bearer TOKEN)", _CHALLENGE
            )
        now = datetime.now(UTC)
        with transaction(web(request).engine) as session:
            found = token_principal(session, secret, now, client_ip(request))
        if found is None:
            raise HTTPException(401, "invalid or revoked token", _CHALLENGE)
        if not found.allows(needed):
            raise HTTPException(
                403, f"this token's role ({found.role}) cannot do this: it needs {needed}"
            )
        return found

    return dependency

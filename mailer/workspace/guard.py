"""The role check every workspace action starts with."""

from __future__ import annotations

from mailer.accounts.principal import Principal, Role
from mailer.core.errors import NewsletterError


class Forbidden(NewsletterError):
    """The actor's role does not allow the action (the API answers 403)."""


def need(actor: Principal, role: Role) -> None:
    if not actor.allows(role):
        raise Forbidden(f"role {actor.role} cannot do this: it needs {role}")

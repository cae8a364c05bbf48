"""Who is acting (a person, a token, the server's CLI) and what their role allows."""

from __future__ import annotations

import enum
import getpass
from dataclasses import dataclass

from mailer.core.errors import NewsletterError


class Role(enum.StrEnum):
    VIEWER = "viewer"
    EDITOR = "editor"
    OWNER = "owner"


_RANK = {Role.VIEWER: 0, Role.EDITOR: 1, Role.OWNER: 2}


def check_role(value: str, allowed: tuple[Role, ...] = tuple(Role)) -> Role:
    """The role named by `value`, or a NewsletterError listing the allowed ones."""
    try:
        role = Role(value.strip().lower())
    except ValueError:
        role = None
    if role is None or role not in allowed:
        names = "|".join(r.value for r in allowed)
        raise NewsletterError(f"role: {value!r} is not one of {names}")
    return role


@dataclass(frozen=True, slots=True)
class Principal:
    """The actor the audit log names; `id` is the user's or token's row id (None for the CLI)."""

    kind: str  # user | token | cli
    id: int | None
    name: str
    role: Role
    ip: str | None = None

    def allows(self, needed: Role) -> bool:
        """viewer < editor < owner: a role allows everything a lower one does."""
        return _RANK[self.role] >= _RANK[needed]


def cli_principal() -> Principal:
    """The server's own shell is trusted with every role; the audit log names the OS user."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return Principal("cli", None, user, Role.OWNER)

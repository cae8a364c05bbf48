"""Creating a list, audited."""

from __future__ import annotations

from sqlalchemy.orm import Session

from mailer.accounts import audit
from mailer.accounts.principal import Principal, Role
from mailer.workspace.guard import need
from subscribers.lists import ListSummary, create_list


def create(
    session: Session, actor: Principal, name: str, title: str = "", public: bool = True
) -> ListSummary:
    need(actor, Role.EDITOR)
    created = create_list(session, name, title, public)
    audit.record(session, actor, "list.create", f"list {created.name}", f"public={public}")
    return ListSummary(created.name, created.title, created.public, 0)

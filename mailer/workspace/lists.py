"""Creating and changing lists (name, title, public or private), audited."""

from __future__ import annotations

from sqlalchemy.orm import Session

from mailer.accounts import audit
from mailer.accounts.principal import Principal, Role
from mailer.workspace.guard import need
from subscribers.lists import ListSummary, create_list, edit_list, rename_list


def create(
    session: Session, actor: Principal, name: str, title: str = "", public: bool = True
) -> ListSummary:
    need(actor, Role.EDITOR)
    created = create_list(session, name, title, public)
    audit.record(session, actor, "list.create", f"list {created.name}", f"public={public}")
    return ListSummary(created.name, created.title, created.public, 0)


def change(
    session: Session, actor: Principal, name: str, new_name: str, title: str, public: bool
) -> ListSummary:
    """Rename (members, sends and reports stay with the list), retitle, show or hide it;
    the services behind `newsletter lists rename` and `lists edit`."""
    need(actor, Role.EDITOR)
    renamed = rename_list(session, name, new_name)
    changed = edit_list(session, renamed.name, title, public)
    detail = f"name={changed.name} public={public}"
    audit.record(session, actor, "list.change", f"list {name}", detail)
    return ListSummary(changed.name, changed.title, changed.public, 0)

"""Creating lists and describing them (name, title, public, active count)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from subscribers.errors import SubscriberError
from subscribers.models import MailingList
from subscribers.store import find_list, list_counts

MAX_TITLE = 200


@dataclass(frozen=True, slots=True)
class ListSummary:
    name: str
    title: str
    public: bool
    active: int


def create_list(session: Session, name: str, title: str = "", public: bool = True) -> MailingList:
    """A new list; a name already taken (in any letter case) is refused."""
    name, title = name.strip(), title.strip()
    if not name or len(name) > 100:
        raise SubscriberError(f"name: a list name needs 1 to 100 characters, not {name!r}")
    if len(title) > MAX_TITLE:
        raise SubscriberError(f"title: at most {MAX_TITLE} characters")
    if find_list(session, name) is not None:
        raise SubscriberError(f"name: a list named {name!r} exists already")
    created = MailingList(name=name, description="", title=title, public=public)
    session.add(created)
    session.flush()
    return created


def list_summaries(session: Session) -> list[ListSummary]:
    """Every list with its active subscriber count, by name."""
    counts = dict(list_counts(session))
    rows = session.scalars(select(MailingList))
    found = [ListSummary(m.name, m.title, m.public, counts.get(m.name, 0)) for m in rows]
    return sorted(found, key=lambda item: item.name.casefold())


def list_id_of(session: Session, list_name: str | None) -> int | None:
    """The id of the list named (None for "every list"); SubscriberError if there is none."""
    if not list_name:
        return None
    found = find_list(session, list_name)
    if found is None:
        raise SubscriberError(f"no list named {list_name!r}")
    return found.id

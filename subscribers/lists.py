"""Mailing lists as editors manage them: create, rename, make private, delete, and name them.

One service for the CLI, the JSON API and the workspace. Names compare case-insensitively;
every refusal is a SubscriberError naming the list and, for an unknown one, the lists there are.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import column, delete, func, select, table
from sqlalchemy.orm import Session

from subscribers.errors import SubscriberError
from subscribers.models import MailingList, Membership
from subscribers.store import find_list, list_counts

MAX_NAME = 100
MAX_TITLE = 200
# The sends table belongs to the mailer (never imported here); a list with sends keeps their
# reports, so deleting it is refused.
_SENDS = table("sends", column("list_id"))


@dataclass(frozen=True, slots=True)
class ListSummary:
    name: str
    title: str
    public: bool
    active: int


def known_lists(session: Session) -> str:
    """': the lists are a, b' (or how to make one), to end an 'unknown list' message."""
    names = session.scalars(select(MailingList.name).order_by(MailingList.name)).all()
    if not names:
        return ": there are no lists yet (newsletter lists create NAME)"
    return f": the lists are {', '.join(names)}"


def require_list(session: Session, name: str) -> MailingList:
    found = find_list(session, name)
    if found is None:
        raise SubscriberError(f"no list named {name!r}{known_lists(session)}")
    return found


def create_list(session: Session, name: str, title: str = "", public: bool = True) -> MailingList:
    """A new list; refused when the name is taken (in any letter case) or not a usable name."""
    name = _check_name(name)
    if find_list(session, name) is not None:
        raise SubscriberError(f"a list named {name!r} already exists")
    created = MailingList(name=name, title=_check_title(title), public=public, description="")
    session.add(created)
    session.flush()
    return created


def rename_list(session: Session, old: str, new: str) -> MailingList:
    found = require_list(session, old)
    new = _check_name(new)
    clash = find_list(session, new)
    if clash is not None and clash.id != found.id:
        raise SubscriberError(f"a list named {clash.name!r} already exists")
    found.name = new
    session.flush()
    return found


def edit_list(
    session: Session, name: str, title: str | None = None, public: bool | None = None
) -> MailingList:
    """Change what is given: the title readers see, whether the list is public."""
    found = require_list(session, name)
    if title is not None:
        found.title = _check_title(title)
    if public is not None:
        found.public = public
    session.flush()
    return found


def delete_list(session: Session, name: str) -> int:
    """Delete a list without sends and its memberships; the people stay. Returns members left."""
    found = require_list(session, name)
    sends = session.scalar(
        select(func.count()).select_from(_SENDS).where(_SENDS.c.list_id == found.id)
    )
    if sends:
        raise SubscriberError(
            f"list {found.name!r} has {sends} send(s) whose reports need it: "
            f"make it private instead (newsletter lists edit {found.name} --private)"
        )
    members = session.scalar(
        select(func.count()).select_from(Membership).where(Membership.list_id == found.id)
    )
    session.execute(delete(Membership).where(Membership.list_id == found.id))
    session.delete(found)
    session.flush()
    return int(members or 0)


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME or any(ch.isspace() for ch in name):
        raise SubscriberError(
            f"a list name needs 1 to {MAX_NAME} characters without spaces, not {name!r} "
            "(use --title for the name readers see)"
        )
    return name


def _check_title(title: str) -> str:
    if len(title.strip()) > MAX_TITLE:
        raise SubscriberError(f"title: at most {MAX_TITLE} characters")
    return title.strip()


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
    return require_list(session, list_name).id

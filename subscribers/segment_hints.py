"""Warnings for a segment that silently matches nobody: an attribute key or a tag value that
no subscriber of the list has, with the closest one that exists (`attr.countr` -> `country`).

A warning, not an error: a key may be meant for people who have not joined yet.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session

from subscribers.models import Membership, Subscriber, SubscriberTag
from subscribers.segment_parser import Bool, Compare, In, Node, Not, parse
from subscribers.segments import attr_present

# Enough people to know the keys and tags in use, without reading a million rows.
SAMPLE = 5000


def segment_warnings(session: Session, expr: str, list_id: int | None) -> list[str]:
    """One line per unknown attribute key or tag value the segment mentions."""
    keys, tags = _mentioned(parse(expr))
    found: list[str] = []
    if keys:
        known_keys = _known_keys(session, list_id)
        found += [_hint("attribute", f"attr.{key}", key, known_keys, list_id) for key in keys
                  if key not in known_keys and not _anyone_has(session, key, list_id)]  # fmt: skip
    if tags:
        known_tags = _known_tags(session, list_id, tags)
        found += [_hint("tag", f'tags has "{tag}"', tag, known_tags, list_id) for tag in tags
                  if tag.casefold() not in known_tags]  # fmt: skip
    return found


def _mentioned(node: Node) -> tuple[list[str], list[str]]:
    keys: dict[str, None] = {}
    tags: dict[str, None] = {}
    for leaf in _leaves(node):
        if leaf.field.name == "attr" and leaf.field.key is not None:
            keys.setdefault(leaf.field.key, None)
        if isinstance(leaf, Compare) and leaf.field.name == "tags":
            tags.setdefault(str(leaf.value.value), None)
    return list(keys), list(tags)


def _leaves(node: Node) -> Iterator[Compare | In]:
    if isinstance(node, Bool):
        for item in node.items:
            yield from _leaves(item)
    elif isinstance(node, Not):
        yield from _leaves(node.item)
    else:
        yield node


def _people(list_id: int | None) -> Select[int]:
    query = select(Subscriber.id)
    if list_id is not None:
        members = select(Membership.subscriber_id).where(Membership.list_id == list_id)
        query = query.where(Subscriber.id.in_(members))
    return query.order_by(Subscriber.id.desc()).limit(SAMPLE)


def _known_keys(session: Session, list_id: int | None) -> set[str]:
    people = _people(list_id).subquery()
    rows = session.execute(
        select(Subscriber.attrs).where(Subscriber.id.in_(select(people.c.id)))
    ).scalars()
    return {key for attrs in rows if isinstance(attrs, dict) for key in attrs}


def _anyone_has(session: Session, key: str, list_id: int | None) -> bool:
    """The exact check behind the sample: someone of the list has the key."""
    query = select(Subscriber.id).where(attr_present(key))
    if list_id is not None:
        members = select(Membership.subscriber_id).where(Membership.list_id == list_id)
        query = query.where(Subscriber.id.in_(members))
    return bool(session.scalar(select(exists(query))))


def _known_tags(session: Session, list_id: int | None, wanted: list[str]) -> set[str]:
    """A sample of the list's tags (stored lower-cased), plus the wanted ones someone has."""
    people = _people(list_id).subquery()
    sample = select(SubscriberTag.tag).where(SubscriberTag.subscriber_id.in_(select(people.c.id)))
    exact = select(SubscriberTag.tag).where(SubscriberTag.tag.in_([t.casefold() for t in wanted]))
    if list_id is not None:
        members = select(Membership.subscriber_id).where(Membership.list_id == list_id)
        exact = exact.where(SubscriberTag.subscriber_id.in_(members))
    known = set(session.execute(sample.distinct().limit(SAMPLE)).scalars())
    return known | set(session.execute(exact.distinct()).scalars())


def _hint(kind: str, written: str, value: str, known: set[str], list_id: int | None) -> str:
    whose = "of the list " if list_id is not None else ""
    close = difflib.get_close_matches(value, sorted(known), n=1, cutoff=0.6)
    suggestion = f': did you mean "{close[0]}"?' if close else ""
    return (
        f"segment: no subscriber {whose}has the {kind} in {written} (it matches nobody){suggestion}"
    )

"""One CSV record to a checked row, and what applying that row to a person changes (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from subscribers.errors import SubscriberError
from subscribers.formulas import restore
from subscribers.models import SUPPRESSED, Status
from subscribers.numbers import parse_number
from subscribers.store import (
    MAX_NAME,
    MAX_TAG,
    check_email,
    check_status,
    check_tag,
    check_timezone,
)

ADDED, UPDATED, UNCHANGED = "added", "updated", "unchanged"
_RANK = {
    Status.ACTIVE: 0,
    Status.PENDING: 0,
    Status.UNSUBSCRIBED: 1,
    Status.BOUNCED: 2,
    Status.COMPLAINED: 3,
}


class Row(NamedTuple):
    """A valid record. Empty cells are `None`/absent: they leave the stored value alone.

    A named tuple, not a frozen dataclass: a million of them are built per import, and a
    frozen dataclass's __init__ alone was an eighth of parsing one."""

    line: int
    email: str
    email_norm: str
    name: str | None
    tags: frozenset[str]
    timezone: str | None
    status: Status | None
    attrs: dict[str, Any]


@dataclass
class Person:
    """A subscriber as the import sees it: stored state plus what this import changed."""

    id: int | None
    email: str
    name: str = ""
    timezone: str | None = None
    status: Status = Status.ACTIVE
    attrs: dict[str, Any] = field(default_factory=dict)
    tags: set[str] = field(default_factory=set)
    member: bool = False  # has a membership (any state) on the import's list
    new_tags: set[str] = field(default_factory=set)
    joined: bool = False  # a membership to create
    dirty: bool = False  # subscriber columns to write
    status_changed: bool = False


_CORE = frozenset(("email", "name", "tags", "timezone", "status"))


def parse_record(line: int, names: list[str], fields: list[str]) -> Row:
    """Check one record against the header; SubscriberError says what is wrong with it.

    Runs once per row of a million-row file, so the common case takes the short way
    (a cell without the export's apostrophe, a plain ASCII number, a word) and only the
    rest goes through `restore` and `parse_number`."""
    if len(fields) != len(names):
        raise SubscriberError(f"{len(fields)} fields, but the header has {len(names)}")
    values, attrs = _cells(names, fields)
    name_value = values.get("name")
    if name_value is not None and len(name_value) > MAX_NAME:
        raise SubscriberError(f"name longer than {MAX_NAME} characters")
    timezone, status = values.get("timezone"), values.get("status")
    email = check_email(values.get("email", ""))
    return Row(
        line,
        email,
        email.lower(),  # normalize_email: check_email has already trimmed it
        name_value,
        _tags(values["tags"]) if "tags" in values else _NO_TAGS,
        check_timezone(timezone) if timezone else None,
        check_status(status) if status else None,
        attrs,
    )


def _cells(names: list[str], fields: list[str]) -> tuple[dict[str, str], dict[str, Any]]:
    """The record's non-empty cells: the core columns' text, and the attributes."""
    values: dict[str, str] = {}
    attrs: dict[str, Any] = {}
    column = 0
    for name, raw in zip(names, fields, strict=True):
        column += 1
        value = raw.strip()
        if not value:
            continue
        if value[0] == "'":  # undo the export's guard against spreadsheet formulas
            value = restore(value)
        if "\x00" in value:
            raise SubscriberError(f"column {column} holds a NUL character")
        if not name:  # a trailing delimiter is harmless; a value nobody named is not
            raise SubscriberError(f"a value in column {column}, which has no name in the header")
        if name in _CORE:
            values[name] = value
        else:
            attrs[name] = _attr_value(value)
    return values, attrs


_NO_TAGS: frozenset[str] = frozenset()
_SHORT_INTEGER = 15  # digits: always below 2**53, so exact as a JSON number


def _attr_value(value: str) -> Any:
    """`parse_number`'s verdict, without its regular expression for words and short integers."""
    if value[0].isalpha():  # a letter is never a digit (regex \d): text
        return value
    if value.isdigit() and value.isascii() and len(value) <= _SHORT_INTEGER:
        if value[0] != "0" or len(value) == 1:
            return int(value)
        return value  # a leading zero (zip codes, phone numbers) stays text
    number = parse_number(value)
    return value if number is None else number


def _tags(cell: str) -> frozenset[str]:
    """`check_tag` of every ';'-separated part, the empty ones dropped, in one pass."""
    tags = [tag.strip() for tag in cell.lower().split(";")]
    for tag in tags:
        if len(tag) > MAX_TAG:
            check_tag(tag)  # says which tag is too long
    return frozenset(tags).difference(("",))


def merge_rows(first: Row, later: Row) -> Row:
    """Two rows for one email: the later row's non-empty cells win; tags and attributes add up."""
    return Row(
        first.line,
        first.email,
        first.email_norm,
        later.name if later.name is not None else first.name,
        first.tags | later.tags,
        later.timezone or first.timezone,
        later.status or first.status,
        {**first.attrs, **later.attrs},
    )


def new_person(row: Row, on_list: bool) -> Person:
    status = row.status or Status.ACTIVE
    return Person(
        id=None,
        email=row.email,
        name=row.name or "",
        timezone=row.timezone,
        status=status,
        attrs=dict(row.attrs),
        new_tags=set(row.tags),
        tags=set(row.tags),
        joined=on_list,
        member=on_list,
    )


def apply_row(person: Person, row: Row, on_list: bool) -> tuple[str, bool]:
    """Apply a row to a known person: (`updated` or `unchanged`, whether a status was refused)."""
    changed = False
    if row.name is not None and row.name != person.name:
        person.name, changed = row.name, True
    if row.timezone is not None and row.timezone != person.timezone:
        person.timezone, changed = row.timezone, True
    merged = {**person.attrs, **row.attrs}
    if merged != person.attrs:
        person.attrs, changed = merged, True
    person.dirty |= changed
    refused = False
    if row.status is not None and row.status != person.status:
        if may_change_status(person.status, row.status):
            person.status, person.dirty, person.status_changed = row.status, True, True
            changed = True
        else:
            refused = True
    added_tags = row.tags - person.tags
    if added_tags:
        person.tags |= added_tags
        person.new_tags |= added_tags
        changed = True
    if on_list and not person.member:
        person.member = person.joined = changed = True
    return (UPDATED if changed else UNCHANGED), refused


def may_change_status(current: Status, wanted: Status) -> bool:
    """Only toward a stronger suppression, or pending to active: never re-activation."""
    if current == Status.PENDING and wanted == Status.ACTIVE:
        return True
    return _RANK[wanted] > _RANK[current]


def is_suppressed(status: Status) -> bool:
    return status in SUPPRESSED

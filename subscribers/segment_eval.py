"""The reference meaning of a segment, in plain Python: what the SQL compiler must agree with."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from subscribers.numbers import parse_number
from subscribers.segment_parser import Bool, Field, In, Lit, Node, Not

_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_TEXT: dict[str, Callable[[str, str], bool]] = {
    "contains": lambda value, part: part in value,
    "starts_with": str.startswith,
    "ends_with": str.endswith,
}


@dataclass(frozen=True)
class Record:
    """What a segment can see of one subscriber (email lower-cased, tags lower-cased)."""

    email: str
    name: str = ""
    timezone: str | None = None
    created_at: datetime = datetime(2026, 1, 1)
    tags: frozenset[str] = frozenset()
    lists: frozenset[str] = frozenset()  # names of lists subscribed to
    attrs: dict[str, Any] = field(default_factory=dict)


def evaluate(node: Node, record: Record) -> bool:
    """True when the record is in the segment."""
    if isinstance(node, Bool):
        parts = (evaluate(item, record) for item in node.items)
        return all(parts) if node.op == "and" else any(parts)
    if isinstance(node, Not):
        return not evaluate(node.item, record)
    if isinstance(node, In):
        return any(_compare(node.field, "=", value, record) for value in node.values)
    return _compare(node.field, node.op, node.value, record)


def _compare(fld: Field, op: str, literal: Lit, record: Record) -> bool:
    if fld.name in ("tags", "lists"):
        names = record.tags if fld.name == "tags" else {n.lower() for n in record.lists}
        return literal.value in names
    if fld.name == "created_at":
        assert isinstance(literal.value, date)
        return _ORDER[op](record.created_at.date(), literal.value)
    if fld.name == "attr":
        return _compare_attr(record.attrs.get(fld.key or ""), op, literal)
    value = getattr(record, fld.name)
    return isinstance(value, str) and _compare_text(value, op, str(literal.value))


def _compare_attr(value: object, op: str, literal: Lit) -> bool:
    """Numbers compare as numbers, strings as text; anything else (or missing) never matches."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, int | float):
        number = as_number(literal)
        return number is not None and op in _ORDER and _ORDER[op](value, number)
    if isinstance(value, str) and literal.quoted:
        return _compare_text(value, op, str(literal.value))
    return False


def _compare_text(value: str, op: str, literal: str) -> bool:
    return _TEXT[op](value, literal) if op in _TEXT else _ORDER[op](value, literal)


def as_number(literal: Lit) -> int | float | None:
    """The number a literal stands for: a bare number, or a quoted string that reads as one."""
    if isinstance(literal.value, bool | date):
        return None
    if isinstance(literal.value, int | float):
        return literal.value
    return parse_number(literal.value)

"""Segment expressions compiled to SQLAlchemy conditions that run inside SQLite or PostgreSQL.

The meaning is the one of `segment_eval.evaluate` (the property test holds the two together):
numbers compare as numbers and strings as text (code-point order on both databases); a missing
attribute, or one of another type, never matches a comparison, and `not` turns that no into a yes.
Every leaf is two-valued (never SQL NULL), so `not` means what it says.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Float,
    Text,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    not_,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

from subscribers.models import MailingList, Membership, MembershipStatus, Subscriber, SubscriberTag
from subscribers.segment_eval import Record, as_number, evaluate
from subscribers.segment_parser import Bool, Field, In, Lit, Node, Not, parse
from subscribers.segment_tokens import SegmentError

__all__ = ["Record", "SegmentError", "compile_node", "compile_segment", "evaluate", "parse"]


class _PerDialect(ColumnElement[Any]):
    """One of two expressions, chosen when the statement is compiled for a database."""

    _traverse_internals = [  # noqa: RUF012  (SQLAlchemy's declaration, part of the cache key)
        ("sqlite", InternalTraversal.dp_clauseelement),
        ("other", InternalTraversal.dp_clauseelement),
    ]
    inherit_cache = True

    def __init__(self, sqlite: ColumnElement[Any], other: ColumnElement[Any]) -> None:
        self.sqlite = sqlite
        self.other = other
        self.type = other.type


@compiles(_PerDialect)
def _compile_per_dialect(element: _PerDialect, compiler: SQLCompiler, **kw: Any) -> str:
    chosen = element.sqlite if compiler.dialect.name == "sqlite" else element.other
    return compiler.process(chosen, **kw)


def compile_segment(expr: str) -> ColumnElement[bool]:
    """A WHERE condition over `Subscriber` for the expression; raises SegmentError when bad."""
    return compile_node(parse(expr))


def compile_node(node: Node) -> ColumnElement[bool]:
    if isinstance(node, Bool):
        items = [compile_node(item) for item in node.items]
        return and_(*items) if node.op == "and" else or_(*items)
    if isinstance(node, Not):
        return not_(compile_node(node.item))
    if isinstance(node, In):
        return or_(*(_leaf(node.field, "=", value) for value in node.values))
    return _leaf(node.field, node.op, node.value)


def _leaf(fld: Field, op: str, value: Lit) -> ColumnElement[bool]:
    if fld.name == "tags":
        tagged = select(SubscriberTag.subscriber_id).where(SubscriberTag.tag == value.value)
        return Subscriber.id.in_(tagged)
    if fld.name == "lists":
        return Subscriber.id.in_(_list_members(str(value.value)))
    if fld.name == "created_at":
        assert isinstance(value.value, date)
        return _on_day(op, value.value)
    if fld.name == "attr":
        return _never_null(_attr(fld.key or "", op, value))
    column: ColumnElement[Any] = _TEXT_COLUMNS[fld.name]
    condition = _text(column, op, str(value.value))
    return _never_null(condition) if fld.name == "timezone" else condition


def _list_members(name: str) -> Any:
    return (
        select(Membership.subscriber_id)
        .join(MailingList, MailingList.id == Membership.list_id)
        .where(
            func.lower(MailingList.name) == name, Membership.status == MembershipStatus.SUBSCRIBED
        )
    )


def _never_null(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """NULL (a missing value) becomes false, so `not` of a non-match is a match."""
    return func.coalesce(condition, false(), type_=Boolean)


def _on_day(op: str, day: date) -> ColumnElement[bool]:
    """`created_at` compared as a UTC date, written as range checks the index can use."""
    start = datetime.combine(day, time(), tzinfo=UTC)
    end = start + timedelta(days=1)
    column = Subscriber.created_at
    conditions: dict[str, ColumnElement[bool]] = {
        "=": and_(column >= start, column < end),
        "!=": or_(column < start, column >= end),
        "<": column < start,
        "<=": column < end,
        ">": column >= end,
        ">=": column >= start,
    }
    return conditions[op]


def _attr(key: str, op: str, value: Lit) -> ColumnElement[bool]:
    """Numbers against numeric literals, strings against quoted literals; else no match."""
    parts: list[ColumnElement[bool]] = []
    number = as_number(value)
    if number is not None and op not in _TEXT_OPS:
        parts.append(_ordered(_attr_number(key), op, number))
    if value.quoted:
        parts.append(_text(_attr_text(key), op, str(value.value)))
    if not parts:
        return false()
    return parts[0] if len(parts) == 1 else or_(*parts)


def _attr_number(key: str) -> ColumnElement[Any]:
    path = literal(_json_path(key), Text)
    sqlite = case(
        (
            func.json_type(Subscriber.attrs, path).in_(["integer", "real"]),
            func.json_extract(Subscriber.attrs, path),
        ),
    )
    name = cast(literal(key), Text)
    other = case(
        (
            func.jsonb_typeof(Subscriber.attrs.op("->")(name)) == "number",
            cast(Subscriber.attrs.op("->>", return_type=Text)(name), Float),
        ),
    )
    return _PerDialect(sqlite, other)


def attr_present(key: str) -> ColumnElement[bool]:
    """The subscriber has attribute `key` (any value), on either database."""
    sqlite = func.json_type(Subscriber.attrs, literal(_json_path(key), Text)).is_not(None)
    other = Subscriber.attrs.op("?", return_type=Boolean)(cast(literal(key), Text))
    return _PerDialect(sqlite, other)


def _attr_text(key: str) -> ColumnElement[Any]:
    path = literal(_json_path(key), Text)
    sqlite = case(
        (
            func.json_type(Subscriber.attrs, path) == "text",
            func.json_extract(Subscriber.attrs, path),
        ),
    )
    name = cast(literal(key), Text)
    other = case(
        (
            func.jsonb_typeof(Subscriber.attrs.op("->")(name)) == "string",
            Subscriber.attrs.op("->>", return_type=Text)(name),
        ),
    )
    return _PerDialect(sqlite, other)


def _json_path(key: str) -> str:
    return f'$."{key}"'  # the parser refuses keys with quotes or backslashes


_TEXT_OPS = ("contains", "starts_with", "ends_with")
_TEXT_COLUMNS: dict[str, Any] = {
    "email": Subscriber.email_norm,
    "name": Subscriber.name,
    "timezone": Subscriber.timezone,
}


def _text(column: ColumnElement[Any], op: str, value: str) -> ColumnElement[bool]:
    """Case-sensitive text tests; no LIKE, so `%` and `_` in the value are plain characters."""
    if op == "contains":
        return _PerDialect(func.instr(column, value) > 0, func.strpos(column, value) > 0)
    if op == "starts_with":
        return func.substr(column, 1, len(value)) == value
    if op == "ends_with":
        size = func.length(column)
        return and_(size >= len(value), func.substr(column, size - len(value) + 1) == value)
    if op in ("=", "!="):
        return _ordered(column, op, value)
    return _ordered(_PerDialect(column, column.collate("C")), op, value)


def _ordered(column: ColumnElement[Any], op: str, value: object) -> ColumnElement[bool]:
    operations = {
        "=": column.__eq__,
        "!=": column.__ne__,
        "<": column.__lt__,
        "<=": column.__le__,
        ">": column.__gt__,
        ">=": column.__ge__,
    }
    result: ColumnElement[bool] = operations[op](value)
    return result

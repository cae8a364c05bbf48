"""The segment language: a recursive-descent parser from tokens to a small AST (pure)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date
from typing import Literal

from subscribers.segment_tokens import SegmentError, Token, Value, tokenize

TEXT_FIELDS = ("email", "name", "timezone")
SET_FIELDS = ("tags", "lists")
FIELDS = (*TEXT_FIELDS, "created_at", *SET_FIELDS)
COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")
TEXT_OPS = ("contains", "starts_with", "ends_with")
KEYWORDS = frozenset({"and", "or", "not", "in", "has", *TEXT_OPS})


@dataclass(frozen=True)
class Field:
    """`email`, `name`, `timezone`, `created_at`, `tags`, `lists`, or `attr` with its key."""

    name: str
    key: str | None = None

    def __str__(self) -> str:
        return f"attr.{self.key}" if self.key is not None else self.name


@dataclass(frozen=True)
class Lit:
    """A literal as written: `quoted` tells a string from a bare number or date."""

    value: Value
    quoted: bool
    column: int = dc_field(default=0, compare=False)


@dataclass(frozen=True)
class Compare:
    field: Field
    op: str  # one of COMPARISONS, TEXT_OPS or "has"
    value: Lit


@dataclass(frozen=True)
class In:
    field: Field
    values: tuple[Lit, ...]


@dataclass(frozen=True)
class Not:
    item: Node


@dataclass(frozen=True)
class Bool:
    op: Literal["and", "or"]
    items: tuple[Node, ...]


Node = Compare | In | Not | Bool


MAX_DEPTH = 50  # of parentheses and "not"s; people write 3 or 4


def parse(expr: str) -> Node:
    """Parse a segment expression; raise SegmentError naming the column of the first problem."""
    parser = _Parser(tokenize(expr))
    if parser.peek.kind == "end":
        raise SegmentError(1, "empty expression")
    node = parser.expression()
    if parser.peek.kind != "end":
        raise SegmentError(
            parser.peek.column, f'expected "and", "or" or the end, not {_show(parser.peek)}'
        )
    return node


def _show(token: Token) -> str:
    return "the end" if token.kind == "end" else f'"{token.text}"'


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.depth = 0  # open "(" and "not" around the current token

    @property
    def peek(self) -> Token:
        return self.tokens[self.index]

    def take(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def at_word(self, word: str) -> bool:
        return self.peek.kind == "word" and self.peek.text.lower() == word

    def expression(self) -> Node:
        return self._chain("or", self.conjunction)

    def conjunction(self) -> Node:
        return self._chain("and", self.unary)

    def _chain(self, op: Literal["and", "or"], parse_item: Callable[[], Node]) -> Node:
        items: list[Node] = [parse_item()]
        while self.at_word(op):
            self.take()
            items.append(parse_item())
        return items[0] if len(items) == 1 else Bool(op, tuple(items))

    def unary(self) -> Node:
        self.depth += 1
        try:
            return self._unary()
        finally:
            self.depth -= 1

    def _unary(self) -> Node:
        if self.depth > MAX_DEPTH:
            # Each level is a Python stack frame: refuse before RecursionError does.
            raise SegmentError(self.peek.column, f"nested too deep (more than {MAX_DEPTH} levels)")
        if self.at_word("not"):
            self.take()
            return Not(self.unary())
        if self.peek.text == "(" and self.peek.kind == "op":
            opening = self.take()
            node = self.expression()
            if self.peek.text != ")":
                raise SegmentError(
                    self.peek.column,
                    f'expected ")" to close the "(" at column {opening.column}, '
                    f"not {_show(self.peek)}",
                )
            self.take()
            return node
        return self.condition()

    def condition(self) -> Node:
        field = self.field()
        op_token = self.take()
        op = op_token.text.lower()
        if (op_token.kind == "op" and op in COMPARISONS) or (
            op_token.kind == "word" and (op in TEXT_OPS or op == "has")
        ):
            return _check(field, op, op_token, self.value(op_token))
        if op_token.kind == "word" and op == "in":
            return _check_in(field, op_token, self.value_list(op_token))
        raise SegmentError(
            op_token.column, f"expected an operator after {field}, not {_show(op_token)}"
        )

    def field(self) -> Field:
        token = self.take()
        name = token.text.lower()
        if token.kind != "word" or name in KEYWORDS:
            raise SegmentError(token.column, f"expected a field name, not {_show(token)}")
        if name == "attr":
            return Field("attr", self.attr_key(token))
        if name not in FIELDS:
            raise SegmentError(
                token.column,
                f'unknown field "{token.text}" (fields: {", ".join(FIELDS)}, attr.KEY)',
            )
        return Field(name)

    def attr_key(self, attr: Token) -> str:
        if self.peek.text != "." or self.peek.kind != "op":
            raise SegmentError(self.peek.column, 'expected "." and a key after "attr"')
        self.take()
        key = self.take()
        if key.kind == "word" or (key.kind == "string" and isinstance(key.value, str)):
            text = key.text if key.kind == "word" else str(key.value)
            if text.strip() and '"' not in text and "\\" not in text:
                return text.strip().lower()
        raise SegmentError(
            key.column, f'expected an attribute name after "attr.", not {_show(key)}'
        )

    def value(self, after: Token) -> Lit:
        token = self.take()
        if token.kind in ("string", "number", "date") and token.value is not None:
            return Lit(token.value, quoted=token.kind == "string", column=token.column)
        raise SegmentError(
            token.column, f'expected a value after "{after.text}", not {_show(token)}'
        )

    def value_list(self, after: Token) -> tuple[Lit, ...]:
        if self.peek.text != "(":
            raise SegmentError(self.peek.column, f'expected "(" after "{after.text}"')
        opening = self.take()
        values = [self.value(opening)]
        while self.peek.text == ",":
            values.append(self.value(self.take()))
        if self.peek.text != ")":
            raise SegmentError(self.peek.column, f'expected "," or ")", not {_show(self.peek)}')
        self.take()
        return tuple(values)


def _check(field: Field, op: str, token: Token, value: Lit) -> Compare:
    """Refuse operator/value combinations that have no meaning for the field."""
    where = value.column or token.column
    if field.name in SET_FIELDS:
        if op != "has":
            raise SegmentError(token.column, f'{field} takes "has", as in {field} has "x"')
        if not value.quoted:
            raise SegmentError(where, f'"has" takes a quoted name, as in {field} has "x"')
    elif op == "has":
        raise SegmentError(token.column, f'"has" only works on tags and lists, not {field}')
    elif op in TEXT_OPS and not value.quoted:
        raise SegmentError(where, f'"{op}" takes a quoted string')
    elif field.name == "created_at":
        _check_date(field, op, token, value)
    elif field.name in TEXT_FIELDS and not value.quoted:
        raise SegmentError(where, f"{field} compares with a quoted string")
    return Compare(field, op, _normalise(field, value))


def _check_date(field: Field, op: str, token: Token, value: Lit) -> None:
    if op in TEXT_OPS:
        raise SegmentError(token.column, f'"{op}" does not work on {field}; compare it with a date')
    if not isinstance(_as_date(value), date):
        raise SegmentError(
            value.column or token.column, f"{field} compares with a date like 2026-01-01"
        )


def _as_date(value: Lit) -> date | None:
    if isinstance(value.value, date):
        return value.value
    if isinstance(value.value, str):
        try:
            return date.fromisoformat(value.value)
        except ValueError:
            return None
    return None


def _normalise(field: Field, value: Lit) -> Lit:
    """Lower-case what is stored lower-cased; turn quoted dates into dates for created_at."""
    if field.name == "created_at":
        return Lit(_as_date(value) or value.value, False, value.column)
    if field.name in ("email", "tags", "lists") and isinstance(value.value, str):
        return Lit(value.value.lower(), True, value.column)
    if isinstance(value.value, date):
        return Lit(value.value.isoformat(), True, value.column)  # a bare date elsewhere is text
    return value


def _check_in(field: Field, token: Token, values: tuple[Lit, ...]) -> In:
    if field.name in SET_FIELDS:
        raise SegmentError(token.column, f'{field} takes "has", as in {field} has "x"')
    return In(field, tuple(_check(field, "=", token, v).value for v in values))

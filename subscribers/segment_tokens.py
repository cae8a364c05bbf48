"""The segment language's tokens: split an expression into words, operators and literals (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from subscribers.errors import SubscriberError

Value = str | int | float | date


class SegmentError(SubscriberError):
    """A bad segment expression, naming the 1-based column of the problem."""

    def __init__(self, column: int, message: str) -> None:
        super().__init__(f"segment: column {column}: {message}")
        self.column = column
        self.reason = message


@dataclass(frozen=True)
class Token:
    kind: str  # word, string, number, date, op, end
    text: str
    column: int
    value: Value | None = None


_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
    | (?P<date>\d{4}-\d{2}-\d{2}(?![\w.]))
    | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w.]))
    | (?P<word>[A-Za-z_][A-Za-z0-9_-]*)
    | (?P<op>!=|<=|>=|[=<>(),.])
    | (?P<string>")
    """,
    re.VERBOSE,
)
_STRING_BODY = re.compile(r'((?:[^"\\]|\\.)*)"', re.DOTALL)


def tokenize(expr: str) -> list[Token]:
    """Split an expression into tokens, each with its 1-based column."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(expr):
        match = _TOKEN.match(expr, pos)
        if match is None:
            raise SegmentError(pos + 1, f"unexpected character {expr[pos]!r}")
        kind = match.lastgroup or ""
        if kind == "string":
            token, pos = _read_string(expr, pos)
            tokens.append(token)
            continue
        if kind != "space":
            tokens.append(_token(kind, match.group(), pos + 1))
        pos = match.end()
    tokens.append(Token("end", "", len(expr) + 1))
    return tokens


def _token(kind: str, text: str, column: int) -> Token:
    if kind == "number":
        value: Value = float(text) if any(c in text for c in ".eE") else int(text)
        return Token(kind, text, column, value)
    if kind == "date":
        try:
            return Token(kind, text, column, date.fromisoformat(text))
        except ValueError:
            raise SegmentError(column, f"{text} is not a valid date") from None
    return Token(kind, text, column)


def _read_string(expr: str, start: int) -> tuple[Token, int]:
    body = _STRING_BODY.match(expr, start + 1)
    if body is None:
        raise SegmentError(start + 1, "unterminated string (strings are double-quoted)")
    value = re.sub(r"\\(.)", r"\1", body.group(1), flags=re.DOTALL)
    return Token("string", expr[start : body.end()], start + 1, value), body.end()

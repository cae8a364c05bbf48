"""The segment language: what parses to what, and errors that name the column."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from subscribers.segment_eval import Record, evaluate
from subscribers.segment_parser import Bool, Compare, Field, In, Lit, Not, parse
from subscribers.segments import SegmentError
from tests.fixtures.shared import shared_file


def test_and_binds_tighter_than_or() -> None:
    node = parse('tags has "a" or tags has "b" and not tags has "c"')
    assert isinstance(node, Bool) and node.op == "or"
    right = node.items[1]
    assert isinstance(right, Bool) and right.op == "and"
    assert isinstance(right.items[1], Not)


def test_parentheses_group() -> None:
    node = parse('(tags has "a" or tags has "b") and attr.plan = "pro"')
    assert isinstance(node, Bool) and node.op == "and"
    assert isinstance(node.items[0], Bool) and node.items[0].op == "or"


def test_names_and_keywords_are_case_insensitive() -> None:
    assert parse('TAGS HAS "X" AND Attr.Country IN ("FR")') == parse(
        'tags has "x" and attr.country in ("FR")'
    )


def test_values() -> None:
    assert parse("attr.score >= 3") == Compare(Field("attr", "score"), ">=", Lit(3, False))
    assert parse("attr.ratio < -1.5") == Compare(Field("attr", "ratio"), "<", Lit(-1.5, False))
    assert parse('attr.city = "Saint \\"Malo\\""') == Compare(
        Field("attr", "city"), "=", Lit('Saint "Malo"', True)
    )
    assert parse("created_at >= 2026-01-01") == Compare(
        Field("created_at"), ">=", Lit(date(2026, 1, 1), False)
    )
    assert parse('created_at < "2026-02-01"').value.value == date(2026, 2, 1)  # type: ignore[union-attr]
    assert parse('email = "Ann@Example.COM"').value.value == "ann@example.com"  # type: ignore[union-attr]
    assert parse('attr."Signup Source" = "web"').field == Field("attr", "signup source")  # type: ignore[union-attr]
    assert parse('attr.country in ("FR", "DE")') == In(
        Field("attr", "country"), (Lit("FR", True), Lit("DE", True))
    )


INTERFACE_EXAMPLES = {
    'tags has "investors" and attr.country in ("FR", "DE")': Bool(
        "and",
        (
            Compare(Field("tags"), "has", Lit("investors", True)),
            In(Field("attr", "country"), (Lit("FR", True), Lit("DE", True))),
        ),
    ),
    'not tags has "press" or attr.plan = "pro"': Bool(  # `not` binds tighter than `or`
        "or",
        (
            Not(Compare(Field("tags"), "has", Lit("press", True))),
            Compare(Field("attr", "plan"), "=", Lit("pro", True)),
        ),
    ),
    "attr.score >= 3 and created_at >= 2026-01-01": Bool(
        "and",
        (
            Compare(Field("attr", "score"), ">=", Lit(3, False)),
            Compare(Field("created_at"), ">=", Lit(date(2026, 1, 1), False)),
        ),
    ),
    'email ends_with "@example.org" and timezone = "Europe/Paris"': Bool(
        "and",
        (
            Compare(Field("email"), "ends_with", Lit("@example.org", True)),
            Compare(Field("timezone"), "=", Lit("Europe/Paris", True)),
        ),
    ),
}


@pytest.mark.parametrize("expr", sorted(INTERFACE_EXAMPLES))
def test_the_examples_of_the_interface_parse(expr: str) -> None:
    assert parse(expr) == INTERFACE_EXAMPLES[expr]


def test_the_examples_are_the_ones_the_interface_gives() -> None:
    text = shared_file("interface.md").read_text()
    section = text.split("## Segment expressions", 1)[1].split("```")[1]
    assert [line for line in section.splitlines() if line.strip()] == list(INTERFACE_EXAMPLES)


@pytest.mark.parametrize(
    ("expr", "column", "words"),
    [
        ("", 1, "empty expression"),
        ('attr.plan = "pro" and', 22, "expected a field name"),
        ("attr.plan = ", 13, 'expected a value after "="'),
        ('tags has "x" and attr.plan = ', 30, 'expected a value after "="'),
        ('colour = "red"', 1, 'unknown field "colour"'),
        ('email "x"', 7, "expected an operator after email"),
        ('name = "unterminated', 8, "unterminated string"),
        ("name = 3", 8, "quoted string"),
        ('tags = "x"', 6, 'tags takes "has"'),
        ("tags has 3", 10, "quoted name"),
        ('email has "x"', 7, '"has" only works on tags and lists'),
        ('(tags has "x"', 14, 'expected ")" to close the "(" at column 1'),
        ('tags has "x")', 13, 'expected "and", "or" or the end'),
        ("created_at > 2026-13-01", 14, "not a valid date"),
        ('created_at contains "2026"', 12, "compare it with a date"),
        ('created_at = "soon"', 14, "compares with a date"),
        ('attr.plan in "pro"', 14, 'expected "(" after "in"'),
        ('attr.plan in ("a" "b")', 19, 'expected "," or ")"'),
        ("attr = 1", 6, 'expected "." and a key'),
        ("attr.score ~ 3", 12, "unexpected character '~'"),
        ("attr.city contains 3", 20, '"contains" takes a quoted string'),
    ],
)
def test_errors_name_the_column(expr: str, column: int, words: str) -> None:
    with pytest.raises(SegmentError) as caught:
        parse(expr)
    assert caught.value.column == column
    assert words in str(caught.value)
    assert str(caught.value).startswith(f"segment: column {column}: ")


def test_reference_evaluator() -> None:
    ann = Record(
        email="ann@example.org",
        name="Ann",
        timezone="Europe/Paris",
        created_at=datetime(2026, 3, 1, 23, 59, tzinfo=UTC),
        tags=frozenset({"investors"}),
        lists=frozenset({"Weekly"}),
        attrs={"score": 4, "zip": "01234", "plan": "pro", "vip": True},
    )
    matches = {
        'tags has "investors" and attr.score >= 3': True,
        "attr.score > 4": False,
        'attr.score = "4"': True,  # a quoted number still compares with a number
        'attr.zip = "01234"': True,
        "attr.zip = 1234": False,  # text never equals a number
        'attr.missing != "x"': False,  # a missing attribute never matches ...
        'not attr.missing = "x"': True,  # ... so its negation does
        'attr.vip = "true"': False,  # neither number nor text
        "created_at = 2026-03-01": True,
        "created_at > 2026-03-01": False,
        'lists has "weekly"': True,
        'email ends_with "@example.org" and name starts_with "A"': True,
        'name contains "%"': False,
        'timezone in ("Asia/Tokyo", "Europe/Paris")': True,
    }
    for expr, expected in matches.items():
        assert evaluate(parse(expr), ann) is expected, expr


@pytest.mark.parametrize("op", ["<", "<=", ">", ">="])
@pytest.mark.parametrize("field", ["email", "name", "attr.city"])
def test_text_order_on_postgresql_is_code_point_order_whatever_the_database_locale(
    field: str, op: str
) -> None:
    # The test cluster's locale is C, so only the statement shows it: under en_US "b" < "B".
    from sqlalchemy.dialects import postgresql

    from subscribers.segments import compile_segment

    sql = str(compile_segment(f'{field} {op} "m"').compile(dialect=postgresql.psycopg.dialect()))
    assert 'COLLATE "C"' in sql


def test_text_equality_on_postgresql_needs_no_collation() -> None:
    from sqlalchemy.dialects import postgresql

    from subscribers.segments import compile_segment

    sql = str(compile_segment('attr.city = "m"').compile(dialect=postgresql.psycopg.dialect()))
    assert "COLLATE" not in sql

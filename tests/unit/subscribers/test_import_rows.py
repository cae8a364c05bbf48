"""parse_record's short ways (plain cells, words, short integers) agree with the long ones."""

from __future__ import annotations

import json

import pytest

from subscribers.errors import SubscriberError
from subscribers.formulas import neutralise, restore
from subscribers.import_pg_load import _json
from subscribers.import_rows import parse_record
from subscribers.numbers import parse_number

NAMES = ["email", "name", "tags", "score"]
TRICKY = [
    "0", "7", "007", "-5", "+5", "3.50", "1e3", "999999999999999", "9007199254740993",
    "12345678901234567890", "١٢٣", "²", "FR", "ß", "x1", "1x", "-", "'=1+2", "'007", "'",
    "=SUM(A1)", "NaN", "inf", "1_000",
]  # fmt: skip


@pytest.mark.parametrize("cell", TRICKY)
def test_an_attribute_reads_as_parse_number_and_restore_say(cell: str) -> None:
    row = parse_record(2, NAMES, ["a@example.com", "", "", f"  {cell} "])
    value = restore(cell)
    number = parse_number(value)
    assert row.attrs == {"score": value if number is None else number}
    assert type(row.attrs["score"]) is type(value if number is None else number)


def test_guarded_core_cells_and_tags_come_back_as_written() -> None:
    name = "=HYPERLINK(x)"
    row = parse_record(3, NAMES, [" A@Example.com ", neutralise(name), " VIP; press;;", ""])
    assert (row.email, row.email_norm, row.name) == ("A@Example.com", "a@example.com", name)
    assert row.tags == {"vip", "press"} and row.attrs == {} and row.line == 3


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        (["a@example.com", "x", ""], "3 fields, but the header has 4"),
        (["a@example.com", "x\x00", "", ""], "column 2 holds a NUL character"),
        (["", "x", "", ""], "missing email"),
        (["a@example.com", "", "t" * 101, ""], "tag longer than 100 characters"),
    ],
)
def test_bad_records_say_what_is_wrong(fields: list[str], reason: str) -> None:
    with pytest.raises(SubscriberError, match=reason):
        parse_record(4, NAMES, fields)


@pytest.mark.parametrize(
    "attrs",
    [{"plan": "pro", "score": 7}, {"k": 'é"\\\n\u2028 x', "f": 1.5e300, "z": -0.0, "n": 2**53}],
)
def test_attributes_go_to_copy_as_json_dumps_writes_them(attrs: dict[str, object]) -> None:
    assert _json(attrs) == json.dumps(attrs, ensure_ascii=False)
    assert json.loads(_json(attrs)) == attrs


def test_a_long_tag_is_named_in_the_error() -> None:
    with pytest.raises(SubscriberError, match="tag longer than 100 characters: 'yyyy"):
        parse_record(5, NAMES, ["a@example.com", "", "ok;" + "y" * 101 + ";" + "z" * 101, ""])

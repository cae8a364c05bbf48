"""Reading a subscriber CSV as a stream: UTF-8 check, delimiter sniffing, numbered records."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from subscribers.errors import SubscriberError
from subscribers.formulas import neutralise, restore

DELIMITERS = (",", ";", "\t")
_CHUNK = 1 << 20
_ALIASES = {"e-mail": "email", "email address": "email", "email_address": "email"}
csv.field_size_limit(1 << 20)  # one field may be long, but a runaway quote must stop somewhere


@dataclass(frozen=True)
class Header:
    """The header row: names as written, normalised (trimmed, lower-case) and the delimiter."""

    raw: list[str]
    names: list[str]
    delimiter: str


def check_utf8(path: Path) -> None:
    """Refuse a file that is not UTF-8, naming the line and byte of the first bad byte."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    offset = lines = 0
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                position = offset + exc.start
                line = lines + chunk.count(b"\n", 0, exc.start) + 1
                raise SubscriberError(
                    f"{path}: line {line} (byte {position + 1}): not UTF-8 (byte "
                    f"0x{chunk[exc.start]:02x}); save the file as UTF-8 and import it again"
                ) from None
            offset += len(chunk)
            lines += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise SubscriberError(f"{path}: the file ends inside a UTF-8 character") from None


def sniff_delimiter(first_line: str) -> str:
    """The delimiter the header row uses most, outside quotes; a comma when there is none."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in first_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])  # ties keep the order of DELIMITERS
    return best if counts[best] else ","


Records = Iterator[tuple[int, list[str]]]


def read_header(path: Path, stream: io.TextIOWrapper) -> tuple[Header, Records]:
    """Read the header row and return it with an iterator of (line number, fields) records."""
    first = stream.readline()
    if not first.strip():
        raise SubscriberError(f"{path}: line 1: a header row is required (email, name, tags, …)")
    delimiter = sniff_delimiter(first)
    raw = next(csv.reader([first], delimiter=delimiter))
    names = [_normalise(restore(name.strip())) for name in raw]
    _check_header(path, names)
    return Header(raw, names, delimiter), _records(path, stream, delimiter)


def _normalise(name: str) -> str:
    name = name.strip().lower()
    return _ALIASES.get(name, name)


def _check_header(path: Path, names: list[str]) -> None:
    if "email" not in names:
        found = ", ".join(repr(n) for n in names[:8])
        raise SubscriberError(
            f"{path}: line 1: the header row needs an 'email' column (found {found})"
        )
    seen: set[str] = set()
    for index, name in enumerate(names, start=1):
        bad = '"' in name or "\\" in name
        if name and (name in seen or bad):
            what = "appears twice" if name in seen else "cannot be a column name"
            raise SubscriberError(f"{path}: line 1: column {index} {name!r} {what}")
        seen.add(name)


def _records(path: Path, stream: io.TextIOWrapper, delimiter: str) -> Records:
    """Non-blank records with the line each starts on (a quoted field may span lines)."""
    reader = csv.reader(stream, delimiter=delimiter, quotechar='"', doublequote=True, strict=False)
    line = 1
    while True:
        start = line + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise SubscriberError(f"{path}: line {start}: unreadable CSV ({exc})") from None
        line = reader.line_num + 1  # reader counts from the line after the header
        # a blank record is skipped; most records show it by their first field already
        if (fields and fields[0].strip()) or any(field.strip() for field in fields):
            yield start, fields


def open_text(path: Path) -> tuple[BinaryIO, io.TextIOWrapper]:
    """The binary stream (for progress) and a text view of it that drops a UTF-8 BOM."""
    binary = path.open("rb")
    return binary, io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")


class RejectedFile:
    """`FILE.rejected.csv`: each refused record with its line number, reason and fields.

    Opened on the first refusal; a stale file from an earlier run is removed when nothing
    is refused this time, so the file on disk always belongs to the last import.
    """

    def __init__(self, path: Path, header: Header) -> None:
        self.path = path
        self.header = header
        self.count = 0
        self._out: io.TextIOWrapper | None = None
        self._writer: Any = None

    def add(self, line: int, reason: str, fields: list[str]) -> None:
        if self._out is None:
            self._out = self.path.open("w", encoding="utf-8", newline="")
            self._writer = csv.writer(self._out)
            self._writer.writerow(["line", "reason", *map(neutralise, self.header.raw)])
        self._writer.writerow([line, neutralise(reason), *map(neutralise, fields)])
        self.count += 1

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
        elif self.path.exists():
            self.path.unlink()


def rejected_path(path: Path) -> Path:
    """`people.csv` -> `people.rejected.csv`."""
    stem = path.name[:-4] if path.name.lower().endswith(".csv") else path.name
    return path.with_name(f"{stem}.rejected.csv")

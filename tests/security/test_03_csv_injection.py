"""3. Spreadsheet formulas never come out live in CSV files, and import back unchanged."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from sqlalchemy import Engine

from subscribers.db import transaction
from subscribers.exporter import export_csv
from subscribers.importer import import_csv
from subscribers.store import find_subscriber

FORMULA = '=HYPERLINK("http://e.vil/?x","click")'
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def _export(engine: Engine) -> list[dict[str, str]]:
    out = io.StringIO()
    export_csv(engine, out)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def _live(cell: str) -> bool:
    return cell.lstrip(" ").startswith(DANGEROUS)


def test_export_neutralises_formulas_and_import_reads_them_back(
    engine: Engine, workdir: Path
) -> None:
    path = workdir / "in.csv"
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["email", "name", "city", "cmd", "score"])
        writer.writerow(["ann@example.com", FORMULA, "+33 1 2", "@SUM(A1)", "-5"])
    assert import_csv(engine, path).added == 1
    rows = _export(engine)
    assert not any(_live(cell) for row in rows for cell in row.values())
    exported = workdir / "out.csv"
    with exported.open("w", newline="", encoding="utf-8") as stream:
        export_csv(engine, stream)
    with transaction(engine) as session:
        session.delete(find_subscriber(session, "ann@example.com"))
    assert import_csv(engine, exported).added == 1
    with transaction(engine) as session:
        ann = find_subscriber(session, "ann@example.com")
        assert ann is not None and ann.name == FORMULA
        assert ann.attrs == {"city": "+33 1 2", "cmd": "@SUM(A1)", "score": -5}


def test_tab_prefixed_formula_is_neutralised_too(engine: Engine, workdir: Path) -> None:
    path = workdir / "in.csv"
    path.write_text("email,name\nann@example.com,\"\t=cmd|' /C calc'!A0\"\n", encoding="utf-8")
    import_csv(engine, path)
    [row] = _export(engine)
    assert not _live(row["name"]) and row["name"].endswith("=cmd|' /C calc'!A0")


def test_rejected_rows_file_echoes_no_live_formula(engine: Engine, workdir: Path) -> None:
    path = workdir / "in.csv"
    path.write_text("email,name\n=1+1,@evil\n", encoding="utf-8")
    result = import_csv(engine, path)
    assert result.rejected == 1 and result.rejected_file is not None
    with open(result.rejected_file, encoding="utf-8", newline="") as stream:
        rows = list(csv.reader(stream))
    assert not any(_live(cell) for row in rows for cell in row)

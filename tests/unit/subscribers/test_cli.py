"""The subscriber commands as a user types them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from mailer.cli import main  # noqa: F401  (attaches every command)
from mailer.cli.apps import app
from mailer.core.settings import Settings

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_import_count_show_unsubscribe_export(settings: Settings, workdir: Path) -> None:
    (workdir / "people.csv").write_text(
        "email,name,tags,country\n"
        "ann@example.com,Ann,investors,FR\n"
        "bob@example.com,Bob,investors,DE\n"
        "oops,Bad,,\n"
    )
    code, _, err = run("subscribers", "import", "people.csv", "--list", "weekly")
    assert (code, err) == (
        1,
        "error: no list named 'weekly': there are no lists yet (newsletter lists create NAME)\n",
    )
    code, out, _ = run(
        "subscribers", "import", "people.csv", "--list", "weekly", "--create-list", "--json"
    )
    assert code == 0
    assert json.loads(out) == {
        "rows": 3,
        "added": 2,
        "updated": 0,
        "unchanged": 0,
        "rejected": 1,
        "rejected_file": "people.rejected.csv",
        "duplicates": 0,
        "status_kept": 0,
    }
    code, out, _ = run("subscribers", "import", "people.csv")
    assert code == 0 and "3 rows: 0 added, 0 updated, 2 unchanged, 1 rejected" in out
    assert "people.rejected.csv" in out

    expr = 'tags has "investors" and attr.country = "FR"'
    code, out, _ = run("segment", "count", expr, "--list", "weekly", "--json")
    assert (code, json.loads(out)["count"]) == (0, 1)

    code, out, _ = run("subscribers", "show", "ANN@example.com", "--json")
    shown = json.loads(out)
    assert (shown["status"], shown["lists"], shown["attrs"]) == (
        "active",
        {"weekly": "subscribed"},
        {"country": "FR"},
    )
    assert run("subscribers", "unsubscribe", "ann@example.com")[0] == 0
    assert json.loads(run("lists", "--json")[1]) == [
        {"name": "weekly", "active": 1, "count": 1, "public": True}
    ]
    assert run("segment", "count", expr, "--list", "weekly")[1].strip() == "0"

    code, _, err = run("subscribers", "export", "--list", "weekly", "--out", "out.csv")
    assert code == 0 and "1 subscriber written" in err  # ann left every list
    assert (workdir / "out.csv").read_text().splitlines()[
        0
    ] == "email,name,tags,timezone,status,country"


def test_add_and_show(settings: Settings) -> None:
    code, out, _ = run(
        "subscribers",
        "add",
        "Cat@Example.com",
        "--name",
        "Cat",
        "--list",
        "daily",
        "--tag",
        "a",
        "--tag",
        "B",
    )
    assert code == 0 and out.strip() == "added Cat@Example.com (active)"
    code, out, _ = run("subscribers", "show", "cat@example.com")
    assert code == 0 and "Cat@Example.com" in out and "a, b" in out
    assert run("subscribers", "add", "cat@example.com", "--tag", "c")[1].startswith("updated")


def test_errors_are_one_line_and_exit_1(settings: Settings, workdir: Path) -> None:
    code, _, err = run("segment", "count", "attr.plan = ")
    assert code == 1
    assert err == 'error: segment: column 13: expected a value after "=", not the end\n'
    code, _, err = run("subscribers", "export", "--segment", "colour = 1")
    assert code == 1 and err.startswith("error: segment: column 1: unknown field")
    assert run("segment", "count", 'tags has "x"', "--list", "nope")[2] == (
        "error: no list named 'nope': there are no lists yet (newsletter lists create NAME)\n"
    )
    assert run("subscribers", "show", "ghost@example.com")[0] == 1
    assert run("subscribers", "add", "not-an-email")[2].startswith("error: invalid email")
    code, _, err = run("subscribers", "import", "missing.csv")
    assert code == 1 and "missing.csv: no such file" in err
    (workdir / "latin.csv").write_bytes("email\nb\xe9a@example.com\n".encode("latin-1"))
    code, _, err = run("subscribers", "import", "latin.csv")
    assert code == 1 and "line 2 (byte 8): not UTF-8" in err

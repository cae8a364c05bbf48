"""`newsletter lists` and `lists create|rename|edit|delete`, as an editor types them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from mailer.cli.main import app
from mailer.core.settings import Settings

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout.strip(), result.stderr.strip()


def test_create_rename_edit_delete(settings: Settings, workdir: Path) -> None:
    assert run("lists", "create", "weekly", "--title", "The Weekly") == (
        0, "created public list weekly", ""
    )  # fmt: skip
    assert run("lists", "create", "staff", "--private")[1] == "created private list staff"
    assert run("lists", "create", "Weekly")[2] == "error: a list named 'Weekly' already exists"
    assert run("lists", "create", "two words")[2].startswith(
        "error: a list name needs 1 to 100 characters without spaces"
    )
    assert run("lists", "rename", "weekly", "monday")[1] == "renamed list weekly to monday"
    assert run("lists", "rename", "nope", "x")[2] == (
        "error: no list named 'nope': the lists are monday, staff"
    )
    assert run("lists", "edit", "staff", "--public")[1] == "list staff: public, title ''"
    listed = json.loads(run("lists", "--json")[1])
    assert [(row["name"], row["public"], row["active"]) for row in listed] == [
        ("monday", True, 0),
        ("staff", True, 0),
    ]
    (workdir / "p.csv").write_text("email\nann@example.com\n")
    assert run("subscribers", "import", "p.csv", "--list", "staff")[0] == 0
    deleted = run("lists", "delete", "staff")
    assert deleted == (0, "deleted list staff (1 membership(s) removed)", "")
    assert run("subscribers", "show", "ann@example.com")[0] == 0  # the person stays
    assert "monday" in run("lists")[1]


def test_import_refuses_an_unknown_list_naming_the_existing_ones(
    settings: Settings, workdir: Path
) -> None:
    run("lists", "create", "weekly")
    (workdir / "p.csv").write_text("email\nann@example.com\n")
    assert run("subscribers", "import", "p.csv", "--list", "weekyl") == (
        1, "", "error: no list named 'weekyl': the lists are weekly"
    )  # fmt: skip
    assert run("subscribers", "import", "p.csv", "--list", "daily", "--create-list")[0] == 0
    assert [row["name"] for row in json.loads(run("lists", "--json")[1])] == ["daily", "weekly"]

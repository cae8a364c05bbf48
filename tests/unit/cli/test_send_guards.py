"""`newsletter send` as an editor types it: the guards, their messages and the feedback."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mailer.cli import send_create_cmds
from mailer.cli.main import app
from mailer.core.settings import Settings
from mailer.tasks.app import worker_settings

ISSUE = "---\nsubject: Weekly\npreheader: P\n---\nHello [there](https://a.example/).\n"


@pytest.fixture
def runner(
    settings: Settings, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[CliRunner]:
    worker_settings.cache_clear()  # in-process tasks read this test's environment
    monkeypatch.setenv("POSTAL_ADDRESS", "1 Test Street, 75001 Paris, France")
    monkeypatch.setenv("NEWSLETTER_TIMEZONE", "Europe/Paris")
    (workdir / "issue.md").write_text(ISSUE, encoding="utf-8")
    (workdir / "people.csv").write_text(
        "email,timezone,country\nann@example.com,Asia/Tokyo,FR\nbob@example.com,,DE\n"
    )
    runner = CliRunner()
    args = ["subscribers", "import", "people.csv", "--list", "weekly", "--create-list"]
    assert runner.invoke(app, args).exit_code == 0
    yield runner
    worker_settings.cache_clear()


def test_a_send_now_asks_on_a_terminal_and_refuses_without_one(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = runner.invoke(app, ["send", "issue.md", "--list", "weekly"])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: this send goes out now to 2 people: add --yes to confirm (there is no "
        "terminal to ask on), or --at to schedule it"
    )
    monkeypatch.setattr(send_create_cmds, "is_terminal", lambda: True)
    result = runner.invoke(app, ["send", "issue.md", "--list", "weekly"], input="n\n")
    assert result.exit_code == 1
    assert "Send to 2 people now? [y/N]" in result.stderr
    assert "error: not sent: nothing was stored" in result.stderr
    assert json.loads(runner.invoke(app, ["sends", "--json"]).stdout) == []
    result = runner.invoke(app, ["send", "issue.md", "--list", "weekly"], input="y\n")
    assert result.exit_code == 0, result.output
    assert "starting now: 2 subscribers match now" in result.stderr


def test_the_same_issue_twice_needs_again_and_stdin_works(runner: CliRunner) -> None:
    assert runner.invoke(app, ["send", "issue.md", "--list", "weekly", "--yes"]).exit_code == 0
    again = runner.invoke(app, ["send", "-", "--list", "weekly", "--yes"], input=ISSUE)
    assert again.exit_code == 1
    assert "error: this issue was already sent to list 'weekly' (send 1, " in again.stderr
    assert again.stderr.strip().endswith("add --again to send it once more")
    args = ["send", "-", "--list", "weekly", "--yes", "--again"]
    assert runner.invoke(app, args, input=ISSUE).stdout.strip() == "2"


def test_an_empty_audience_and_an_unknown_list_are_refused(runner: CliRunner) -> None:
    args = ["send", "issue.md", "--list", "weekly", "--segment", 'attr.country = "US"', "--yes"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: nobody would receive this send: no active")
    result = runner.invoke(app, ["send", "issue.md", "--list", "weekyl", "--yes"])
    assert result.stderr.strip() == "error: list 'weekyl' does not exist: the lists are weekly"


@pytest.mark.parametrize(
    ("extra", "dropped"),
    [
        (["--at", "monday 08:00"], "--at"),
        (["--segment", 'tags has "x"'], "--segment"),
        (["--list", "weekly"], "--list"),
    ],
)
def test_test_to_refuses_audience_and_time_options(
    runner: CliRunner, extra: list[str], dropped: str
) -> None:
    result = runner.invoke(app, ["send", "issue.md", "--test-to", "me@example.net", *extra])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"error: --test-to sends test copies now, to those addresses only: drop {dropped}"
    )


def test_test_to_takes_several_addresses(runner: CliRunner, workdir: Path) -> None:
    args = ["send", "issue.md", "--test-to", "me@example.net", "--test-to", "you@example.net"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "test copy sent to me@example.net, you@example.net" in result.stderr
    assert len(list((workdir / "var" / "outbox").glob("*.eml"))) == 2


def test_scheduling_prints_the_time_in_the_newsletter_zone_and_utc(runner: CliRunner) -> None:
    at = "2099-06-01T08:00"
    result = runner.invoke(app, ["send", "issue.md", "--list", "weekly", "--at", at])
    assert result.exit_code == 0, result.output
    assert (
        "send 1 scheduled for Mon 2099-06-01 08:00 Europe/Paris (06:00 UTC): "
        "2 subscribers match now"
    ) in result.stderr


def test_local_time_prints_first_and_last_delivery(runner: CliRunner) -> None:
    args = ["send", "issue.md", "--list", "weekly", "--at", "2099-06-01T08:00", "--local-time"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (
        "delivers at Mon 2099-06-01 08:00 in each reader's timezone: first Mon 2099-06-01 "
        "01:00 Europe/Paris (Sun 2099-05-31 23:00 UTC) for Asia/Tokyo, last Mon 2099-06-01 "
        "08:00 Europe/Paris (06:00 UTC) for Europe/Paris"
    ) in " ".join(result.stderr.split())


def test_segment_warnings_name_the_closest_attribute_and_tag(runner: CliRunner) -> None:
    args = ["send", "issue.md", "--list", "weekly", "--yes", "--segment", 'attr.countr = "FR"']
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "warning: segment: no subscriber of the list has the attribute in attr.countr "
        '(it matches nobody): did you mean "country"?'
    )
    assert runner.invoke(app, ["subscribers", "add", "ann@example.com", "--tag", "investors"])
    count = runner.invoke(app, ["segment", "count", 'tags has "investor"', "--list", "weekly"])
    assert (count.exit_code, count.stdout) == (0, "0\n")
    assert count.stderr == (
        'warning: segment: no subscriber of the list has the tag in tags has "investor" '
        '(it matches nobody): did you mean "investors"?\n'
    )
    fine = runner.invoke(app, ["segment", "count", 'attr.country = "FR"', "--list", "weekly"])
    assert (fine.stdout, fine.stderr) == ("1\n", "")


def test_status_and_sends_show_when_and_the_audience(runner: CliRunner) -> None:
    at = ["--at", "2099-06-01T08:00"]
    assert runner.invoke(app, ["send", "issue.md", "--list", "weekly", *at]).exit_code == 0
    status = runner.invoke(app, ["status", "1"]).stdout
    assert (
        "goes out: Mon 2099-06-01 08:00 Europe/Paris (06:00 UTC); audience: 2 match now"
    ) in " ".join(status.split())
    local = ["send", "issue.md", "--list", "weekly", *at, "--local-time", "--again"]
    assert runner.invoke(app, local).exit_code == 0
    status = runner.invoke(app, ["status", "2"]).stdout
    assert "goes out: Mon 2099-06-01 08:00 in each reader's timezone" in " ".join(status.split())
    listed = json.loads(runner.invoke(app, ["sends", "--json"]).stdout)
    assert [(row["audience"], row["local_time"], row["wall_time"]) for row in listed] == [
        (2, True, "2099-06-01T08:00:00"),
        (2, False, None),
    ]
    table = runner.invoke(app, ["sends"], env={"COLUMNS": "250"}).stdout
    assert "in each reader's timezone" in table and "(06:00 UTC)" in table


def test_the_documented_compose_command_works(runner: CliRunner) -> None:
    """docs/production.md's `docker-compose exec -T web newsletter send - ... < FILE`, run here."""
    docs = Path(__file__).resolve().parents[3] / "docs" / "production.md"
    line = next(line for line in docs.read_text().splitlines() if "newsletter send - " in line)
    assert line.startswith("docker-compose exec -T web newsletter send - ")
    command, _, _ = line.partition(" < ")
    args = shlex.split(command.split(" newsletter ", 1)[1])
    result = runner.invoke(app, args, input=ISSUE)
    assert result.exit_code == 0, result.output
    assert "scheduled for " in result.stderr and " Europe/Paris (" in result.stderr


def test_lint_errors_stop_a_send(runner: CliRunner, workdir: Path) -> None:
    broken = ISSUE.replace("(https://a.example/)", "(ftp://a.example/)")
    (workdir / "broken.md").write_text(broken, encoding="utf-8")
    result = runner.invoke(app, ["send", "broken.md", "--list", "weekly", "--yes"])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: broken.md:5: link 'ftp://a.example/' is not http(s) or mailto: it will not work "
        "in an email; write the full address, https://... (fix these before sending)"
    )
    assert json.loads(runner.invoke(app, ["sends", "--json"]).stdout) == []

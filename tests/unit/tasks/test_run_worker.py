"""`newsletter worker` execs mailer.tasks.run_worker: Celery's worker with only what it needs."""

from __future__ import annotations

import socket
import sys

import pytest
from typer.testing import CliRunner

from mailer.cli.main import app
from mailer.tasks.run_worker import parse, worker_options
from tests.fixtures.probe import fresh_interpreter

# What Celery's and newsletter's own command lines import and a worker never uses.
CLI_ONLY = ("celery.bin", "click_repl", "prompt_toolkit", "pygments", "typer", "rich")
PROBE = """
import json, sys
import mailer.tasks.run_worker
print(json.dumps(sorted(m for m in sys.modules if m.startswith({cli_only}))))
"""


def test_the_worker_entry_imports_no_command_line_machinery() -> None:
    code = PROBE.replace("{cli_only}", repr(CLI_ONLY))
    assert fresh_interpreter(code) == []


def test_options_become_what_celerys_worker_command_would_pass() -> None:
    args = parse(["-Q", "sends, events", "--pool", "solo", "-n", "w1@%h", "--without-gossip"])
    options = worker_options(args)
    assert options["hostname"] == f"w1@{socket.gethostname()}"
    assert options["queues"] == ["sends", "events"]
    assert (options["pool_cls"], options["concurrency"], options["loglevel"]) == ("solo", 2, "INFO")
    assert options["without_gossip"] is True and options["without_mingle"] is False


def test_newsletter_worker_execs_the_entry_with_its_options(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://localhost:1/0")
    calls: list[tuple[str, list[str]]] = []
    monkeypatch.setattr("os.execv", lambda path, argv: calls.append((path, argv)))
    result = CliRunner().invoke(
        app, ["worker", "--queues", "sends", "--pool", "solo", "--hostname", "w1@%h"]
    )
    assert result.exit_code == 0, result.output
    [(path, argv)] = calls
    assert path == sys.executable
    assert argv[1:] == [
        "-m",
        "mailer.tasks.run_worker",
        "-Q",
        "sends",
        "--concurrency",
        "2",
        "--pool",
        "solo",
        "--hostname",
        "w1@%h",
    ]

"""`newsletter --help` and `newsletter status ID` start fast: the heavy libraries are imported
by the commands that need them, never at start-up. Asserted on the import graph, not on time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from mailer.core.settings import Settings

HEAVY = ("sqlalchemy", "alembic", "celery", "mjml", "premailer", "fastapi", "sendgrid", "uvicorn")
PROBE = """
import json, sys
sys.argv = ["newsletter", *json.loads(sys.argv[1])]
from mailer.cli.main import main
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in {heavy})))
"""


def loaded(args: list[str], cwd: Path) -> list[str]:
    """The heavy top-level packages a `newsletter ARGS` run imported."""
    code = PROBE.replace("{heavy}", repr(set(HEAVY)))
    result = subprocess.run(
        [sys.executable, "-c", code, json.dumps(args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return sorted({name.split(".")[0] for name in json.loads(result.stdout.splitlines()[-1])})


def test_help_imports_none_of_the_heavy_libraries(workdir: Path) -> None:
    assert loaded(["--help"], workdir) == []
    assert loaded(["send", "--help"], workdir) == []


def test_status_imports_only_sqlalchemy(settings: Settings, workdir: Path) -> None:
    # A migrated database (the `settings` fixture's): only a new one needs Alembic.
    assert loaded(["status", "1"], workdir) == ["sqlalchemy"]

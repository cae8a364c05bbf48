"""Where an issue comes from on the command line: a file, or standard input for `-`."""

from __future__ import annotations

import sys
from pathlib import Path

from mailer.core.errors import NewsletterError

STDIN = "-"
STDIN_SOURCE = "<stdin>"


def read_issue(issue: str) -> tuple[str, str]:
    """(text, source name) of ISSUE, or of standard input for `-` (e.g. `docker exec -i`)."""
    if issue == STDIN:
        return sys.stdin.read(), STDIN_SOURCE
    path = Path(issue)
    try:
        return path.read_text(encoding="utf-8"), issue
    except OSError as exc:
        raise NewsletterError(f"{issue}: cannot read the issue: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise NewsletterError(f"{issue}: not UTF-8 text ({exc.reason})") from exc


def stem(source: str) -> str:
    """The output file name for an issue: the file's stem, `issue` for standard input."""
    return "issue" if source == STDIN_SOURCE else Path(source).stem


def base_dir(source: str) -> Path | None:
    """Where the issue's local images are looked up: beside the file (none for stdin)."""
    return None if source == STDIN_SOURCE else Path(source).parent

"""Stored issues: rendered on save, versioned, audited; a send copies the rendering."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from mailer.accounts import audit
from mailer.accounts.principal import Principal, Role, cli_principal
from mailer.core.errors import Conflict, NewsletterError, NotFound
from mailer.core.models import Send
from mailer.core.settings import Settings
from mailer.issue.branding import Branding
from mailer.issue.parse import IssueError
from mailer.issue.store import MAX_MARKDOWN, create_issue, get_issue, replace_issue, save_draft
from mailer.sending.create import create_send, frozen_of
from subscribers.db import transaction
from subscribers.store import add_subscriber, get_or_create_list

ISSUE = "---\nsubject: Week {n}\ndate: 2026-11-30\n---\nHello.\n\n## News\nThings [happened](https://example.org/{n}).\n"


def test_create_renders_once_and_replace_checks_the_version(
    engine: Engine, settings: Settings
) -> None:
    brand = Branding.from_settings(settings)
    with transaction(engine) as session:
        row = create_issue(session, cli_principal(), ISSUE.format(n=1), brand)
        issue_id = row.id
    with transaction(engine) as session:
        row = get_issue(session, issue_id)
        assert (row.subject, row.version, row.slug) == ("Week 1", 1, "2026-11-30-week-1")
        assert "https://example.org/1" in row.html and row.size_bytes == len(row.html.encode())
        assert isinstance(row.warnings, list)
        replace_issue(session, cli_principal(), issue_id, ISSUE.format(n=2), brand, version=1)
    with transaction(engine) as session:
        with pytest.raises(Conflict, match="version 2, not 1"):
            replace_issue(session, cli_principal(), issue_id, ISSUE.format(n=3), brand, version=1)
        with pytest.raises(NotFound):
            get_issue(session, issue_id + 1)
        with pytest.raises(IssueError, match="subject"):
            create_issue(session, cli_principal(), "---\ndate: 2026-01-01\n---\nx\n", brand)
        viewer = Principal("token", 1, "reader", Role.VIEWER)
        with pytest.raises(NewsletterError, match="viewer"):
            create_issue(session, viewer, ISSUE.format(n=4), brand)
        actions = [line.action for line in audit.entries(session)]
    assert actions == ["issue.create", "issue.replace"]


def test_a_send_keeps_its_copy_when_the_draft_changes(engine: Engine, settings: Settings) -> None:
    brand = Branding.from_settings(settings)
    with transaction(engine) as session:
        row = create_issue(session, cli_principal(), ISSUE.format(n=1), brand)
        frozen = frozen_of(row)
        list_id = get_or_create_list(session, "weekly").id
        add_subscriber(session, "reader@example.com", list_names=["weekly"])  # nobody: refused
    now = datetime.now(UTC)
    send_id = create_send(engine, settings, frozen, list_id, None, None, False, now)
    with transaction(engine) as session:
        replace_issue(session, cli_principal(), row.id, ISSUE.format(n=2), brand)
    with transaction(engine) as session:
        send = session.get_one(Send, send_id)
        assert send.issue_id == row.id and send.subject == "Week 1"
        assert "https://example.org/1" in send.html


def test_save_draft_keeps_markdown_that_does_not_parse(engine: Engine, settings: Settings) -> None:
    brand, me = Branding.from_settings(settings), cli_principal()
    with transaction(engine) as session:
        new = save_draft(session, me, None, "---\nsubject: x\n", brand)  # never parsed yet
        assert (new.version, new.subject, new.html) == (1, "", "")
        assert new.parse_error is not None and new.parse_error.startswith("markdown:1:")
        with pytest.raises(NewsletterError, match=f"issue {new.id} does not parse"):
            frozen_of(new)
        row = save_draft(session, me, None, ISSUE.format(n=1), brand)
        broken = ISSUE.format(n=2).replace("subject:", "subjet:")
        save_draft(session, me, row.id, broken, brand, version=1)
        assert row.markdown == broken and row.version == 2 and row.subject == "Week 1"
        assert row.parse_error is not None and "subjet" in row.parse_error
        with pytest.raises(Conflict):
            save_draft(session, me, row.id, ISSUE.format(n=3), brand, version=1)
        with pytest.raises(NewsletterError, match="longer than"):
            save_draft(session, me, row.id, "x" * (MAX_MARKDOWN + 1), brand, version=2)
        viewer = Principal("token", 1, "reader", Role.VIEWER)
        with pytest.raises(NewsletterError, match="viewer"):
            save_draft(session, viewer, row.id, broken, brand, version=2)
        save_draft(session, me, row.id, ISSUE.format(n=3), brand, version=2)
        assert row.parse_error is None and row.subject == "Week 3" and frozen_of(row)
        details = [line.detail for line in audit.entries(session)]
    assert details.count("version=2 (does not parse)") == 1

"""Stored issues (drafts): created or replaced from Markdown, rendered once on every save.

The rendering, its warnings and its size are kept with the Markdown, so reading an issue never
renders it again. `version` grows on each save: a replace naming an older version is refused
(409), so two editors cannot overwrite each other unknowingly. A send copies the rendering
(mailer.sending.create.Frozen), so editing a draft never changes what already went out.
`save_draft` (the workspace's autosave) also keeps Markdown that does not parse, with the
reason in `parse_error`: an editor's text is never lost, and such a draft cannot be sent.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from mailer.accounts import audit
from mailer.accounts.principal import Principal, Role
from mailer.core.errors import Conflict, NewsletterError, NotFound
from mailer.core.models import StoredIssue
from mailer.issue.branding import Branding
from mailer.issue.parse import IssueError, parse_issue_text
from mailer.issue.render import render_issue

MAX_MARKDOWN = 512 * 1024


def _render_into(row: StoredIssue, markdown: str, branding: Branding, source: str) -> None:
    if len(markdown) > MAX_MARKDOWN:
        raise NewsletterError(f"markdown: longer than {MAX_MARKDOWN // 1024} KB")
    issue = parse_issue_text(markdown, source=source)
    rendered = render_issue(issue, branding)
    row.markdown = markdown
    row.subject, row.preheader, row.slug = rendered.subject, rendered.preheader, rendered.slug
    row.issue_date = issue.date.isoformat() if issue.date else None
    row.html, row.text = rendered.html, rendered.text
    row.warnings = list(rendered.warnings)
    row.size_bytes = len(rendered.html.encode("utf-8"))
    row.parse_error = None


def create_issue(
    session: Session, actor: Principal, markdown: str, branding: Branding, source_path: str = ""
) -> StoredIssue:
    """Parse, render and store a new issue; a parse error names the line (nothing stored)."""
    _need_editor(actor)
    row = StoredIssue(version=1, source_path=source_path, created_by=actor.name)
    _render_into(row, markdown, branding, source_path or "markdown")
    row.updated_by = actor.name
    session.add(row)
    session.flush()
    audit.record(session, actor, "issue.create", f"issue {row.id}", row.subject[:200])
    return row


def create_issue_from_file(
    session: Session, actor: Principal, path: Path, branding: Branding
) -> StoredIssue:
    """`newsletter send ISSUE.md` keeps the issue too, so every send names a stored issue."""
    try:
        markdown = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise IssueError(f"{path}: cannot read the issue: {exc}") from exc
    return create_issue(session, actor, markdown, branding, source_path=str(path))


def replace_issue(
    session: Session,
    actor: Principal,
    issue_id: int,
    markdown: str,
    branding: Branding,
    version: int | None = None,
) -> StoredIssue:
    """New Markdown for an issue; refused when `version` is given and is not the current one."""
    row = _current(session, actor, issue_id, version)
    _render_into(row, markdown, branding, "markdown")
    return _saved(session, actor, row)


def save_draft(
    session: Session,
    actor: Principal,
    issue_id: int | None,
    markdown: str,
    branding: Branding,
    version: int | None = None,
) -> StoredIssue:
    """Create or replace like the two above, but Markdown that does not parse is stored too
    (with `parse_error` set; the last rendering that worked stays) instead of refused."""
    if len(markdown) > MAX_MARKDOWN:
        raise NewsletterError(f"markdown: longer than {MAX_MARKDOWN // 1024} KB")
    try:
        if issue_id is None:
            return create_issue(session, actor, markdown, branding)
        return replace_issue(session, actor, issue_id, markdown, branding, version)
    except IssueError as exc:
        problem = str(exc)
    if issue_id is None:
        row = StoredIssue(version=0, created_by=actor.name, subject="", slug="", html="", text="")
        session.add(row)
    else:
        row = _current(session, actor, issue_id, version)
    row.markdown, row.parse_error = markdown, problem
    return _saved(session, actor, row)


def _current(session: Session, actor: Principal, issue_id: int, version: int | None) -> StoredIssue:
    _need_editor(actor)
    row = get_issue(session, issue_id)
    if version is not None and version != row.version:
        raise Conflict(f"version: issue {issue_id} is at version {row.version}, not {version}")
    return row


def _saved(session: Session, actor: Principal, row: StoredIssue) -> StoredIssue:
    """A new version of `row`, audited (a first save is version 1, an "issue.create")."""
    row.version += 1
    row.updated_by, row.updated_at = actor.name, datetime.now(UTC)
    session.flush()
    action = "issue.create" if row.version == 1 else "issue.replace"
    detail = f"version={row.version}" + (" (does not parse)" if row.parse_error else "")
    audit.record(session, actor, action, f"issue {row.id}", detail)
    return row


def get_issue(session: Session, issue_id: int) -> StoredIssue:
    row = session.get(StoredIssue, issue_id)
    if row is None:
        raise NotFound(f"issue {issue_id} does not exist")
    return row


def _need_editor(actor: Principal) -> None:
    if not actor.allows(Role.EDITOR):
        raise NewsletterError(f"role {actor.role} cannot write issues")

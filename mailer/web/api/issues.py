"""/api/v1/issues: stored issues from Markdown, their rendered email, test copies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse

from mailer.accounts.principal import Principal, Role
from mailer.core.models import StoredIssue
from mailer.issue.branding import Branding
from mailer.issue.store import create_issue, get_issue, replace_issue
from mailer.sending.create import web_copy
from mailer.transport.factory import make_transport
from mailer.web.api.auth import api_principal
from mailer.web.api.schemas import (
    IssueFull,
    IssueIn,
    IssueOut,
    IssueReplace,
    TestCopy,
    TestIn,
    TestOut,
)
from mailer.web.deps import web
from mailer.workspace import sends
from subscribers.db import transaction

router = APIRouter()
Viewer = Annotated[Principal, Depends(api_principal(Role.VIEWER))]
Editor = Annotated[Principal, Depends(api_principal(Role.EDITOR))]
IssueId = Annotated[int, Path(ge=1, le=2_147_483_647)]
# The email is shown as data, never as a page of this site: nothing in it may run or load.
EMAIL_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:"


def _out(row: StoredIssue) -> IssueOut:
    fields = {name: getattr(row, name) for name in IssueOut.model_fields}
    return IssueOut(**fields)


@router.post("/issues", response_model=IssueOut, status_code=201)
def post_issue(request: Request, body: IssueIn, who: Editor) -> IssueOut:
    app = web(request)
    with transaction(app.engine) as session:
        row = create_issue(session, who, body.markdown, Branding.from_settings(app.settings))
        return _out(row)


@router.get("/issues/{issue_id}", response_model=IssueFull)
def read_issue(request: Request, issue_id: IssueId, who: Viewer) -> IssueFull:
    with transaction(web(request).engine) as session:
        row = get_issue(session, issue_id)
        return IssueFull(**_out(row).model_dump(), markdown=row.markdown)


@router.put("/issues/{issue_id}", response_model=IssueOut)
def put_issue(request: Request, issue_id: IssueId, body: IssueReplace, who: Editor) -> IssueOut:
    """Replace the Markdown; with `version`, refused (409) if someone saved in between."""
    app = web(request)
    brand = Branding.from_settings(app.settings)
    with transaction(app.engine) as session:
        return _out(replace_issue(session, who, issue_id, body.markdown, brand, body.version))


@router.get("/issues/{issue_id}/html", response_class=HTMLResponse)
def issue_html(request: Request, issue_id: IssueId, who: Viewer) -> HTMLResponse:
    """The rendered email, its personal links pointing at the public pages."""
    app = web(request)
    with transaction(app.engine) as session:
        row = get_issue(session, issue_id)
        html = web_copy(row.html, app.settings.PUBLIC_BASE_URL, row.slug)
    return HTMLResponse(html, headers={"Content-Security-Policy": EMAIL_CSP})


@router.post("/issues/{issue_id}/test", response_model=TestOut)
def test_issue(request: Request, issue_id: IssueId, body: TestIn, who: Editor) -> TestOut:
    """A test copy to each address, with working links; each is a send of its own."""
    app = web(request)
    transport = make_transport(app.settings)
    now = datetime.now(UTC)
    sent = sends.test_copies(app.engine, app.settings, transport, who, issue_id, body.to, now)
    return TestOut(sent=[TestCopy(to=t, send_id=s, message_id=m) for t, s, m in sent])

"""The JSON API over HTTP against a real `newsletter serve` process (SQLite or PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert, select

from mailer.accounts.models import AuditEntry
from mailer.accounts.principal import cli_principal
from mailer.accounts.tokens import create_token, revoke_token
from subscribers.db import transaction
from subscribers.lists import create_list
from subscribers.models import Membership, Subscriber
from tests.integration.api_support import Served

pytestmark = pytest.mark.integration

ISSUE = (
    "---\nsubject: Week {n}\ndate: 2026-11-30\n---\n"
    "Hello.\n\n## News\n[A link](https://example.org/{n}) here.\n"
)
FUTURE = "2031-01-06T08:00"


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, (response.status_code, response.text)
    return response.json() if response.content else None


def test_every_route_happy_path(served: Served) -> None:
    api = served.client("editor")
    assert ok(served.client(None).get("/openapi.json"))["info"]["title"] == "newsletter API"
    ok(api.post("/lists", json={"name": "happy", "title": "Happy", "public": False}), 201)
    assert {"name": "happy", "title": "Happy", "public": False, "active": 0} in ok(
        api.get("/lists")
    )
    body = {"email": "Ann@Example.org", "name": "Ann", "lists": ["happy"], "tags": ["vip"],
            "attrs": {"country": "FR", "score": 3}}  # fmt: skip
    added = ok(api.post("/subscribers", json=body), 201)
    assert added["lists"] == ["happy"] and added["tags"] == ["vip"]
    assert ok(api.post("/subscribers", json=body), 200)["email"] == "Ann@Example.org"
    changed = ok(api.patch("/subscribers/ann@example.org", json={"name": "Ann B", "tags": ["x"]}))
    assert changed["name"] == "Ann B" and changed["tags"] == ["x"]
    assert ok(api.get("/subscribers/ANN@example.org"))["attrs"] == {"country": "FR", "score": 3}
    page = ok(api.get("/subscribers", params={"list": "happy", "q": "ann"}))
    assert [p["email"] for p in page["items"]] == ["Ann@Example.org"] and page[
        "next_cursor"
    ] is None
    count = ok(api.post("/segments/count", json={"list": "happy", "segment": "attr.score >= 3"}))
    assert count == {"count": 1}
    bad = api.post("/segments/count", json={"list": "happy", "segment": "attr.score >= "})
    assert bad.status_code == 400 and "column 15" in bad.json()["detail"]
    issue = ok(api.post("/issues", json={"markdown": ISSUE.format(n=1)}), 201)
    assert issue["subject"] == "Week 1" and issue["size_bytes"] > 1000
    assert ok(api.get(f"/issues/{issue['id']}"))["markdown"] == ISSUE.format(n=1)
    replaced = ok(
        api.put(f"/issues/{issue['id']}", json={"markdown": ISSUE.format(n=2), "version": 1})
    )
    assert replaced["version"] == 2 and replaced["subject"] == "Week 2"
    stale = api.put(f"/issues/{issue['id']}", json={"markdown": ISSUE.format(n=3), "version": 1})
    assert stale.status_code == 409
    html = api.get(f"/issues/{issue['id']}/html")
    assert html.status_code == 200 and "https://example.org/2" in html.text
    copies = ok(api.post(f"/issues/{issue['id']}/test", json={"to": ["qa@example.org"]}))
    assert copies["sent"][0]["to"] == "qa@example.org"
    send = ok(
        api.post("/sends", json={"issue_id": issue["id"], "list": "happy", "at": FUTURE}), 201
    )
    assert send["state"] == "scheduled" and send["recipients"] == 1
    assert send["scheduled_at"].startswith("2031-01-06T08:00")
    assert ok(api.get(f"/sends/{send['id']}"))["list"] == "happy"
    assert send["id"] in [s["id"] for s in ok(api.get("/sends"))]
    assert ok(api.post(f"/sends/{send['id']}/pause"))["state"] == "paused"
    assert ok(api.post(f"/sends/{send['id']}/resume"))["state"] == "scheduled"
    assert ok(api.post(f"/sends/{send['id']}/cancel"))["state"] == "cancelled"
    assert ok(api.get(f"/sends/{send['id']}/report"))["sent"] == 0
    with transaction(served.engine) as session:
        actions = set(
            session.scalars(select(AuditEntry.action).where(AuditEntry.actor == "test-editor"))
        )
    expected = {"list.create", "subscriber.add", "subscriber.change", "issue.create",
                "issue.test", "issue.replace", "send.create", "send.pause", "send.resume",
                "send.cancel"}  # fmt: skip
    assert expected <= actions


def test_bad_input_is_a_4xx_naming_the_field(served: Served) -> None:
    api = served.client("editor")
    missing = api.post("/lists", json={"title": "no name"})
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "name"]
    typo = api.post("/subscribers", json={"email": "a@example.org", "nmae": "x"})
    assert typo.status_code == 422 and "nmae" in typo.text
    bad_email = api.post("/subscribers", json={"email": "not an email"})
    assert bad_email.status_code == 400 and "email" in bad_email.json()["detail"]
    assert (
        api.post("/subscribers", json={"email": "b@example.org", "lists": ["nope"]}).status_code
        == 400
    )
    assert api.get("/subscribers/nobody@example.org").status_code == 404
    assert api.get("/issues/999999").status_code == 404
    assert api.get("/sends/999999").status_code == 404
    assert api.get("/subscribers", params={"cursor": "abc"}).status_code == 400
    not_json = api.post("/lists", content=b"{", headers={"content-type": "application/json"})
    assert not_json.status_code == 422
    huge = api.post(
        "/issues", content=b"x" * 2_000_000, headers={"content-type": "application/json"}
    )
    assert huge.status_code == 413
    no_issue = api.post("/sends", json={"issue_id": 999999, "list": "x", "at": FUTURE})
    assert no_issue.status_code == 404


def _writes(issue_id: int, send_id: int) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [
        ("POST", "/lists", {"name": "roles-list"}),
        ("POST", "/subscribers", {"email": "role@example.org", "lists": ["roles-list"]}),
        ("PATCH", "/subscribers/role@example.org", {"name": "Role"}),
        ("POST", "/issues", {"markdown": ISSUE.format(n=9)}),
        ("PUT", f"/issues/{issue_id}", {"markdown": ISSUE.format(n=10)}),
        ("POST", f"/issues/{issue_id}/test", {"to": ["qa@example.org"]}),
        ("POST", "/sends", {"issue_id": issue_id, "list": "roles-list", "at": FUTURE}),
        ("POST", f"/sends/{send_id}/pause", None),
        ("POST", f"/sends/{send_id}/resume", None),
        ("POST", f"/sends/{send_id}/cancel", None),
        ("DELETE", "/subscribers/role@example.org", None),
    ]


def test_each_role_on_each_write(served: Served) -> None:
    editor, viewer, anonymous = (served.client(r) for r in ("editor", "viewer", None))
    issue = ok(editor.post("/issues", json={"markdown": ISSUE.format(n=8)}), 201)
    ok(editor.post("/lists", json={"name": "roles-setup"}), 201)
    reader = {"email": "roles-reader@example.com", "lists": ["roles-setup"]}
    ok(editor.post("/subscribers", json=reader), 201)  # an empty audience is refused
    wanted = {"issue_id": issue["id"], "list": "roles-setup", "at": FUTURE}
    send = ok(editor.post("/sends", json=wanted), 201)
    for method, path, body in _writes(issue["id"], send["id"]):
        assert anonymous.request(method, path, json=body).status_code == 401, path
        refused = viewer.request(method, path, json=body)
        assert refused.status_code == 403 and "viewer" in refused.json()["detail"], path
        assert editor.request(method, path, json=body).status_code in (200, 201, 204), path
    for path in ("/lists", "/subscribers", f"/issues/{issue['id']}", f"/issues/{issue['id']}/html",
                 "/sends", f"/sends/{send['id']}", f"/sends/{send['id']}/report"):  # fmt: skip
        assert viewer.get(path).status_code == 200, path
    assert ok(viewer.post("/segments/count", json={"segment": 'tags has "x"'}))["count"] >= 0


def test_a_revoked_token_fails_at_once(served: Served) -> None:
    with transaction(served.engine) as session:
        secret = create_token(session, cli_principal(), "short-lived", "viewer")
    headers = {"Authorization": f"Bearer {secret}"}
    api = served.client(None)
    assert api.get("/lists", headers=headers).status_code == 200
    with transaction(served.engine) as session:
        revoke_token(session, cli_principal(), "short-lived", datetime.now(UTC))
    refused = api.get("/lists", headers=headers)
    assert refused.status_code == 401 and refused.json() == {"detail": "invalid or revoked token"}
    assert api.get("/lists", headers={"Authorization": "Bearer nl_forged"}).status_code == 401


def test_paging_10000_subscribers_has_no_gaps_or_repeats(served: Served) -> None:
    with transaction(served.engine) as session:
        list_id = create_list(session, "paging").id
        emails = [f"p{i}@paging.example.org" for i in range(10_000)]
        rows = [{"email": e, "email_norm": e, "name": "", "status": "active", "attrs": {},
                 "bounce_count": 0, "soft_bounce_count": 0} for e in emails]  # fmt: skip
        session.execute(insert(Subscriber), rows)
        ids = session.scalars(
            select(Subscriber.id).where(Subscriber.email_norm.like("%@paging.example.org"))
        )
        session.execute(insert(Membership), [{"list_id": list_id, "subscriber_id": i} for i in ids])
    api, seen, cursor, pages = served.client("viewer"), [], None, 0
    while True:
        params = {"list": "paging", "limit": 100, **({"cursor": cursor} if cursor else {})}
        page = ok(api.get("/subscribers", params=params))
        seen += [item["email"] for item in page["items"]]
        pages += 1
        if pages == 50:  # someone joins mid-way: they show up once, at the end
            late = {"email": "late@paging.example.org", "lists": ["paging"]}
            ok(served.client("editor").post("/subscribers", json=late), 201)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 10_001
    assert seen[-1] == "late@paging.example.org" and pages == 101

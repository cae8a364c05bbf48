"""The policy table, one test per row, through the signed endpoint and the eager task."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, select, update

from mailer.core.models import AddressSuppression, Event
from mailer.core.privacy import address_hash
from mailer.core.settings import Settings
from mailer.events.policy import Verdict, soft_history, verdict
from subscribers.audience import audience_query
from subscribers.db import transaction
from subscribers.models import MailingList, Membership, Subscriber
from subscribers.status import resubscribe
from tests.unit.events.conftest import SentIssue, make_send
from tests.unit.events.helpers import Signer, body_of, event, tagged

DAY = 86_400


def _post(client: TestClient, signer: Signer, events: list[dict[str, Any]]) -> None:
    body = body_of(events)
    assert (
        client.post("/webhooks/sendgrid", content=body, headers=signer.headers(body)).status_code
        == 200
    )


def _ann(issue: SentIssue, kind: str, **fields: Any) -> dict[str, Any]:
    email = "ann@example.com"
    return tagged(kind, email, issue.send_id, issue.subscribers[email], issue.list_id, **fields)


def _person(engine: Engine, email: str = "ann@example.com") -> Subscriber:
    with transaction(engine) as session:
        sub = session.execute(select(Subscriber).where(Subscriber.email_norm == email)).scalar_one()
        session.expunge(sub)
        return sub


def _audience(engine: Engine, list_id: int) -> set[int]:
    with engine.connect() as conn:
        return {row.id for row in conn.execute(audience_query(list_id))}


def test_hard_bounce_suppresses_everywhere_and_counts(
    client: TestClient, signer: Signer, engine: Engine, issue: SentIssue
) -> None:
    _post(client, signer, [_ann(issue, "bounce", type="bounce", reason="550 no such user")])
    ann = _person(engine)
    assert (ann.status, ann.bounce_count) == ("bounced", 1)
    assert ann.status_reason == "sendgrid bounce: 550 no such user"  # what the operator sees
    assert ann.id not in _audience(engine, issue.list_id)


def test_a_long_provider_reason_is_cut_to_what_the_status_reason_holds(
    client: TestClient, signer: Signer, engine: Engine, issue: SentIssue
) -> None:
    """`status_reason` is VARCHAR(200): PostgreSQL refuses a longer value, failing the batch."""
    _post(client, signer, [_ann(issue, "bounce", type="bounce", reason="550 " + "x" * 300)])
    ann = _person(engine)
    assert ann.status == "bounced"
    assert ann.status_reason is not None
    assert len(ann.status_reason) == 200
    assert ann.status_reason.startswith("sendgrid bounce: 550 xxx")


def test_soft_bounces_suppress_only_at_the_limit_within_the_window(
    client: TestClient, signer: Signer, engine: Engine, issue: SentIssue
) -> None:
    now = int(time.time())
    # Three deferrals of ONE message are one failure; an old block is outside the window.
    _post(
        client,
        signer,
        [
            _ann(issue, "deferred", timestamp=now - 3 * DAY, nl_send_id="101"),
            _ann(issue, "deferred", timestamp=now - 3 * DAY + 60, nl_send_id="101"),
            _ann(issue, "bounce", type="blocked", timestamp=now - 40 * DAY, nl_send_id="99"),
            _ann(issue, "bounce", type="blocked", timestamp=now - 2 * DAY, nl_send_id="102"),
        ],
    )
    assert _person(engine).status == "active"
    _post(client, signer, [_ann(issue, "bounce", type="blocked", timestamp=now, nl_send_id="103")])
    ann = _person(engine)
    assert ann.status == "bounced"
    assert ann.status_reason == "3 soft bounces within 30 days"  # 101, 102, 103; not 99
    assert ann.soft_bounce_count == 5
    assert ann.bounce_count == 0


def test_a_group_unsubscriber_reaching_the_soft_limit_is_bounced_with_the_same_reason(
    client: TestClient, signer: Signer, engine: Engine, issue: SentIssue
) -> None:
    """The one-by-one path (taken because of the group unsubscribe) records the soft-limit
    reason as the batched path does."""
    now = int(time.time())
    soft = [
        _ann(issue, "deferred", timestamp=now - 60 * i, nl_send_id=str(200 + i)) for i in range(3)
    ]
    _post(client, signer, [_ann(issue, "group_unsubscribe", timestamp=now - 600), *soft])
    ann = _person(engine)
    assert (ann.status, ann.status_reason) == ("bounced", "3 soft bounces within 30 days")


def test_spamreport_marks_complained(
    client: TestClient, signer: Signer, engine: Engine, issue: SentIssue
) -> None:
    _post(client, signer, [_ann(issue, "spamreport")])
    assert _person(engine).status == "complained"
    assert _person(engine).id not in _audience(engine, issue.list_id)


def test_unsubscribe_leaves_everything(
    client: TestClient, signer: Signer, engine: Engine, issue: SentIssue
) -> None:
    at = int(time.time()) - 120
    _post(client, signer, [_ann(issue, "unsubscribe", timestamp=at)])
    ann = _person(engine)
    assert ann.status == "unsubscribed"
    with engine.connect() as conn:
        left = conn.execute(
            select(
                Membership.status, Membership.unsubscribe_source, Membership.unsubscribed_at
            ).where(Membership.subscriber_id == ann.id)
        ).all()
    # Each membership says who ended it and when: the event, at its own time.
    assert [(status, source) for status, source, _ in left] == [
        ("unsubscribed", "sendgrid:unsubscribe")
    ]
    assert [when and int(when.timestamp()) for _, _, when in left] == [at]


def test_group_unsubscribe_leaves_the_list_of_the_send(
    client: TestClient, signer: Signer, engine: Engine, issue: SentIssue
) -> None:
    _post(client, signer, [_ann(issue, "group_unsubscribe", asm_group_id=7)])
    ann = _person(engine)
    with engine.connect() as conn:
        membership = conn.execute(
            select(Membership.status, Membership.unsubscribe_source).where(
                Membership.subscriber_id == ann.id, Membership.list_id == issue.list_id
            )
        ).one()
    assert tuple(membership) == ("unsubscribed", "sendgrid:group_unsubscribe")
    assert ann.id not in _audience(engine, issue.list_id)


def test_group_unsubscribe_leaves_only_that_list_and_the_person_stays_active(
    client: TestClient, signer: Signer, engine: Engine, issue: SentIssue
) -> None:
    """One unsubscribe group is one list: the person's other lists and status are untouched."""
    ann_id = issue.subscribers["ann@example.com"]
    with transaction(engine) as session:  # ann is on a second list too
        monthly = MailingList(name="monthly")
        session.add(monthly)
        session.flush()
        session.add(Membership(list_id=monthly.id, subscriber_id=ann_id))
        other = monthly.id
    _post(client, signer, [_ann(issue, "group_unsubscribe", asm_group_id=7)])
    ann = _person(engine)
    assert (ann.status, ann.unsubscribed_at) == ("active", None)
    with engine.connect() as conn:
        rows = conn.execute(
            select(Membership.list_id, Membership.status).where(Membership.subscriber_id == ann.id)
        )
        memberships = {list_id: status for list_id, status in rows}
    assert memberships == {issue.list_id: "unsubscribed", other: "subscribed"}
    assert ann.id not in _audience(engine, issue.list_id)
    assert ann.id in _audience(engine, other)  # still mailed on the other list


def test_a_group_unsubscriber_s_other_events_still_apply_in_order(
    client: TestClient, signer: Signer, engine: Engine, issue: SentIssue
) -> None:
    """People with a group unsubscribe take the one-by-one path: their bounce, complaint or
    global unsubscribe in the same delivery applies there too, at the event's own time."""
    t0 = int(time.time()) - 600
    ids = issue.subscribers

    def of(email: str, kind: str, at: int, **fields: Any) -> dict[str, Any]:
        return tagged(kind, email, issue.send_id, ids[email], issue.list_id, timestamp=at, **fields)

    _post(
        client,
        signer,
        [
            of("ann@example.com", "group_unsubscribe", t0),
            of("ann@example.com", "bounce", t0 + 60, type="bounce", reason="550 gone"),
            of("bob@example.com", "group_unsubscribe", t0),
            of("bob@example.com", "unsubscribe", t0 + 120),
            of("cy@example.com", "group_unsubscribe", t0),
            of("cy@example.com", "spamreport", t0 + 30),
        ],
    )
    ann, bob, cy = (_person(engine, email) for email in ids)
    assert (ann.status, ann.status_reason) == ("bounced", "sendgrid bounce: 550 gone")
    assert int(ann.updated_at.timestamp()) == t0 + 60  # the bounce's own time
    assert (bob.status, bob.status_reason) == ("unsubscribed", "sendgrid:unsubscribe")
    assert bob.unsubscribed_at is not None and int(bob.unsubscribed_at.timestamp()) == t0 + 120
    assert (cy.status, cy.status_reason) == ("complained", "sendgrid spamreport")
    with engine.connect() as conn:
        left = conn.execute(
            select(Membership.unsubscribe_source, Membership.unsubscribed_at).where(
                Membership.list_id == issue.list_id
            )
        ).all()
    assert {source for source, _ in left} == {"sendgrid:group_unsubscribe"}
    assert {int(when.timestamp()) for _, when in left} == {t0}


@pytest.mark.parametrize("carried", ["nl_send_id", "nl_list_id"])
def test_a_group_unsubscribe_finds_its_list_from_either_argument(
    client: TestClient, signer: Signer, engine: Engine, issue: SentIssue, carried: str
) -> None:
    """Only the send (the list is looked up) or only the list: either way that list is left."""
    value = issue.send_id if carried == "nl_send_id" else issue.list_id
    fields = {carried: str(value), "sg_message_id": "unknown0.filter"}  # no send from it either
    bare = event("group_unsubscribe", "ann@example.com", asm_group_id=7, **fields)
    bare["nl_subscriber_id"] = str(issue.subscribers["ann@example.com"])
    _post(client, signer, [bare])
    ann = _person(engine)
    assert ann.status == "active"
    assert ann.id not in _audience(engine, issue.list_id)


def test_soft_failures_count_messages_not_retries_and_never_hard_bounces(
    client: TestClient, signer: Signer, engine: Engine, issue: SentIssue
) -> None:
    """Without a send id a message is known by its SendGrid id; an old hard bounce (before the
    person came back) is not a soft failure."""
    now = int(time.time())
    ann_id = issue.subscribers["ann@example.com"]
    _post(client, signer, [_ann(issue, "bounce", type="bounce", timestamp=now - 5 * DAY)])
    with transaction(engine) as session:
        resubscribe(session, ann_id, [issue.list_id])
        session.execute(update(Subscriber).where(Subscriber.id == ann_id).values(status="active"))
    retries = [  # one message of no known send (one sg_message_id), retried three times
        event("deferred", "ann@example.com", timestamp=now - 60 * i, sg_message_id="other.f1")
        for i in range(3)
    ]
    blocked = _ann(issue, "bounce", type="blocked", timestamp=now, nl_send_id="77")
    _post(client, signer, [*retries, blocked])
    assert _person(engine).status == "active"  # 2 failures (the old hard bounce is not one)


@pytest.mark.parametrize(
    ("reason", "status"),
    [
        ("Bounced Address", "bounced"),
        ("Unsubscribed Address", "unsubscribed"),
        ("Spam Reporting Address", "complained"),
        ("Invalid", "bounced"),
        ("Spam Content", "active"),
        ("Invalid SMTPAPI header", "active"),
    ],
)
def test_dropped_reasons(
    client: TestClient, signer: Signer, engine: Engine, issue: SentIssue, reason: str, status: str
) -> None:
    _post(client, signer, [_ann(issue, "dropped", reason=reason)])
    assert _person(engine).status == status


@pytest.mark.parametrize("kind", ["processed", "delivered", "open", "click"])
def test_engagement_is_recorded_only(
    client: TestClient, signer: Signer, engine: Engine, issue: SentIssue, kind: str
) -> None:
    _post(client, signer, [_ann(issue, kind, url="https://example.com/a")])
    ann = _person(engine)
    assert (ann.status, ann.bounce_count) == ("active", 0)
    assert ann.id in _audience(engine, issue.list_id)


def test_a_late_delivered_or_unsubscribe_never_undoes_a_bounce(
    client: TestClient, signer: Signer, engine: Engine, issue: SentIssue
) -> None:
    now = int(time.time())
    _post(client, signer, [_ann(issue, "bounce", type="bounce", timestamp=now)])
    _post(
        client,
        signer,
        [
            _ann(issue, "delivered", timestamp=now - 10),
            _ann(issue, "unsubscribe", timestamp=now + 10),
        ],
    )
    assert _person(engine).status == "bounced"


def test_suppression_holds_on_the_next_send(
    client: TestClient, signer: Signer, engine: Engine, issue: SentIssue
) -> None:
    _post(client, signer, [_ann(issue, "spamreport")])
    second = make_send(engine, ["dee@example.com"], list_name="other", message_id="msg0002")
    with transaction(engine) as session:  # Ann joins another list after complaining
        session.add(
            Membership(list_id=second.list_id, subscriber_id=issue.subscribers["ann@example.com"])
        )
    assert issue.subscribers["ann@example.com"] not in _audience(engine, second.list_id)
    assert _audience(engine, issue.list_id) == {
        issue.subscribers["bob@example.com"],
        issue.subscribers["cy@example.com"],
    }


def test_without_custom_args_the_address_and_message_id_correlate(
    client: TestClient, signer: Signer, engine: Engine, issue: SentIssue
) -> None:
    _post(
        client,
        signer,
        [
            event(
                "bounce",
                "BOB@Example.com",
                type="bounce",
                sg_message_id=f"{issue.message_id}.filterdrecv-9",
            )
        ],
    )
    assert _person(engine, "bob@example.com").status == "bounced"
    with engine.connect() as conn:
        row = conn.execute(select(Event.subscriber_id, Event.send_id)).one()
    assert tuple(row) == (issue.subscribers["bob@example.com"], issue.send_id)


def test_custom_args_naming_someone_else_fall_back_to_the_address(
    client: TestClient, signer: Signer, engine: Engine, issue: SentIssue
) -> None:
    # A test copy modelled on Ann but sent to a stranger must not bounce Ann.
    _post(
        client,
        signer,
        [
            tagged(
                "bounce",
                "stranger@example.net",
                issue.send_id,
                issue.subscribers["ann@example.com"],
                issue.list_id,
                type="bounce",
            )
        ],
    )
    assert _person(engine).status == "active"


@pytest.mark.parametrize(
    ("event_kind", "bounce_type", "reason", "expected"),
    [
        ("bounce", "bounce", None, Verdict.HARD_BOUNCE),
        ("bounce", None, None, Verdict.HARD_BOUNCE),
        ("bounce", "blocked", None, Verdict.SOFT_BOUNCE),
        ("deferred", None, None, Verdict.SOFT_BOUNCE),
        ("dropped", None, " bounced address ", Verdict.BOUNCED),
        ("open", None, None, Verdict.RECORD),
        ("group_resubscribe", None, None, Verdict.RECORD),
    ],
)
def test_verdict_is_a_pure_table(
    event_kind: str, bounce_type: str | None, reason: str | None, expected: Verdict
) -> None:
    assert verdict(event_kind, bounce_type, reason) is expected


def test_a_forwarded_copy_s_failure_suppresses_the_friend_s_hashed_address_only_when_final(
    client: TestClient, signer: Signer, engine: Engine, issue: SentIssue, hook_settings: Settings
) -> None:
    """A friend is no subscriber: a hard bounce or a drop for a bounced address keeps their
    hashed address from being mailed again; a soft failure or a delivery does not."""
    forward = {"nl_kind": "forward", "nl_forward_send_id": str(issue.send_id)}
    friends = {
        "hard@example.net": ("bounce", {"type": "bounce"}),
        "soft@example.net": ("bounce", {"type": "blocked"}),
        "dropped@example.net": ("dropped", {"reason": "Bounced Address"}),
        "fine@example.net": ("delivered", {}),
    }
    _post(
        client,
        signer,
        [event(kind, email, **forward, **extra) for email, (kind, extra) in friends.items()],
    )
    with engine.connect() as conn:
        rows = conn.execute(select(AddressSuppression.address_hash, AddressSuppression.reason))
        kept = {address: reason for address, reason in rows}
    secret = hook_settings.SECRET_KEY
    assert kept == {
        address_hash(secret, "hard@example.net"): "bounce",
        address_hash(secret, "dropped@example.net"): "bounce",
    }


def test_soft_history_reads_every_person_of_a_large_batch(engine: Engine) -> None:
    """The history is read 500 people at a time: nobody past the first chunk is left out
    (a person left out would never reach the soft-bounce limit)."""
    at = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    ids = set(range(1, 1202))  # three chunks, the last one of a single person
    with transaction(engine) as session:
        session.execute(
            insert(Event),
            [
                {
                    "sg_event_id": f"ev-{sid}",
                    "event": "deferred",
                    "email": f"p{sid}@example.org",
                    "subscriber_id": sid,
                    "send_id": sid,
                    "occurred_at": at,
                    "data": {},
                }
                for sid in sorted(ids)
            ],
        )
        history = soft_history(session, ids, at - timedelta(days=1), at)
    assert {sid: {key for _, key in found} for sid, found in history.items()} == {
        sid: {str(sid)} for sid in ids
    }


def test_a_complainer_s_events_do_not_stop_the_others_in_the_same_delivery(
    client: TestClient, signer: Signer, engine: Engine, issue: SentIssue
) -> None:
    """Ann (first by id) complained before; her later events are passed over, and everyone
    after her in the same post is still judged and counted."""
    _post(client, signer, [_ann(issue, "spamreport")])
    ids = issue.subscribers
    bob = tagged(
        "bounce",
        "bob@example.com",
        issue.send_id,
        ids["bob@example.com"],
        issue.list_id,
        type="bounce",
    )
    cy = tagged("spamreport", "cy@example.com", issue.send_id, ids["cy@example.com"], issue.list_id)
    _post(client, signer, [_ann(issue, "unsubscribe"), bob, cy])
    people = {email: _person(engine, email) for email in ids}
    assert people["ann@example.com"].status == "complained"
    assert (people["bob@example.com"].status, people["bob@example.com"].bounce_count) == (
        "bounced",
        1,
    )
    assert people["cy@example.com"].status == "complained"


def test_last_bounce_at_is_the_latest_bounce_whatever_order_they_arrive_in(
    client: TestClient, signer: Signer, engine: Engine, issue: SentIssue
) -> None:
    now = int(time.time())

    def deferred(at: int) -> dict[str, Any]:  # one message retried: never the soft limit
        return _ann(issue, "deferred", timestamp=at)

    def last() -> int:
        ann = _person(engine)
        assert ann.status == "active" and ann.last_bounce_at is not None
        return int(ann.last_bounce_at.timestamp())

    _post(client, signer, [deferred(now - 300), deferred(now - 200)])
    assert last() == now - 200  # the later of one post's two
    _post(client, signer, [deferred(now - 100)])
    assert last() == now - 100  # a later post moves it on
    _post(client, signer, [deferred(now - 400)])
    assert last() == now - 100  # an older one arriving late does not move it back
    assert _person(engine).soft_bounce_count == 4


def test_a_soft_failure_exactly_the_window_ago_no_longer_counts(
    client: TestClient, signer: Signer, engine: Engine, issue: SentIssue
) -> None:
    """The window is (t - 30 days, t]: three messages, the first one 30 days to the second
    before the third, are two failures within the window."""
    now = int(time.time())
    _post(
        client,
        signer,
        [
            _ann(issue, "deferred", timestamp=now - 30 * DAY, nl_send_id="301"),
            _ann(issue, "deferred", timestamp=now - DAY, nl_send_id="302"),
            _ann(issue, "deferred", timestamp=now, nl_send_id="303"),
        ],
    )
    assert _person(engine).status == "active"
    _post(client, signer, [_ann(issue, "deferred", timestamp=now, nl_send_id="304")])
    assert _person(engine).status == "bounced"  # 302, 303 and 304 are three

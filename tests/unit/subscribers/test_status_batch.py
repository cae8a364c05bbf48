"""Many status changes written at once end as if they were made one by one, in order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select, update

from subscribers.db import transaction
from subscribers.models import Membership, MembershipStatus, Status, Subscriber
from subscribers.status import resubscribe, suppress, unsubscribe_everywhere
from subscribers.status_batch import StatusBatch
from subscribers.store import add_subscriber

T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def people(engine: Engine, *emails: str) -> list[int]:
    with transaction(engine) as session:
        return [add_subscriber(session, e, list_names=["weekly"]).id for e in emails]


def statuses(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return {
            email: status
            for email, status in conn.execute(select(Subscriber.email, Subscriber.status))
        }


def test_changes_in_order_keep_the_strongest_status(engine: Engine) -> None:
    ann, bob, cy = people(engine, "ann@example.com", "bob@example.com", "cy@example.com")
    with transaction(engine) as session:
        batch = StatusBatch({ann: "active", bob: "active", cy: "active"})
        assert batch.change(ann, Status.COMPLAINED, "spamreport", T0)
        assert not batch.change(ann, Status.UNSUBSCRIBED, "unsubscribe", T0 + timedelta(1))
        assert batch.change(bob, Status.UNSUBSCRIBED, "unsubscribe", T0)
        batch.leave_all_lists(bob, "webhook", T0)
        assert batch.change(bob, Status.BOUNCED, "bounce", T0 + timedelta(1))
        batch.write(session)
    assert statuses(engine) == {
        "ann@example.com": "complained",
        "bob@example.com": "bounced",
        "cy@example.com": "active",
    }
    with engine.connect() as conn:
        bob_row = conn.execute(select(Subscriber).where(Subscriber.id == bob)).one()
        left = conn.scalar(select(Membership.status).where(Membership.subscriber_id == bob))
    assert bob_row.unsubscribed_at == T0
    assert left == MembershipStatus.UNSUBSCRIBED


def test_a_stronger_status_committed_meanwhile_is_not_overwritten(engine: Engine) -> None:
    (dee,) = people(engine, "dee@example.com")
    batch = StatusBatch({dee: "active"})  # read before the other writer commits
    assert batch.change(dee, Status.BOUNCED, "bounce", T0)
    with transaction(engine) as other:
        other.execute(update(Subscriber).where(Subscriber.id == dee).values(status="complained"))
    with transaction(engine) as session:
        batch.write(session)
    assert statuses(engine) == {"dee@example.com": "complained"}


def test_the_one_by_one_changes_record_when_why_and_whether(engine: Engine) -> None:
    """subscribers.status itself (what the mutation run found unchecked): each change says
    whether it changed anything, and records its own time and reason."""
    ann, bob = people(engine, "ann@example.com", "bob@example.com")
    with transaction(engine) as session:
        with pytest.raises(ValueError, match="active is not a suppression status"):
            suppress(session, ann, Status.ACTIVE, "typo")
        assert suppress(session, ann, Status.BOUNCED, "sendgrid bounce", T0)
        assert not suppress(session, ann, Status.BOUNCED, "again", T0 + timedelta(1))
        assert unsubscribe_everywhere(session, bob, "page", T0 + timedelta(2))
        assert not unsubscribe_everywhere(session, bob, "page", T0 + timedelta(3))
    with engine.connect() as conn:
        rows = {
            sid: (status, reason, updated)
            for sid, status, reason, updated in conn.execute(
                select(
                    Subscriber.id,
                    Subscriber.status,
                    Subscriber.status_reason,
                    Subscriber.updated_at,
                )
            )
        }
        left = conn.execute(
            select(Membership.unsubscribed_at).where(Membership.subscriber_id == bob)
        ).scalar_one()
    assert rows[ann] == (Status.BOUNCED, "sendgrid bounce", T0)
    assert rows[bob][:2] == (Status.UNSUBSCRIBED, "page") and left == T0 + timedelta(2)
    with transaction(engine) as session:
        resubscribe(session, bob, [1])
    with engine.connect() as conn:
        reason = conn.scalar(select(Subscriber.status_reason).where(Subscriber.id == bob))
        membership = conn.execute(
            select(
                Membership.status, Membership.unsubscribed_at, Membership.unsubscribe_source
            ).where(Membership.subscriber_id == bob)
        ).one()
    assert reason == "resubscribed"
    assert tuple(membership) == (MembershipStatus.SUBSCRIBED, None, None)

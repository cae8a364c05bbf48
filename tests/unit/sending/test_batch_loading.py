"""Who a claimed batch is built for (its own send, its list, names), how a 413 splits it, and
how long its lease lasts: what the mutation run (scripts/mutate) found unchecked."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select, update

from mailer.core.models import Batch, BatchState, RecipientState, SendRecipient
from mailer.core.settings import Settings
from mailer.issue import placeholders as ph
from mailer.sending import batch_repair, batches
from mailer.sending import state as sends
from mailer.sending.create import check_audience, create_send
from mailer.sending.pipeline import run_send
from subscribers.db import transaction
from subscribers.models import Membership, Subscriber
from subscribers.status import unsubscribe_from_list
from subscribers.store import get_or_create_list
from tests.unit.sending.helpers import (
    ISSUE,
    T0,
    Clock,
    ScriptedTransport,
    emails,
    runtime,
    seed,
    started_send,
)


def test_two_sends_of_one_list_each_mail_only_their_own_audience(
    engine: Engine, cfg: Settings
) -> None:
    """Batch numbers repeat across sends: a batch loads the recipients of its own send only."""
    seed(engine, 20)
    started: list[int] = []
    for segment in ('tags has "odd"', None):
        list_id, _ = check_audience(engine, "weekly", segment)
        send_id = create_send(engine, cfg, ISSUE, list_id, segment, None, False, T0, again=True)
        sends.start_send(engine, send_id, T0, 10, "UTC")
        started.append(send_id)
    odd = ScriptedTransport()
    assert run_send(runtime(engine, cfg, odd, Clock()), started[0]).finished == "done"
    assert Counter(odd.accepted) == Counter(emails(1, 20, 2))
    everyone = ScriptedTransport()
    assert run_send(runtime(engine, cfg, everyone, Clock()), started[1]).finished == "done"
    assert Counter(everyone.accepted) == Counter(emails(0, 20))


def test_leaving_the_send_s_list_counts_even_when_still_on_another(
    engine: Engine, cfg: Settings
) -> None:
    send_id = started_send(engine, cfg, 10)
    with transaction(engine) as session:  # p0003 is on "monthly" too, then leaves "weekly"
        monthly = get_or_create_list(session, "monthly")
        session.flush()
        weekly = get_or_create_list(session, "weekly")
        session.add(Membership(list_id=monthly.id, subscriber_id=4))
        session.flush()
        unsubscribe_from_list(session, 4, weekly.id, "test")
    transport = ScriptedTransport()
    assert run_send(runtime(engine, cfg, transport, Clock()), send_id).finished == "done"
    assert Counter(transport.accepted) == Counter(set(emails(0, 10)) - {"p0003@example.org"})


def test_each_recipient_is_greeted_by_their_own_name(engine: Engine, cfg: Settings) -> None:
    send_id = started_send(engine, cfg, 3)
    with transaction(engine) as session:  # p0001 has no name
        session.execute(update(Subscriber).where(Subscriber.id == 2).values(name=""))
    transport = ScriptedTransport()
    run_send(runtime(engine, cfg, transport, Clock()), send_id)
    (payload,) = transport.payloads
    names = {
        person["to"][0]["email"]: person["substitutions"][ph.NAME]
        for person in payload["personalizations"]
    }
    assert names == {
        "p0000@example.org": "P 0",
        "p0001@example.org": "",
        "p0002@example.org": "P 2",
    }


def test_the_lease_of_a_requested_batch_counts_from_the_request(
    engine: Engine, cfg: Settings
) -> None:
    """A claim that waited 50 s for the rate limiter, then started its request: still alive
    10 s into the request under a 60 s lease, so the reaper does not call it uncertain."""
    send_id = started_send(engine, cfg, 10)
    claim = batches.claim_next(engine, send_id, T0)
    assert claim is not None
    assert batches.mark_requesting(engine, claim, T0 + timedelta(seconds=50))
    assert batch_repair.reap_stale(engine, T0 + timedelta(seconds=70), 60) == (0, 0)
    assert batch_repair.reap_stale(engine, T0 + timedelta(seconds=111), 60) == (0, 1)


def batch_row(engine: Engine, send_id: int, seq: int) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(Batch).where(Batch.send_id == send_id, Batch.seq == seq)).one()


def test_a_split_puts_each_queued_recipient_in_exactly_one_new_batch(
    engine: Engine, cfg: Settings
) -> None:
    """A 413 on batch 1 of a send (beside a longer send): two new batches after the send's last,
    each a copy of the original's schedule, holding the queued recipients lowest ids first."""
    send_id = started_send(engine, cfg, 20)  # batches 0 and 1
    list_id, _ = check_audience(engine, "weekly", None)
    other = create_send(engine, cfg, ISSUE, list_id, None, None, False, T0, again=True)
    sends.start_send(engine, other, T0, 4, "UTC")  # batches 0..4 of another send
    due = T0 + timedelta(hours=3)
    with transaction(engine) as session:
        session.execute(
            update(Batch)
            .where(Batch.send_id == send_id, Batch.seq == 1)
            .values(timezone="Asia/Tokyo", due_at=due)
        )
        session.execute(  # p0019 was judged before (say, skipped by an uncertain attempt)
            update(SendRecipient)
            .where(SendRecipient.send_id == send_id, SendRecipient.subscriber_id == 20)
            .values(state=RecipientState.SKIPPED)
        )
    batches.claim_next(engine, send_id, due)
    claim = batches.claim_next(engine, send_id, due)
    assert claim is not None and claim.seq == 1
    later = due + timedelta(seconds=3)
    assert batch_repair.split_batch(engine, claim, later) == (2, 3)
    original = batch_row(engine, send_id, 1)
    assert (original.state, original.recipient_count, original.finished_at) == (
        BatchState.SKIPPED,
        0,
        later,
    )
    assert original.error == "too large (413): split into batches 2 and 3"
    for seq, count in ((2, 5), (3, 4)):
        child = batch_row(engine, send_id, seq)
        assert (child.state, child.timezone, child.due_at) == (
            BatchState.PENDING,
            "Asia/Tokyo",
            due,
        )
        assert (child.attempts, child.recipient_count, child.sent_count) == (0, count, 0)
    with engine.connect() as conn:
        seq_of = dict(
            conn.execute(
                select(SendRecipient.subscriber_id, SendRecipient.batch_seq).where(
                    SendRecipient.send_id == send_id
                )
            ).all()
        )
    assert [seq_of[sid] for sid in range(11, 21)] == [2] * 5 + [3] * 4 + [1]
    assert {seq for seq in seq_of.values()} == {0, 1, 2, 3}
    assert batch_states_of(engine, other) == {BatchState.PENDING: 5}  # untouched


def batch_states_of(engine: Engine, send_id: int) -> Counter[str]:
    with engine.connect() as conn:
        return Counter(conn.execute(select(Batch.state).where(Batch.send_id == send_id)).scalars())


@pytest.mark.parametrize(("people", "halves"), [(1, None), (2, (1, 2)), (3, (1, 2))])
def test_a_batch_of_two_or_more_splits_a_single_recipient_does_not(
    engine: Engine, cfg: Settings, people: int, halves: tuple[int, int] | None
) -> None:
    send_id = started_send(engine, cfg, people)
    claim = batches.claim_next(engine, send_id, T0)
    assert claim is not None
    assert batch_repair.split_batch(engine, claim, T0) == halves
    counts = [batch_row(engine, send_id, seq).recipient_count for seq in (1, 2)] if halves else []
    assert sum(counts) == (people if halves else 0)

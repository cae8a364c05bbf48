"""The send state machine on a real database: exactly once, skips, failures, control."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select, update

from mailer.core.errors import NewsletterError
from mailer.core.models import Batch, BatchState, RecipientState, Send, SendRecipient
from mailer.core.settings import Settings
from mailer.sending import batch_repair, batches
from mailer.sending import control as send_control
from mailer.sending import state as sends
from mailer.sending.create import check_audience, create_send, send_test_copy
from mailer.sending.pipeline import run_send
from mailer.transport.base import PayloadTooLarge, PermanentFailure, RateLimited, TemporaryFailure
from subscribers.db import transaction
from subscribers.segments import SegmentError
from subscribers.status import unsubscribe_everywhere
from tests.unit.sending.helpers import ISSUE, T0, Clock, ScriptedTransport, emails, runtime, seed


@pytest.fixture
def cfg(settings: Settings) -> Settings:
    return settings.model_copy(update={"SEND_BATCH_SIZE": 10})


def new_send(engine: Engine, cfg: Settings, segment: str | None = None) -> int:
    list_id, _ = check_audience(engine, "weekly", segment)
    return create_send(engine, cfg, ISSUE, list_id, segment, None, False, T0)


def started_send(engine: Engine, cfg: Settings, people: int) -> int:
    """`people` subscribers on "weekly" and a send to all of them, started (frozen) at T0."""
    seed(engine, people)
    send_id = new_send(engine, cfg)
    sends.start_send(engine, send_id, T0, 10, "UTC")
    return send_id


def batch_states(engine: Engine, send_id: int) -> Counter[str]:
    with engine.connect() as conn:
        rows = conn.execute(select(Batch.state).where(Batch.send_id == send_id)).scalars()
        return Counter(rows)


def test_every_recipient_of_the_segment_exactly_once_and_leavers_skipped(
    engine: Engine, cfg: Settings
) -> None:
    seed(engine, 45)
    send_id = new_send(engine, cfg, 'tags has "odd"')
    freeze = sends.start_send(engine, send_id, T0, 10, "UTC")
    assert freeze is not None and (freeze.recipients, freeze.batches) == (22, 3)
    assert sends.start_send(engine, send_id, T0, 10, "UTC") is None  # never started twice
    with transaction(engine) as session:  # leaves after the audience was frozen
        unsubscribe_everywhere(session, 2, "test")  # p0001
    transport = ScriptedTransport()
    result = run_send(runtime(engine, cfg, transport, Clock()), send_id)
    assert result.finished == "done"
    expected = set(emails(3, 45, 2))
    assert sorted(transport.accepted) == sorted(expected)  # no duplicates, nobody outside
    progress = send_control.progress(engine, send_id)
    assert (progress.total, progress.sent, progress.skipped, progress.pending) == (22, 21, 1, 0)
    with engine.connect() as conn:
        states = Counter(conn.execute(select(SendRecipient.state)).scalars())
    assert states == {RecipientState.SENT: 21, RecipientState.SKIPPED: 1}


def test_a_bad_segment_or_unknown_list_is_refused_before_anything_is_stored(
    engine: Engine, cfg: Settings
) -> None:
    seed(engine, 3)
    with pytest.raises(SegmentError, match="column"):
        check_audience(engine, "weekly", 'tags has "x" and (')
    with pytest.raises(NewsletterError, match="does not exist"):
        check_audience(engine, "nope", None)
    with engine.connect() as conn:
        assert conn.execute(select(Send.id)).first() is None


def test_a_batch_is_claimed_by_exactly_one_worker(engine: Engine, cfg: Settings) -> None:
    send_id = started_send(engine, cfg, 25)
    claims = [batches.claim_next(engine, send_id, T0) for _ in range(4)]
    assert [c.seq for c in claims if c] == [0, 1, 2]
    assert claims[3] is None
    assert len({c.token for c in claims if c}) == 3


def test_permanent_failure_fails_its_batch_visibly_and_the_rest_go_out(
    engine: Engine, cfg: Settings
) -> None:
    send_id = started_send(engine, cfg, 30)
    refusal = PermanentFailure("personalizations.0.to: The to array is required", 400)
    transport = ScriptedTransport([None, refusal])
    assert run_send(runtime(engine, cfg, transport, Clock()), send_id).finished == "failed"
    assert transport.requests == 3  # no retry storm
    progress = send_control.progress(engine, send_id)
    assert (progress.sent, progress.failed) == (20, 10)
    assert "The to array is required" in progress.errors[0]["error"]
    assert "400" in progress.errors[0]["error"]


def test_temporary_failures_retry_later_with_backoff(engine: Engine, cfg: Settings) -> None:
    send_id = started_send(engine, cfg, 10)
    clock = Clock()
    transport = ScriptedTransport([TemporaryFailure("503"), TemporaryFailure("timed out")])
    rt = runtime(engine, cfg, transport, clock)
    result = run_send(rt, send_id)
    assert result.finished is None and result.wait is not None and 0 <= result.wait <= 10
    with engine.connect() as conn:
        state, error = conn.execute(select(Batch.state, Batch.error)).one()
    assert state == BatchState.PENDING and "503" in (error or "")
    for _ in range(3):
        clock.advance(11)
        run_send(rt, send_id)
    assert send_control.progress(engine, send_id).state == "done"
    assert len(transport.accepted) == 10 and transport.requests == 3


def test_a_temporary_failure_that_never_ends_fails_the_batch_eventually(
    engine: Engine, cfg: Settings
) -> None:
    cfg = cfg.model_copy(update={"SEND_MAX_ATTEMPTS": 3})
    send_id = started_send(engine, cfg, 5)
    clock = Clock()
    rt = runtime(engine, cfg, ScriptedTransport([TemporaryFailure("503")] * 5), clock)
    for _ in range(4):
        run_send(rt, send_id)
        clock.advance(11)
    progress = send_control.progress(engine, send_id)
    assert progress.state == "failed" and "gave up after 3 attempts" in progress.errors[0]["error"]


def test_rate_limit_holds_back_the_whole_send_until_reset(engine: Engine, cfg: Settings) -> None:
    send_id = started_send(engine, cfg, 30)
    clock = Clock()
    transport = ScriptedTransport([RateLimited("429", retry_after=30)])
    rt = runtime(engine, cfg, transport, clock)
    result = run_send(rt, send_id)
    assert transport.requests == 1 and result.wait == pytest.approx(30)
    assert batches.claim_next(engine, send_id, clock() + timedelta(seconds=29)) is None
    clock.advance(31)
    assert run_send(rt, send_id).finished == "done"
    assert sorted(transport.accepted) == sorted(emails(0, 30))


def test_too_large_splits_the_batch_into_two_new_ones(engine: Engine, cfg: Settings) -> None:
    send_id = started_send(engine, cfg, 10)
    transport = ScriptedTransport([PayloadTooLarge("content too large", 413)])
    assert run_send(runtime(engine, cfg, transport, Clock()), send_id).finished == "done"
    assert sorted(transport.accepted) == sorted(emails(0, 10))
    assert batch_states(engine, send_id) == {BatchState.SENT: 2, BatchState.SKIPPED: 1}
    assert send_control.progress(engine, send_id).total == 10


def test_dead_workers_claims_are_released_or_marked_uncertain(
    engine: Engine, cfg: Settings
) -> None:
    send_id = started_send(engine, cfg, 30)
    never_asked = batches.claim_next(engine, send_id, T0)
    in_request = batches.claim_next(engine, send_id, T0)
    assert never_asked and in_request
    assert batches.mark_requesting(engine, in_request, T0)
    assert batch_repair.reap_stale(engine, T0 + timedelta(seconds=5), lease_seconds=60) == (0, 0)
    later = T0 + timedelta(seconds=61)
    assert batch_repair.reap_stale(engine, later, lease_seconds=60) == (1, 1)
    # A late answer from the "dead" worker still records the truth.
    transport = ScriptedTransport()
    run_send(runtime(engine, cfg, transport, Clock(later)), send_id)
    progress = send_control.progress(engine, send_id)
    assert (progress.state, progress.sent, progress.uncertain) == ("done", 20, 10)
    assert "resend-uncertain" in progress.errors[0]["error"]
    send_control.resume(engine, send_id, resend_uncertain=True)
    run_send(runtime(engine, cfg, transport, Clock(later)), send_id)
    assert sorted(transport.accepted) == sorted(emails(0, 30))


def test_pause_resume_and_cancel(engine: Engine, cfg: Settings) -> None:
    seed(engine, 30)
    send_id = new_send(engine, cfg)
    assert send_control.pause(engine, send_id) == "paused"
    assert send_control.resume(engine, send_id) == "scheduled"  # it never started
    sends.start_send(engine, send_id, T0, 10, "UTC")
    in_flight = batches.claim_next(engine, send_id, T0)
    assert send_control.pause(engine, send_id) == "paused"
    assert batches.claim_next(engine, send_id, T0) is None
    assert in_flight and batches.record_sent(engine, in_flight, "m", 10, [], T0)  # claimed finish
    assert send_control.resume(engine, send_id) == "sending"
    assert send_control.cancel(engine, send_id, T0) == "cancelled"
    assert batch_states(engine, send_id) == {BatchState.SENT: 1, BatchState.CANCELLED: 2}
    with pytest.raises(NewsletterError, match="cannot resume"):
        send_control.resume(engine, send_id)
    assert send_control.progress(engine, send_id).cancelled == 20


def test_local_time_groups_are_due_at_their_own_wall_clock(engine: Engine, cfg: Settings) -> None:
    zones = ["Asia/Tokyo", "Europe/Paris", None]
    list_id = seed(engine, 30, zone=lambda i: zones[i % 3])
    wall = datetime(2026, 11, 30, 8, 0)
    from mailer.sending.plan import local_due_at
    from mailer.sending.schedule import When

    when = When(wall, local_due_at(wall, None, "UTC"), "UTC")
    send_id = create_send(engine, cfg, ISSUE, list_id, None, when, True, T0 - timedelta(days=2))
    start = send_control.get_send(engine, send_id).scheduled_at
    assert start is not None and start <= local_due_at(wall, "Asia/Tokyo", "UTC")
    assert sends.start_send(engine, send_id, start, 10, "UTC") is not None
    with engine.connect() as conn:
        due = dict(conn.execute(select(Batch.timezone, Batch.due_at)).all())
    assert due == {
        "Asia/Tokyo": local_due_at(wall, "Asia/Tokyo", "UTC"),
        "Europe/Paris": local_due_at(wall, "Europe/Paris", "UTC"),
        None: local_due_at(wall, None, "UTC"),
    }
    transport = ScriptedTransport()
    tokyo, default = due["Asia/Tokyo"], due[None]
    assert tokyo is not None and default is not None
    clock = Clock(tokyo)
    run_send(runtime(engine, cfg, transport, clock), send_id)
    assert sorted(transport.accepted) == sorted(emails(0, 30, 3))  # only Tokyo so far
    clock.now = default
    assert run_send(runtime(engine, cfg, transport, clock), send_id).finished == "done"
    assert len(transport.accepted) == 30


def test_each_batch_counts_exactly_the_recipients_frozen_into_it(
    engine: Engine, cfg: Settings
) -> None:
    """Batch sizes are worked out, not counted back: uneven groups must still add up."""
    zones = ["Asia/Tokyo", "Europe/Paris", "Europe/Paris", None]
    list_id = seed(engine, 47, zone=lambda i: zones[i % 4])  # groups of 12, 24 and 11
    from mailer.sending.plan import local_due_at
    from mailer.sending.schedule import When

    wall = datetime(2026, 11, 30, 8, 0)
    when = When(wall, local_due_at(wall, None, "UTC"), "UTC")
    send_id = create_send(engine, cfg, ISSUE, list_id, None, when, True, T0 - timedelta(days=2))
    freeze = sends.start_send(engine, send_id, T0 + timedelta(days=1), 10, "UTC")
    assert freeze is not None and (freeze.recipients, freeze.batches) == (47, 7)
    with engine.connect() as conn:
        stored = dict(conn.execute(select(Batch.seq, Batch.recipient_count)).all())
        frozen = Counter(conn.execute(select(SendRecipient.batch_seq)).scalars())
    assert stored == dict(frozen)
    assert sorted(stored.values()) == [1, 2, 4, 10, 10, 10, 10]


def test_test_copy_goes_to_one_address_only(engine: Engine, cfg: Settings) -> None:
    seed(engine, 5)
    transport = ScriptedTransport()
    send_id, message_id = send_test_copy(engine, cfg, transport, ISSUE, "me@example.net", T0)
    assert transport.accepted == ["me@example.net"] and message_id
    progress = send_control.progress(engine, send_id)
    assert (progress.state, progress.sent, progress.test_to) == ("done", 1, "me@example.net")


def test_stalled_sends_are_noticed(engine: Engine, cfg: Settings) -> None:
    send_id = started_send(engine, cfg, 20)
    assert not sends.stalled(engine, send_id, T0 + timedelta(seconds=10), quiet_seconds=30)
    assert sends.stalled(engine, send_id, T0 + timedelta(seconds=31), quiet_seconds=30)
    with transaction(engine) as session:
        session.execute(update(Batch).values(state=BatchState.SENT))
    assert not sends.stalled(engine, send_id, T0 + timedelta(seconds=31), quiet_seconds=30)

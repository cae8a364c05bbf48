"""What a batch records when it ends otherwise than sent: skipped, failed, uncertain (the
mutation run, scripts/mutate, found these written but never read by a test)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, timedelta

from sqlalchemy import Engine, select, update

from mailer.core.models import Batch, BatchState, RecipientState, Send, SendRecipient
from mailer.core.settings import Settings
from mailer.sending import batch_repair, batches
from mailer.sending.pipeline import run_send, seconds_until_claimable, utcnow
from mailer.sending.plan import RetryPolicy
from mailer.transport.base import PermanentFailure, TemporaryFailure
from subscribers.db import transaction
from subscribers.status import unsubscribe_everywhere
from tests.unit.sending.helpers import (
    T0,
    Clock,
    ScriptedTransport,
    emails,
    runtime,
    started_send,
    started_send_again,
)


def leave(engine: Engine, *numbers: int) -> None:
    """p<number> unsubscribes everywhere after the freeze (subscriber ids are number + 1)."""
    with transaction(engine) as session:
        for number in numbers:
            unsubscribe_everywhere(session, number + 1, "test")


def batch_rows(engine: Engine, send_id: int) -> dict[int, tuple[str, object, str | None]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(Batch.seq, Batch.state, Batch.finished_at, Batch.error).where(
                Batch.send_id == send_id
            )
        )
        return {seq: (state, finished, error) for seq, state, finished, error in rows}


def recipient_states(engine: Engine, send_id: int) -> dict[int, str]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(SendRecipient.subscriber_id, SendRecipient.state).where(
                SendRecipient.send_id == send_id
            )
        )
        return {sid - 1: state for sid, state in rows}  # by p-number


def test_a_batch_everybody_left_is_skipped_without_a_request(engine: Engine, cfg: Settings) -> None:
    send_id = started_send(engine, cfg, 20)
    leave(engine, *range(10))  # all of batch 0
    clock = Clock()
    clock.advance(5)
    transport = ScriptedTransport()
    assert run_send(runtime(engine, cfg, transport, clock), send_id).finished == "done"
    assert transport.requests == 1 and Counter(transport.accepted) == Counter(emails(10, 20))
    rows = batch_rows(engine, send_id)
    assert rows[0] == (BatchState.SKIPPED, clock(), "no active recipients left")
    assert rows[1][:2] == (BatchState.SENT, clock())
    states = recipient_states(engine, send_id)
    assert {states[n] for n in range(10)} == {RecipientState.SKIPPED}
    assert {states[n] for n in range(10, 20)} == {RecipientState.SENT}


def test_a_refused_batch_records_when_and_why_and_its_leavers_are_skipped(
    engine: Engine, cfg: Settings
) -> None:
    send_id = started_send(engine, cfg, 10)
    leave(engine, 4)
    clock = Clock()
    clock.advance(7)
    refusal = PermanentFailure("x" * 5000, 400)
    run_send(runtime(engine, cfg, ScriptedTransport([refusal]), clock), send_id)
    state, finished, error = batch_rows(engine, send_id)[0]
    assert (state, finished) == (BatchState.FAILED, clock())
    assert error is not None and len(error) == 4000 and error.startswith("SendGrid refused (400)")
    states = recipient_states(engine, send_id)
    assert states.pop(4) == RecipientState.SKIPPED
    assert set(states.values()) == {RecipientState.FAILED}


def test_an_unexpected_error_during_the_request_makes_the_batch_uncertain(
    engine: Engine, cfg: Settings
) -> None:
    send_id = started_send(engine, cfg, 10)
    leave(engine, 2)
    clock = Clock()
    run_send(runtime(engine, cfg, ScriptedTransport([RuntimeError("socket gone")]), clock), send_id)
    state, finished, error = batch_rows(engine, send_id)[0]
    assert (state, finished) == (BatchState.UNCERTAIN, clock())
    assert error is not None and "(RuntimeError: socket gone)" in error
    assert "outcome unknown" in error
    states = recipient_states(engine, send_id)
    assert states.pop(2) == RecipientState.SKIPPED
    assert set(states.values()) == {RecipientState.UNCERTAIN}


def test_writes_of_a_claim_that_is_no_longer_held_change_nothing(
    engine: Engine, cfg: Settings
) -> None:
    send_id = started_send(engine, cfg, 10)
    claim = batches.claim_next(engine, send_id, T0)
    assert claim is not None
    assert batches.record_skipped(engine, claim, [], T0)
    for write in (
        lambda: batches.record_skipped(engine, claim, [], T0),
        lambda: batches.record_failed(engine, claim, "late", [], T0),
        lambda: batches.mark_requesting(engine, claim, T0),
    ):
        assert write() is False
    assert batch_rows(engine, send_id)[0][0] == BatchState.SKIPPED


def test_a_late_answer_turns_an_uncertain_batch_sent(engine: Engine, cfg: Settings) -> None:
    """The reaper called the batch uncertain; the worker's 202 arrives after all: the truth wins."""
    send_id = started_send(engine, cfg, 10)
    claim = batches.claim_next(engine, send_id, T0)
    assert claim is not None and batches.mark_requesting(engine, claim, T0)
    later = T0 + timedelta(seconds=61)
    assert batch_repair.reap_stale(engine, later, lease_seconds=60) == (0, 1)
    assert batches.record_sent(engine, claim, "msg-late", 10, [], later)
    assert batch_rows(engine, send_id)[0] == (BatchState.SENT, later, None)
    assert set(recipient_states(engine, send_id).values()) == {RecipientState.SENT}


def test_a_temporary_failure_holds_back_only_its_own_batch(engine: Engine, cfg: Settings) -> None:
    send_id = started_send(engine, cfg, 30)
    transport = ScriptedTransport([TemporaryFailure("y" * 5000)])
    run_send(runtime(engine, cfg, transport, Clock()), send_id)
    assert Counter(transport.accepted) == Counter(emails(10, 30))  # the others went out
    with engine.connect() as conn:
        throttled = conn.scalar(select(Send.throttled_until).where(Send.id == send_id))
        state, worker, error = conn.execute(
            select(Batch.state, Batch.worker_id, Batch.error).where(Batch.seq == 0)
        ).one()
    assert throttled is None  # only a 429 holds back the whole send
    assert (state, worker) == (BatchState.PENDING, None)  # pending again, nobody's
    assert error is not None and len(error) == 4000


def test_the_send_is_held_back_until_the_latest_rate_limit_reset(
    engine: Engine, cfg: Settings
) -> None:
    send_id = started_send(engine, cfg, 40)
    claims = [batches.claim_next(engine, send_id, T0) for _ in range(4)]

    def retry(index: int, seconds: int, throttle: bool = True) -> object:
        claim = claims[index]
        assert claim is not None
        until = T0 + timedelta(seconds=seconds)
        assert batches.record_retry(engine, claim, "429", until, throttle=throttle)
        return retry_hold(engine, send_id)

    assert retry(0, 30) == T0 + timedelta(seconds=30)
    assert retry(1, 10) == T0 + timedelta(seconds=30)  # a shorter reset never shortens it
    assert retry(2, 60) == T0 + timedelta(seconds=60)  # a longer one extends it
    assert retry(3, 90, throttle=False) == T0 + timedelta(seconds=60)
    first = claims[0]
    assert first is not None  # a lost claim's 429 holds back nothing
    assert not batches.record_retry(engine, first, "429", T0 + timedelta(hours=1), throttle=True)
    assert retry_hold(engine, send_id) == T0 + timedelta(seconds=60)


def retry_hold(engine: Engine, send_id: int) -> object:
    with engine.connect() as conn:
        return conn.scalar(select(Send.throttled_until).where(Send.id == send_id))


def test_the_reaper_frees_claims_older_than_the_lease_and_judges_requested_ones(
    engine: Engine, cfg: Settings
) -> None:
    send_id = started_send(engine, cfg, 20)
    idle, asked = batches.claim_next(engine, send_id, T0), batches.claim_next(engine, send_id, T0)
    assert idle is not None and asked is not None
    assert batches.mark_requesting(engine, asked, T0)
    at_the_lease = T0 + timedelta(seconds=60)
    assert batch_repair.reap_stale(engine, at_the_lease, lease_seconds=60) == (0, 0)
    later = at_the_lease + timedelta(seconds=1)
    assert batch_repair.reap_stale(engine, later, lease_seconds=60) == (1, 1)
    with engine.connect() as conn:
        rows = {
            seq: (state, worker, finished)
            for seq, state, worker, finished in conn.execute(
                select(Batch.seq, Batch.state, Batch.worker_id, Batch.finished_at)
            )
        }
    assert rows[0] == (BatchState.PENDING, None, None)  # free for anyone, nobody's
    assert rows[1] == (BatchState.UNCERTAIN, asked.token, later)


def test_without_retry_after_a_temporary_failure_waits_only_the_backoff(
    engine: Engine, cfg: Settings
) -> None:
    """A zero backoff retries in the same run, and giving up records when it did."""
    send_id = started_send(engine, cfg, 10)
    clock = Clock()
    transport = ScriptedTransport([TemporaryFailure("503")])
    rt = runtime(engine, cfg, transport, clock)
    rt.retry = RetryPolicy(base=0, cap=0)
    assert run_send(rt, send_id).finished == "done" and transport.requests == 2
    cfg1 = cfg.model_copy(update={"SEND_MAX_ATTEMPTS": 1})
    second = started_send_again(engine, cfg1)
    clock.advance(9)
    run_send(runtime(engine, cfg1, ScriptedTransport([TemporaryFailure("503")]), clock), second)
    state, finished, error = batch_rows(engine, second)[0]
    assert (state, finished) == (BatchState.FAILED, clock())
    assert error is not None and error.startswith("gave up after 1 attempts")


def test_the_wait_until_more_work_counts_this_send_s_pending_batches_only(
    engine: Engine, cfg: Settings
) -> None:
    send_id = started_send(engine, cfg, 20)
    started_send_again(engine, cfg)  # another send, due now
    retried, done = batches.claim_next(engine, send_id, T0), batches.claim_next(engine, send_id, T0)
    assert retried is not None and done is not None
    batches.record_retry(engine, retried, "503", T0 + timedelta(seconds=30), throttle=False)
    batches.record_sent(engine, done, "m", 10, [], T0)
    assert seconds_until_claimable(engine, send_id, T0) == 30
    assert seconds_until_claimable(engine, send_id, T0 + timedelta(seconds=29.75)) == 0.25
    assert seconds_until_claimable(engine, send_id, T0 + timedelta(seconds=31)) == 0.0  # overdue
    with transaction(engine) as session:  # local time: not due for two minutes anyway
        session.execute(
            update(Batch)
            .where(Batch.id == retried.batch_id)
            .values(due_at=T0 + timedelta(seconds=120))
        )
    assert seconds_until_claimable(engine, send_id, T0) == 120
    assert utcnow().tzinfo is UTC

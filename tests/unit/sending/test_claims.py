"""Which batch a claim may take, and what a claim and a 202 leave on the batch: tests written
from survivors of the mutation run in mailer/sending/batches.py (docs/mutation.md)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, select, update

from mailer.core.models import Batch, BatchState, RecipientState, SendRecipient
from mailer.core.settings import Settings
from mailer.events.settle import RESENT_NOTE
from mailer.sending import batch_repair, batches
from mailer.sending.control import pause
from subscribers.db import transaction
from tests.unit.sending.helpers import T0, started_send, started_send_again

LEASE = 60


def test_a_paused_send_is_not_claimed_while_another_send_runs(
    engine: Engine, cfg: Settings
) -> None:
    """ "Running" is this send's state, not any send's: another running send changes nothing."""
    paused = started_send(engine, cfg, 20)
    running = started_send_again(engine, cfg)
    pause(engine, paused)
    assert batches.claim_next(engine, paused, T0) is None
    claim = batches.claim_next(engine, running, T0)
    assert claim is not None and claim.send_id == running


def test_a_rate_limited_send_is_claimable_again_at_the_reset_instant(
    engine: Engine, cfg: Settings
) -> None:
    """The send's hold ends when the batch's own wait does: at the reset instant, not after."""
    send_id = started_send(engine, cfg, 10)
    claim = batches.claim_next(engine, send_id, T0)
    assert claim is not None
    reset = T0 + timedelta(seconds=30)
    assert batches.record_retry(engine, claim, "429", reset, throttle=True)
    assert batches.claim_next(engine, send_id, reset - timedelta(microseconds=1)) is None
    again = batches.claim_next(engine, send_id, reset)
    assert again is not None and (again.batch_id, again.attempts) == (claim.batch_id, 2)


def test_a_retried_batch_claimed_again_is_not_taken_for_requested(
    engine: Engine, cfg: Settings
) -> None:
    """Requested, refused for now, claimed again, and the worker dies before its request: the
    reaper frees the batch (nothing went out) instead of calling it uncertain."""
    send_id = started_send(engine, cfg, 10)
    first = batches.claim_next(engine, send_id, T0)
    assert first is not None and batches.mark_requesting(engine, first, T0)
    later = T0 + timedelta(seconds=5)
    assert batches.record_retry(engine, first, "503", later, throttle=False)
    second = batches.claim_next(engine, send_id, later)
    assert second is not None and second.batch_id == first.batch_id
    after_lease = later + timedelta(seconds=LEASE + 1)
    assert batch_repair.reap_stale(engine, after_lease, LEASE) == (1, 0)  # freed, not judged
    with engine.connect() as conn:
        state = conn.scalar(select(Batch.state).where(Batch.id == first.batch_id))
    assert state == BatchState.PENDING


def test_a_202_keeps_a_settlement_s_note_and_clears_any_other_error(
    engine: Engine, cfg: Settings
) -> None:
    """status and the report show which batches were sent again after a lost answer."""
    send_id = started_send(engine, cfg, 20)
    resent, retried = (
        batches.claim_next(engine, send_id, T0),
        batches.claim_next(engine, send_id, T0),
    )
    assert resent is not None and retried is not None
    with transaction(engine) as session:  # what settle writes on a batch it sends again
        session.execute(update(Batch).where(Batch.id == resent.batch_id).values(error=RESENT_NOTE))
    assert batches.record_retry(engine, retried, "503 try later", T0, throttle=False)
    again = batches.claim_next(engine, send_id, T0)
    assert again is not None and again.batch_id == retried.batch_id
    assert batches.record_sent(engine, resent, "m1", 10, [], T0)
    assert batches.record_sent(engine, again, "m2", 10, [], T0)
    with engine.connect() as conn:
        rows = conn.execute(select(Batch.id, Batch.error).where(Batch.send_id == send_id))
        errors = {batch: error for batch, error in rows}
    assert errors == {resent.batch_id: RESENT_NOTE, retried.batch_id: None}


def test_more_than_500_leavers_of_one_batch_are_all_skipped(engine: Engine, cfg: Settings) -> None:
    """The leavers are written in chunks (bounded IN lists); none falls between two chunks."""
    send_id = started_send(engine, cfg, 502, batch_size=502)
    claim = batches.claim_next(engine, send_id, T0)
    assert claim is not None
    gone = list(range(1, 502))  # subscriber ids: everybody but the last one left meanwhile
    assert batches.record_sent(engine, claim, "m", 1, gone, T0)
    with engine.connect() as conn:
        rows = conn.execute(
            select(SendRecipient.subscriber_id, SendRecipient.state).where(
                SendRecipient.send_id == send_id
            )
        )
        states = {sid: state for sid, state in rows}
    assert states == {sid: RecipientState.SKIPPED for sid in gone} | {502: RecipientState.SENT}


def test_the_reaper_judges_a_silent_request_s_own_recipients_only(
    engine: Engine, cfg: Settings
) -> None:
    """Two sends, each with a batch 0 in the middle of its request: only the one past its lease
    turns uncertain, and only its own people with it (batch numbers repeat across sends)."""
    silent, busy = started_send(engine, cfg, 20), started_send_again(engine, cfg)
    fresh = T0 + timedelta(seconds=50)
    old, new = batches.claim_next(engine, silent, T0), batches.claim_next(engine, busy, fresh)
    assert old is not None and new is not None and old.seq == new.seq == 0
    assert batches.mark_requesting(engine, old, T0) and batches.mark_requesting(engine, new, fresh)
    assert batch_repair.reap_stale(engine, T0 + timedelta(seconds=LEASE + 1), LEASE) == (0, 1)
    with engine.connect() as conn:
        rows = conn.execute(
            select(SendRecipient.send_id, SendRecipient.batch_seq, SendRecipient.state)
        ).all()
        judged = conn.execute(select(Batch.send_id, Batch.seq, Batch.state)).all()
    people = {(send, seq, state) for send, seq, state in rows}
    assert people == {
        (silent, 0, RecipientState.UNCERTAIN),
        (silent, 1, RecipientState.QUEUED),
        (busy, 0, RecipientState.QUEUED),
        (busy, 1, RecipientState.QUEUED),
    }
    assert set(judged) == {
        (silent, 0, BatchState.UNCERTAIN),
        (silent, 1, BatchState.PENDING),
        (busy, 0, BatchState.CLAIMED),
        (busy, 1, BatchState.PENDING),
    }

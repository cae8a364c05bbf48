"""A runner's turn as the Celery task sees it (what run_send returns) and the outcomes the
other tests reach only through the fake SendGrid server: tests written from survivors of the
mutation run in mailer/sending/pipeline.py (docs/mutation.md)."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import Engine, select

from mailer.core.models import Batch, BatchState, RecipientState, SendRecipient
from mailer.core.settings import Settings
from mailer.sending.pipeline import UNCERTAIN_HINT, RunResult, message_for, run_send
from mailer.transport.base import PayloadTooLarge, UncertainOutcome
from subscribers.db import transaction
from subscribers.status import unsubscribe_everywhere
from tests.unit.sending.helpers import Clock, ScriptedTransport, emails, runtime, started_send
from tests.unit.sending.test_exactly_once_guards import sends_row


def test_a_runner_turn_counts_its_batches_and_says_when_to_come_back(
    engine: Engine, cfg: Settings
) -> None:
    send_id = started_send(engine, cfg, 30)  # batches 0, 1, 2
    transport = ScriptedTransport()
    rt = runtime(engine, cfg, transport, Clock())
    assert run_send(rt, send_id, max_batches=1) == RunResult(batches=1, finished=None, wait=0.0)
    rt.stopping = lambda: True  # a warm shutdown: claim nothing, come back at once
    assert run_send(rt, send_id) == RunResult(batches=0, finished=None, wait=0.0)
    rt.stopping = lambda: False
    assert run_send(rt, send_id) == RunResult(batches=2, finished="done", wait=None)
    assert Counter(transport.accepted) == Counter(emails(0, 30))


def test_an_unknown_outcome_leaves_the_batch_and_its_people_uncertain_not_retried(
    engine: Engine, cfg: Settings
) -> None:
    send_id = started_send(engine, cfg, 20)
    with transaction(engine) as session:
        unsubscribe_everywhere(session, 4, "test")  # p0003, in batch 0, left after the freeze
    transport = ScriptedTransport([UncertainOutcome("read timeout")])
    result = run_send(runtime(engine, cfg, transport, Clock()), send_id)
    assert (result.batches, transport.requests) == (2, 2)  # batch 0 is never asked again
    with engine.connect() as conn:
        state, error = conn.execute(select(Batch.state, Batch.error).where(Batch.seq == 0)).one()
        rows = conn.execute(
            select(SendRecipient.subscriber_id, SendRecipient.state).where(
                SendRecipient.batch_seq == 0
            )
        )
        people = {sid: state for sid, state in rows}
    assert (state, error) == (BatchState.UNCERTAIN, f"read timeout ({UNCERTAIN_HINT})")
    assert people.pop(4) == RecipientState.SKIPPED
    assert set(people.values()) == {RecipientState.UNCERTAIN}


def test_a_batch_of_two_too_large_is_split_and_both_halves_go(
    engine: Engine, cfg: Settings
) -> None:
    send_id = started_send(engine, cfg, 2)
    transport = ScriptedTransport([PayloadTooLarge("413", status=413)])
    result = run_send(runtime(engine, cfg, transport, Clock()), send_id)
    assert (result.finished, transport.requests) == ("done", 3)
    assert Counter(transport.accepted) == Counter(emails(0, 2))


def test_the_list_id_names_the_send_s_list(engine: Engine, cfg: Settings) -> None:
    send_id = started_send(engine, cfg, 1)
    header = message_for(engine, sends_row(engine, send_id), cfg).list_id_header
    assert header == f"weekly <weekly.{cfg.LIST_ID_DOMAIN}>"

"""A runner's turn as the Celery task sees it (what run_send returns) and the outcomes the
other tests reach only through the fake SendGrid server: tests written from survivors of the
mutation run in mailer/sending/pipeline.py (docs/mutation.md)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from mailer.core.models import Batch, BatchState, RecipientState, SendRecipient
from mailer.core.settings import Settings
from mailer.issue import placeholders as ph
from mailer.readers.links import TEST_SUBSCRIBER, Purpose, Signer
from mailer.sending import batch_repair, batches
from mailer.sending.create import check_audience, create_send, send_test_copy
from mailer.sending.pipeline import (
    UNCERTAIN_HINT,
    RunResult,
    deliver_batch,
    frozen_send,
    message_for,
    run_send,
)
from mailer.transport.base import (
    Payload,
    PayloadTooLarge,
    PermanentFailure,
    RateLimited,
    Receipt,
    UncertainOutcome,
)
from subscribers.db import transaction
from subscribers.status import unsubscribe_everywhere
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
from tests.unit.sending.test_exactly_once_guards import sends_row


def test_a_runner_turn_counts_its_batches_and_says_when_to_come_back(
    engine: Engine, cfg: Settings
) -> None:
    send_id = started_send(engine, cfg, 30)  # batches 0, 1, 2
    transport = ScriptedTransport()
    clock = Clock()
    rt = runtime(engine, cfg, transport, clock)
    assert run_send(rt, send_id, max_batches=1) == RunResult(batches=1, finished=None, wait=0.0)
    rt.stopping = lambda: True  # a warm shutdown: claim nothing, come back at once
    assert run_send(rt, send_id) == RunResult(batches=0, finished=None, wait=0.0)
    rt.stopping = lambda: False
    clock.advance(5)
    assert run_send(rt, send_id) == RunResult(batches=2, finished="done", wait=None)
    assert Counter(transport.accepted) == Counter(emails(0, 30))
    assert sends_row(engine, send_id).finished_at == clock()  # status and reports show it


def test_an_unknown_outcome_leaves_the_batch_and_its_people_uncertain_not_retried(
    engine: Engine, cfg: Settings
) -> None:
    send_id = started_send(engine, cfg, 20)
    with transaction(engine) as session:
        unsubscribe_everywhere(session, 4, "test")  # p0003, in batch 0, left after the freeze
    transport = ScriptedTransport([UncertainOutcome("read timeout")])
    clock = Clock(T0 + timedelta(seconds=7))
    result = run_send(runtime(engine, cfg, transport, clock), send_id)
    assert (result.batches, transport.requests) == (2, 2)  # batch 0 is never asked again
    with engine.connect() as conn:
        state, error, finished = conn.execute(
            select(Batch.state, Batch.error, Batch.finished_at).where(Batch.seq == 0)
        ).one()
        rows = conn.execute(
            select(SendRecipient.subscriber_id, SendRecipient.state).where(
                SendRecipient.batch_seq == 0
            )
        )
        people = {sid: state for sid, state in rows}
    assert (state, error) == (BatchState.UNCERTAIN, f"read timeout ({UNCERTAIN_HINT})")
    assert finished == clock()
    assert people.pop(4) == RecipientState.SKIPPED
    assert set(people.values()) == {RecipientState.UNCERTAIN}


def test_a_batch_of_two_too_large_is_split_and_both_halves_go(
    engine: Engine, cfg: Settings
) -> None:
    send_id = started_send(engine, cfg, 2)
    transport = ScriptedTransport([PayloadTooLarge("413", status=413)])
    clock = Clock(T0 + timedelta(seconds=7))
    result = run_send(runtime(engine, cfg, transport, clock), send_id)
    assert (result.finished, transport.requests) == ("done", 3)
    assert Counter(transport.accepted) == Counter(emails(0, 2))
    with engine.connect() as conn:
        original = conn.execute(select(Batch.state, Batch.finished_at).where(Batch.seq == 0))
        assert original.one() == (BatchState.SKIPPED, clock())


def test_one_recipient_too_large_fails_visibly_rather_than_splitting(
    engine: Engine, cfg: Settings
) -> None:
    """Half of one person is nobody: a 413 for a single recipient is SendGrid's final word."""
    send_id = started_send(engine, cfg, 1)
    transport = ScriptedTransport([PayloadTooLarge("too big", status=413)])
    result = run_send(runtime(engine, cfg, transport, Clock()), send_id)
    assert (result.finished, transport.requests) == ("failed", 1)
    with engine.connect() as conn:
        state, error = conn.execute(select(Batch.state, Batch.error)).one()
    assert (state, error) == (BatchState.FAILED, "SendGrid refused (413): too big")


def test_delivering_a_batch_says_what_became_of_it(engine: Engine, cfg: Settings) -> None:
    send_id = started_send(engine, cfg, 6, batch_size=2)  # batches 0, 1, 2
    outcomes = [
        PayloadTooLarge("413", status=413),
        PermanentFailure("refused", 400),
        RateLimited("429", retry_after=30),
    ]
    rt = runtime(engine, cfg, ScriptedTransport(list(outcomes)), Clock())
    send, message = frozen_send(rt, send_id)
    said = []
    for _ in outcomes:
        claim = batches.claim_next(engine, send_id, T0)
        assert claim is not None
        said.append(deliver_batch(rt, send, message, claim))
    assert said == ["split", BatchState.FAILED, BatchState.PENDING]


def test_the_list_id_names_the_send_s_list(engine: Engine, cfg: Settings) -> None:
    send_id = started_send(engine, cfg, 1)
    header = message_for(engine, sends_row(engine, send_id), cfg).list_id_header
    assert header == f"weekly <weekly.{cfg.LIST_ID_DOMAIN}>"


def test_each_request_comes_from_the_sender_with_the_reader_s_signed_links_and_its_batch(
    engine: Engine, cfg: Settings
) -> None:
    cfg = cfg.model_copy(
        update={
            "FROM_EMAIL": "desk@news.example.test",
            "FROM_NAME": "The Desk",
            "REPLY_TO": "editor@news.example.test",
            "LIST_UNSUBSCRIBE_MAILTO": "leave@news.example.test",
            "PUBLIC_BASE_URL": "https://letters.example.test",
        }
    )
    send_id = started_send(engine, cfg, 20)  # batches 0 and 1
    transport = ScriptedTransport()
    clock = Clock(T0 + timedelta(seconds=90))
    run_send(runtime(engine, cfg, transport, clock), send_id)
    list_id = sends_row(engine, send_id).list_id
    with engine.connect() as conn:
        rows = conn.execute(select(SendRecipient.subscriber_id, SendRecipient.batch_seq))
        batch_of = {sid: str(seq) for sid, seq in rows}
    prefix, signer = "https://letters.example.test/u/", Signer(cfg.SECRET_KEY)
    assert len(transport.payloads) == 2
    for payload in transport.payloads:
        assert payload["from"] == {"email": "desk@news.example.test", "name": "The Desk"}
        assert payload["reply_to"] == {"email": "editor@news.example.test"}
        for person in payload["personalizations"]:
            sid = int(person["custom_args"]["nl_subscriber_id"])
            assert person["custom_args"]["nl_batch"] == batch_of[sid]  # settles a lost answer
            url = person["substitutions"][ph.UNSUBSCRIBE_URL]
            assert url.startswith(prefix)
            token = signer.read(url.removeprefix(prefix), Purpose.UNSUBSCRIBE)
            assert (token.subscriber_id, token.list_id, token.send_id) == (sid, list_id, send_id)
            assert token.issued_at == int(clock().timestamp())
            mailto = f"<mailto:leave@news.example.test?subject=unsubscribe%20{url[len(prefix) :]}>"
            assert person["headers"]["List-Unsubscribe"] == f"<{url}>, {mailto}"


def test_a_test_copy_s_links_stand_for_no_reader_and_no_list(engine: Engine, cfg: Settings) -> None:
    """The pages answer them as a test copy's; a list number would make its unsubscribe page
    offer to leave some list (list 1 here) instead of changing nobody."""
    seed(engine, 1)
    transport = ScriptedTransport()
    send_id, _ = send_test_copy(engine, cfg, transport, ISSUE, "me@example.net", T0)
    url = transport.payloads[0]["personalizations"][0]["substitutions"][ph.UNSUBSCRIBE_URL]
    token = Signer(cfg.SECRET_KEY).read(url.rsplit("/", 1)[1], Purpose.UNSUBSCRIBE)
    assert (token.subscriber_id, token.list_id, token.send_id) == (TEST_SUBSCRIBER, 0, send_id)


def test_the_rate_limiter_is_asked_for_each_person_the_batch_mails(
    engine: Engine, cfg: Settings
) -> None:
    send_id = started_send(engine, cfg, 20)
    with transaction(engine) as session:
        unsubscribe_everywhere(session, 4, "test")  # p0003 of batch 0, after the freeze
    asked: list[int] = []
    rt = runtime(engine, cfg, ScriptedTransport(), Clock())
    rt.limiter = Recording(asked)
    run_send(rt, send_id)
    assert sorted(asked) == [9, 10]


class Recording:
    def __init__(self, asked: list[int]) -> None:
        self.asked = asked

    def acquire(self, amount: int) -> float:
        self.asked.append(amount)
        return 0.0


class WorkerKilled(BaseException):
    """The process dies mid-request (SIGKILL, OOM): no `except Exception` runs."""


class Dying:
    def deliver(self, payload: Payload) -> Receipt:
        raise WorkerKilled


def test_a_worker_killed_during_its_request_leaves_a_batch_the_reaper_judges_uncertain(
    engine: Engine, cfg: Settings
) -> None:
    """The request may have reached SendGrid: the batch must say so (requested, and when), so
    the reaper makes it uncertain after the lease instead of handing it out again."""
    send_id = started_send(engine, cfg, 10)
    rt = runtime(engine, cfg, ScriptedTransport(), Clock())
    rt.transport = Dying()
    with pytest.raises(WorkerKilled):
        run_send(rt, send_id)
    assert batch_repair.reap_stale(engine, T0 + timedelta(seconds=59), lease_seconds=60) == (0, 0)
    assert batch_repair.reap_stale(engine, T0 + timedelta(seconds=61), lease_seconds=60) == (0, 1)
    with engine.connect() as conn:
        assert conn.execute(select(Batch.state)).scalar_one() == BatchState.UNCERTAIN


def test_a_worker_remembers_the_last_eight_sends_it_served_and_still_serves_more(
    engine: Engine, cfg: Settings
) -> None:
    """The frozen issue is read once per send and worker; the cache forgets the oldest first."""
    seed(engine, 1)
    list_id, _ = check_audience(engine, "weekly", None)
    ids = [
        create_send(engine, cfg, ISSUE, list_id, None, None, False, T0, again=True)
        for _ in range(9)
    ]
    rt = runtime(engine, cfg, ScriptedTransport(), Clock())
    for send_id in ids:
        assert frozen_send(rt, send_id)[0].id == send_id
    assert list(rt.frozen) == ids[1:]

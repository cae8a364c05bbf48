"""Exactly once where the other tests do not look: claimers racing for one send, a worker that
comes back after its lease ran out ("zombie"), and people suppressed after the freeze.

Each test goes through the public batch functions and the pipeline only, never the SQL text, so
it holds for any correct claim implementation (a conditional UPDATE, SKIP LOCKED, ...). Run on
PostgreSQL too (NEWSLETTER_TEST_DB=postgresql): that is where the race can really happen.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine, event, select, update
from sqlalchemy.orm import Session

from mailer.core.models import Batch, BatchState, RecipientState, Send, SendRecipient
from mailer.core.settings import Settings
from mailer.sending import batch_repair, batches
from mailer.sending.pipeline import Runtime, deliver_batch, message_for, run_send
from mailer.sending.plan import RetryPolicy
from mailer.sending.ratelimit import RateLimiter
from subscribers.db import make_engine, transaction
from subscribers.models import Membership, MembershipStatus, Status, Subscriber
from subscribers.status import suppress
from tests.unit.sending.helpers import (
    T0,
    Clock,
    ScriptedTransport,
    emails,
    runtime,
    started_send,
)

CLAIMERS = 8
LEASE = 60.0


def claim_all(url: str, send_id: int, start: threading.Barrier) -> list[batches.Claim]:
    """One claimer with its own engine (so its own connections): claims until none is left."""
    own = make_engine(url)
    got: list[batches.Claim] = []
    try:
        start.wait()
        while (claim := batches.claim_next(own, send_id, T0)) is not None:
            got.append(claim)
    finally:
        own.dispose()
    return got


def test_concurrent_claimers_claim_every_batch_exactly_once(
    engine: Engine, cfg: Settings, database_url: str
) -> None:
    """Many claimers start at the same instant on one send: no batch goes to two of them."""
    send_id = started_send(engine, cfg, 200, batch_size=2)  # 100 batches to fight over
    start = threading.Barrier(CLAIMERS)
    results: list[list[batches.Claim]] = [[] for _ in range(CLAIMERS)]
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            results[index] = claim_all(database_url, send_id, start)
        except BaseException as exc:  # surfaced below: a thread's error must fail the test
            errors.append(exc)
            start.abort()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(CLAIMERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    claimed = Counter(claim.batch_id for got in results for claim in got)
    assert [b for b, times in claimed.items() if times > 1] == []  # nobody claimed twice
    with engine.connect() as conn:
        rows = conn.execute(
            select(Batch.id, Batch.state, Batch.attempts, Batch.worker_id).where(
                Batch.send_id == send_id
            )
        ).all()
    assert set(claimed) == {row.id for row in rows}  # and every batch by someone
    assert {(row.state, row.attempts) for row in rows} == {(BatchState.CLAIMED, 1)}
    tokens = {claim.batch_id: claim.token for got in results for claim in got}
    assert {row.id: row.worker_id for row in rows} == tokens  # the winner is the one recorded


@dataclass
class Stall:
    """A rate limiter that, the first time it is asked, lets `meanwhile` happen: the worker
    holding the claim is frozen (rate-limit wait, GC pause, a suspended VM) while it runs."""

    meanwhile: Callable[[], None]
    stalled: bool = False

    def acquire(self, amount: int) -> float:
        if not self.stalled:
            self.stalled = True
            self.meanwhile()
        return 0.0


def stalling_runtime(
    engine: Engine, cfg: Settings, transport: ScriptedTransport, clock: Clock, limiter: RateLimiter
) -> Runtime:
    return Runtime(
        engine, transport, cfg, limiter=limiter, retry=RetryPolicy(base=1, cap=10), clock=clock
    )


@pytest.mark.parametrize("other_worker_finished", [False, True])
def test_a_worker_back_from_a_stall_past_its_lease_does_not_send_again(
    engine: Engine, cfg: Settings, other_worker_finished: bool
) -> None:
    """The zombie story: A claims, stalls past the lease; the reaper frees the batch; B claims
    it (and has sent it, or is still at it); A wakes up, finds the batch is no longer its own
    and sends nothing. Everybody gets the issue exactly once, from B."""
    send_id = started_send(engine, cfg, 10)
    clock = Clock()
    late, fresh = ScriptedTransport(), ScriptedTransport()
    b_rt = runtime(engine, cfg, fresh, clock)
    b_claim: list[batches.Claim] = []

    def meanwhile() -> None:
        clock.advance(LEASE + 1)
        assert batch_repair.reap_stale(engine, clock(), LEASE) == (1, 0)  # A never requested
        claim = batches.claim_next(engine, send_id, clock())
        assert claim is not None and claim.seq == 0
        b_claim.append(claim)
        if other_worker_finished:
            assert deliver_batch(b_rt, send, message, claim) == BatchState.SENT

    a_rt = stalling_runtime(engine, cfg, late, clock, Stall(meanwhile))
    a_claim = batches.claim_next(engine, send_id, clock())
    assert a_claim is not None
    send = sends_row(engine, send_id)
    message = message_for(engine, send, cfg)
    assert deliver_batch(a_rt, send, message, a_claim) == "lost"
    assert late.requests == 0 and late.accepted == []  # the stale worker sent nothing
    if not other_worker_finished:
        assert deliver_batch(b_rt, send, message, b_claim[0]) == BatchState.SENT
    # A late write by A can no longer touch B's batch either.
    assert not batches.record_sent(engine, a_claim, "zombie", 10, [], clock())
    assert not batches.record_retry(engine, a_claim, "zombie", clock(), throttle=False)
    assert run_send(b_rt, send_id).finished == "done"
    assert Counter(fresh.accepted) == Counter(emails(0, 10))  # each exactly once
    with engine.connect() as conn:
        worker, message_id = conn.execute(
            select(Batch.worker_id, Batch.message_id).where(Batch.send_id == send_id)
        ).one()
    assert (worker, message_id) == (b_claim[0].token, "msg-1")


def sends_row(engine: Engine, send_id: int) -> Send:
    with Session(engine, expire_on_commit=False) as session:
        send = session.get_one(Send, send_id)
        session.expunge(send)
    return send


def test_people_suppressed_after_the_freeze_are_not_mailed(engine: Engine, cfg: Settings) -> None:
    """Bounced or complained after the audience froze, still on the list: not mailed, skipped."""
    send_id = started_send(engine, cfg, 20)
    with transaction(engine) as session:  # what the webhook policy does: status only
        ids = {e: i for e, i in session.execute(select(Subscriber.email, Subscriber.id))}
        suppress(session, ids["p0003@example.org"], Status.BOUNCED, "sendgrid bounce")
        suppress(session, ids["p0014@example.org"], Status.COMPLAINED, "sendgrid spamreport")
    with engine.connect() as conn:  # the premise: their list membership is untouched
        memberships = set(conn.execute(select(Membership.status)).scalars())
    assert memberships == {MembershipStatus.SUBSCRIBED}
    transport = ScriptedTransport()
    assert run_send(runtime(engine, cfg, transport, Clock()), send_id).finished == "done"
    left = {"p0003@example.org", "p0014@example.org"}
    assert Counter(transport.accepted) == Counter(set(emails(0, 20)) - left)
    with engine.connect() as conn:
        skipped = set(
            conn.execute(
                select(SendRecipient.subscriber_id).where(
                    SendRecipient.state == RecipientState.SKIPPED
                )
            ).scalars()
        )
    assert skipped == {ids[address] for address in left}


@dataclass
class Rival:
    """Another claimer that holds every pending batch at the instant of the first `holds`
    claims on `engine` and lets them go right after: its claim transaction rolled back, or (on
    PostgreSQL) its row locks made SKIP LOCKED pass over every candidate. Played inside the
    claimer's own transaction (a savepoint), because SQLite never lets two claims interleave.
    """

    holds: int
    claims: int = 0
    release: bool = False

    def __call__(self, conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if self.release:  # the next statement after a held claim: the rival lets go
            cursor.execute("ROLLBACK TO SAVEPOINT rival")
            self.release = False
        if not statement.lstrip().startswith(f"UPDATE {Batch.__tablename__} "):
            return
        self.claims += 1
        if self.claims <= self.holds:
            taken = update(Batch).where(Batch.state == BatchState.PENDING)
            taken = taken.values(state=BatchState.CLAIMED, worker_id="rival")
            cursor.execute("SAVEPOINT rival")
            cursor.execute(str(taken.compile(conn, compile_kwargs={"literal_binds": True})))
            self.release = True


@pytest.mark.parametrize("holds", [1, 5])
def test_a_claimer_that_loses_the_race_tries_again_while_batches_are_pending(
    engine: Engine, cfg: Settings, database_url: str, holds: int
) -> None:
    """claim_next's candidate is taken under its feet `holds` times in a row; batches are still
    pending, so it must try again and get one rather than report "nothing left"."""
    send_id = started_send(engine, cfg, 20)  # batches 0 and 1
    claimer = make_engine(database_url)
    rival = Rival(holds)
    event.listen(claimer, "before_cursor_execute", rival)
    try:
        claim = batches.claim_next(claimer, send_id, T0)
    finally:
        event.remove(claimer, "before_cursor_execute", rival)
        claimer.dispose()
    assert rival.claims == holds + 1  # it lost `holds` times, then won
    assert claim is not None and claim.seq == 0
    with engine.connect() as conn:
        rows = conn.execute(
            select(Batch.seq, Batch.state, Batch.worker_id, Batch.attempts)
            .where(Batch.send_id == send_id)
            .order_by(Batch.seq)
        ).all()
    assert [tuple(row) for row in rows] == [
        (0, BatchState.CLAIMED, claim.token, 1),  # the rival's hold left no trace
        (1, BatchState.PENDING, None, 0),
    ]

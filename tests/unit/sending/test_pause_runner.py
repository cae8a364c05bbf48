"""A runner of a paused (or cancelled) send stops instead of queueing itself again."""

from __future__ import annotations

from sqlalchemy import Engine

from mailer.core.settings import Settings
from mailer.sending import control as send_control
from mailer.sending.pipeline import run_send
from tests.unit.sending.helpers import Clock, ScriptedTransport, runtime, started


def test_a_paused_sends_runner_has_nothing_to_wait_for_and_resume_finishes_it(
    engine: Engine, settings: Settings
) -> None:
    send_id, cfg = started(engine, settings, 30)
    transport = ScriptedTransport()
    rt = runtime(engine, cfg, transport, Clock())

    first = run_send(rt, send_id, max_batches=1)
    assert (first.batches, first.wait) == (1, 0.0)  # more to do: come straight back
    send_control.pause(engine, send_id)
    paused = run_send(rt, send_id, max_batches=1)
    # Before: wait == 0.0, so the Celery task re-queued itself in a tight loop while paused.
    assert (paused.batches, paused.wait, paused.finished) == (0, None, None)

    assert send_control.resume(engine, send_id) == "sending"
    rest = run_send(rt, send_id)
    assert (rest.batches, rest.finished) == (2, "done")
    assert len(transport.accepted) == 30

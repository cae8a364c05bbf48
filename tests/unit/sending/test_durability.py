"""Which batch writes may skip waiting for the disk (PostgreSQL's synchronous_commit)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event

from mailer.core.settings import Settings
from mailer.sending.pipeline import run_send
from tests.unit.sending.helpers import T0, Clock, ScriptedTransport, runtime, started_send


def _transactions(engine: Engine) -> list[list[str]]:
    """The statements of every transaction the engine runs from now on, in order."""
    seen: list[list[str]] = []

    @event.listens_for(engine, "begin")
    def _begin(_conn: Any) -> None:
        seen.append([])

    @event.listens_for(engine, "before_cursor_execute")
    def _statement(_c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        if seen:
            seen[-1].append(" ".join(statement.split()))

    return seen


def test_only_the_claim_skips_the_disk_sync(engine: Engine, settings: Settings) -> None:
    """A claim lost in a crash just makes its batch pending again. The `requesting` stamp and
    the outcome must be durable before anything relies on them: they never skip it."""
    send_id = started_send(engine, settings, 3)
    seen = _transactions(engine)
    run_send(runtime(engine, settings, ScriptedTransport(), Clock(T0)), send_id, max_batches=1)

    def one(test: Any) -> list[str]:
        found = [tx for tx in seen if any(test(statement) for statement in tx)]
        assert len(found) == 1, found
        return found[0]

    claim = one(lambda s: s.startswith("UPDATE send_batches") and "RETURNING" in s)
    mark = one(
        lambda s: (
            s.startswith("UPDATE send_batches") and "requested_at=" in s and "RETURNING" not in s
        )
    )
    outcome = one(lambda s: s.startswith("UPDATE send_batches") and "sent_count=" in s)
    relaxed = "synchronous_commit = off"
    assert not any(relaxed in s for s in mark + outcome)
    assert any(relaxed in s for s in claim) == (engine.dialect.name == "postgresql")

"""The start_send task: the runners are queued as soon as the freeze commits; the planner's
statistics are refreshed afterwards, so the first batch does not wait for ANALYZE."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select, update

from mailer.core.models import Send, SendState
from mailer.core.settings import Settings
from mailer.sending import state
from mailer.sending.create import check_audience, create_send
from mailer.tasks import sending as tasks
from mailer.tasks.app import worker_settings
from tests.unit.sending.helpers import ISSUE, T0, seed


@pytest.fixture
def fresh_runtime(settings: Settings) -> Iterator[None]:
    worker_settings.cache_clear()  # this test's database, not a previous one's
    tasks.runtime.cache_clear()
    yield
    tasks.runtime.cache_clear()
    worker_settings.cache_clear()


@pytest.mark.usefixtures("fresh_runtime")
def test_runners_are_queued_before_the_statistics_are_refreshed(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(engine, 3)
    list_id, _ = check_audience(engine, "weekly", None)
    send_id = create_send(engine, settings, ISSUE, list_id, None, None, False, T0)
    with engine.begin() as conn:  # due now
        conn.execute(update(Send).where(Send.id == send_id).values(scheduled_at=None))
    order: list[str] = []
    monkeypatch.setattr(tasks, "kick", lambda *_: order.append("runners queued"))
    refresh = state.refresh_statistics
    monkeypatch.setattr(
        state, "refresh_statistics", lambda e: (order.append("statistics"), refresh(e))
    )
    assert tasks.start_send(send_id) == 3
    assert order == ["runners queued", "statistics"]
    with engine.connect() as conn:
        assert conn.scalar(select(Send.state).where(Send.id == send_id)) == SendState.SENDING

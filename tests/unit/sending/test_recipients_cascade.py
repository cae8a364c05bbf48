"""send_recipients has no foreign keys (migration 0007): triggers keep the delete cascade."""

from __future__ import annotations

from sqlalchemy import Engine, delete, func, select

from mailer.core.models import Send, SendRecipient
from mailer.core.settings import Settings
from mailer.sending import state as sends
from mailer.sending.create import check_audience, create_send
from subscribers.db import transaction
from subscribers.models import Subscriber
from tests.unit.sending.helpers import ISSUE, T0, seed


def recipients(engine: Engine, **where: int) -> int:
    query = select(func.count()).select_from(SendRecipient).filter_by(**where)
    with engine.connect() as conn:
        return int(conn.scalar(query) or 0)


def test_deleting_a_subscriber_or_a_send_deletes_their_recipient_rows(
    engine: Engine, settings: Settings
) -> None:
    seed(engine, 5)
    list_id, _ = check_audience(engine, "weekly", None)
    first, second = (
        create_send(engine, settings, ISSUE, list_id, None, None, False, T0, again=True)
        for _ in range(2)
    )
    for send_id in (first, second):
        assert sends.start_send(engine, send_id, T0, 2, "UTC") is not None
    assert recipients(engine) == 10
    with transaction(engine) as session:
        gone = session.scalars(select(Subscriber.id).order_by(Subscriber.id)).first()
        session.execute(delete(Subscriber).where(Subscriber.id == gone))
    assert recipients(engine, subscriber_id=gone) == 0
    assert (recipients(engine, send_id=first), recipients(engine, send_id=second)) == (4, 4)
    with transaction(engine) as session:
        session.execute(delete(Send).where(Send.id == first))
    assert (recipients(engine, send_id=first), recipients(engine)) == (0, 4)


def test_outcome_writes_stay_on_the_page_on_postgresql(engine: Engine, settings: Settings) -> None:
    """Migration 0011: half of each page free, so marking a batch sent is a heap-only update
    (no index touched). The share of HOT updates is PostgreSQL's own statistic."""
    if engine.dialect.name != "postgresql":
        return  # SQLite has no fillfactor; the rest of this file runs there
    import time

    from sqlalchemy import text

    from mailer.sending.pipeline import run_send
    from tests.unit.sending.helpers import Clock, ScriptedTransport, runtime

    seed(engine, 300)
    list_id, _ = check_audience(engine, "weekly", None)
    send_id = create_send(engine, settings, ISSUE, list_id, None, None, False, T0)
    sends.start_send(engine, send_id, T0, 100, "UTC")
    run_send(runtime(engine, settings, ScriptedTransport(), Clock(T0)), send_id)
    engine.dispose()  # a backend reports its statistics when it ends (soon after closing)
    stats = text(
        "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'send_recipients'"
    )
    for _ in range(50):
        with engine.connect() as conn:
            updated, hot = conn.execute(stats).one()
            options = conn.scalar(
                text("SELECT reloptions FROM pg_class WHERE relname = 'send_recipients'")
            )
        if updated >= 300:
            break
        time.sleep(0.1)
    assert "fillfactor=50" in list(options or [])
    assert updated >= 300 and hot == updated

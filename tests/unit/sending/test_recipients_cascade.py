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

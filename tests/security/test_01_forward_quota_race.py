"""1. Concurrent forwards by one reader cannot pass the per-issue limit (run on PostgreSQL too).

Eight threads, each with its own connection, submit 5 friends at once for one reader and one
issue; the limit is 20, so exactly four may pass, whatever the interleaving.
"""

from __future__ import annotations

import threading

from sqlalchemy import Engine, func, select

from mailer.core.models import Forward, OutboxMessage
from mailer.readers.forward_service import ForwardRequest, record_forward
from mailer.readers.forwarding import ForwardError
from subscribers.db import make_engine, transaction
from subscribers.models import Subscriber
from tests.unit.web.conftest import World


def test_eight_concurrent_forwards_mail_at_most_twenty_friends(
    world: World, engine: Engine, database_url: str
) -> None:
    with transaction(engine) as session:
        key = session.get(Subscriber, world.alice_id).link_key  # type: ignore[union-attr]
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def submit(n: int) -> None:
        own = make_engine(database_url)
        friends = [f"f{n}-{i}@example.org" for i in range(5)]
        request = ForwardRequest(world.send_id, world.alice_id, key, friends, "", "10.0.0.1")
        barrier.wait()
        try:
            with transaction(own) as session:
                record_forward(session, request, "test-secret-key")
            outcomes.append("ok")
        except ForwardError:
            outcomes.append("refused")
        finally:
            own.dispose()

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok"] * 4 + ["refused"] * 4
    with transaction(engine) as session:
        assert session.scalar(select(func.sum(Forward.friend_count))) == 20
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 20

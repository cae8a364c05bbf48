"""memberships and subscriber_tags have no foreign keys (migration 0010): triggers keep the
delete cascade, whether the row goes through the ORM or a plain SQL DELETE."""

from __future__ import annotations

from sqlalchemy import Engine, delete, func, select, update

from subscribers.db import transaction
from subscribers.models import MailingList, Membership, Subscriber, SubscriberTag
from subscribers.store import add_subscriber


def _count(engine: Engine, table: type, **where: int) -> int:
    query = select(func.count()).select_from(table).filter_by(**where)
    with engine.connect() as conn:
        return int(conn.scalar(query) or 0)


def _seed(engine: Engine) -> tuple[int, int, int]:
    """Two people on two lists with two tags each: (ann's id, bob's id, the 'weekly' list id)."""
    with transaction(engine) as session:
        ann, bob = (
            add_subscriber(session, email, tags=["a", "b"], list_names=["weekly", "daily"])
            for email in ("ann@example.com", "bob@example.com")
        )
        weekly = session.scalars(select(MailingList.id).where(MailingList.name == "weekly")).one()
        return ann.id, bob.id, weekly


def test_deleting_a_subscriber_deletes_their_tags_and_memberships(engine: Engine) -> None:
    ann, bob, _weekly = _seed(engine)
    assert (_count(engine, SubscriberTag), _count(engine, Membership)) == (4, 4)
    with transaction(engine) as session:
        session.execute(delete(Subscriber).where(Subscriber.id == ann))
    assert _count(engine, SubscriberTag, subscriber_id=ann) == 0
    assert _count(engine, Membership, subscriber_id=ann) == 0
    assert (_count(engine, SubscriberTag), _count(engine, Membership)) == (2, 2)
    with transaction(engine) as session:  # through the ORM as well
        person = session.get(Subscriber, bob)
        assert person is not None
        session.delete(person)
    assert (_count(engine, SubscriberTag), _count(engine, Membership)) == (0, 0)


def test_deleting_a_list_deletes_its_memberships_only(engine: Engine) -> None:
    ann, bob, weekly = _seed(engine)
    with transaction(engine) as session:
        session.execute(delete(MailingList).where(MailingList.id == weekly))
    assert _count(engine, Membership, list_id=weekly) == 0
    assert _count(engine, Membership) == 2
    assert _count(engine, Subscriber) == 2 and _count(engine, SubscriberTag) == 4
    assert {_count(engine, Membership, subscriber_id=i) for i in (ann, bob)} == {1}


def _referral_index(engine: Engine) -> str:
    query = (
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_subscribers_referred_by_id'"
        if engine.dialect.name == "postgresql"
        else "SELECT sql FROM sqlite_master WHERE name = 'ix_subscribers_referred_by_id'"
    )
    with engine.connect() as conn:
        return str(conn.exec_driver_sql(query).scalar_one())


def test_the_referral_index_holds_only_referred_people_and_a_referrer_can_go(
    engine: Engine,
) -> None:
    """Migration 0012: an imported (unreferred) person adds no entry to it."""
    assert "referred_by_id IS NOT NULL" in _referral_index(engine)
    ann, bob, _weekly = _seed(engine)
    with transaction(engine) as session:
        session.execute(update(Subscriber).where(Subscriber.id == bob).values(referred_by_id=ann))
    with transaction(engine) as session:
        session.execute(delete(Subscriber).where(Subscriber.id == ann))
    with transaction(engine) as session:
        assert session.scalars(select(Subscriber.referred_by_id)).all() == [None]

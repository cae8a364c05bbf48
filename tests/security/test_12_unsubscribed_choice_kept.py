"""12. An anonymous sign-up never turns someone's "unsubscribed" into "pending"."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from subscribers.db import transaction
from subscribers.models import Membership, MembershipStatus, Status
from tests.security.helpers import signup
from tests.unit.web.conftest import World, add_subscriber


def test_membership_stays_unsubscribed_until_confirmed(
    client: TestClient, world: World, engine: Engine, workdir: Path
) -> None:
    bob = add_subscriber(engine, "bob@example.com", status=Status.ACTIVE, list_id=world.list_id)
    with transaction(engine) as session:
        membership = session.get(Membership, (world.list_id, bob))
        assert membership is not None
        membership.status = MembershipStatus.UNSUBSCRIBED
    assert signup(client, "bob@example.com").status_code == 200
    with transaction(engine) as session:
        membership = session.get(Membership, (world.list_id, bob))
        assert membership is not None and membership.status == MembershipStatus.UNSUBSCRIBED

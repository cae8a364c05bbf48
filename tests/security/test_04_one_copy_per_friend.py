"""4. One copy per friend per issue, whoever forwards it and however often."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.security.helpers import forward
from tests.unit.web.conftest import World, add_subscriber, outbox


def test_the_same_friend_gets_one_copy(
    client: TestClient, world: World, engine: Engine, workdir: Path
) -> None:
    bob = add_subscriber(engine, "bob@example.com", "Bob", list_id=world.list_id)
    for _ in range(3):
        assert forward(client, world, "ann@example.org").status_code == 200
    assert forward(client, world, "ANN@example.org, cy@example.net", bob).status_code == 200
    assert sorted(m["To"] for m in outbox(workdir)) == ["ann@example.org", "cy@example.net"]


def test_a_second_copy_of_another_issue_is_fine(
    client: TestClient, world: World, engine: Engine, workdir: Path
) -> None:
    from tests.unit.web.conftest import add_send

    other = add_send(engine, world.list_id, slug="issue-8")
    assert forward(client, world, "ann@example.org").status_code == 200
    path_world = World(world.signer, world.list_id, other, world.alice_id, engine)
    assert forward(client, path_world, "ann@example.org").status_code == 200
    assert [m["To"] for m in outbox(workdir)] == ["ann@example.org", "ann@example.org"]

"""11. Private lists never show on public pages and cannot be joined from them; the archive
shows sends to public lists only (no segment), unless a send is marked for it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from mailer.core.models import Send
from mailer.readers.links import Purpose
from subscribers.db import transaction
from subscribers.models import MailingList, Membership
from tests.security.helpers import signup
from tests.unit.web.conftest import World, add_send, form_token


def _private_list(engine: Engine, name: str = "board") -> int:
    with transaction(engine) as session:
        board = MailingList(name=name, title="Board minutes", public=False)
        session.add(board)
        session.flush()
        return board.id


def test_subscribe_page_lists_public_lists_only_and_refuses_private_ones(
    client: TestClient, world: World, engine: Engine
) -> None:
    _private_list(engine)
    with transaction(engine) as session:
        session.add(MailingList(name="daily", title="Daily Digest"))
    page = client.get("/subscribe")
    assert "Daily Digest" in page.text and "weekly" in page.text
    assert "board" not in page.text.lower()
    assert signup(client, "eve@example.com", list="board").status_code == 404
    with transaction(engine) as session:
        board = session.scalars(select(MailingList).where(MailingList.name == "board")).one()
        assert session.scalars(select(Membership).where(Membership.list_id == board.id)).all() == []


def test_preferences_show_public_lists_and_the_readers_own_private_ones(
    client: TestClient, world: World, engine: Engine
) -> None:
    board = _private_list(engine)
    hidden = _private_list(engine, "staff")
    page = client.get(world.path(Purpose.PREFERENCES))
    assert "Board minutes" not in page.text and "staff" not in page.text
    with transaction(engine) as session:
        session.add(Membership(list_id=board, subscriber_id=world.alice_id))
    page = client.get(world.path(Purpose.PREFERENCES))
    assert "Board minutes" in page.text and "staff" not in page.text
    path = world.path(Purpose.PREFERENCES)
    data = {"csrf_token": form_token(client, path), "lists": [str(world.list_id), str(hidden)]}
    assert client.post(path, data=data).status_code == 200
    with transaction(engine) as session:
        assert session.get(Membership, (hidden, world.alice_id)) is None


def test_archive_shows_public_unsegmented_sends_unless_marked(
    client: TestClient, world: World, engine: Engine
) -> None:
    board = _private_list(engine)
    add_send(engine, board, slug="board-minutes", subject="Secret board minutes")
    add_send(
        engine, world.list_id, slug="investors", subject="Investors only", segment='tags has "inv"'
    )
    marked = add_send(engine, board, slug="open-letter", subject="An open letter")
    with transaction(engine) as session:
        session.get(Send, marked).archive_public = True  # type: ignore[union-attr]
    archive = client.get("/archive").text
    assert "Inside a lab" in archive and "An open letter" in archive
    assert "Secret board minutes" not in archive and "Investors only" not in archive
    assert client.get("/archive/board-minutes").status_code == 404
    assert client.get("/archive/investors").status_code == 404
    assert client.get("/archive/open-letter").status_code == 200

"""The foundation: settings, the schema and its migration, link tokens."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from pydantic import ValidationError
from sqlalchemy import Engine

from mailer.core.settings import Settings
from mailer.readers.links import BadToken, Purpose, Signer, Token, link
from subscribers.db import Base
from subscribers.search import is_search_index


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": _declared})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def _declared(name: str | None, _kind: str, _parents: object) -> bool:
    """The search index's tables and indexes are the migration's alone (no model)."""
    return not is_search_index(name)


def test_secret_key_is_generated_once_and_kept(workdir: Path) -> None:
    first = Settings()
    second = Settings()
    assert first.SECRET_KEY == second.SECRET_KEY
    assert first.secret_key_generated
    assert (workdir / "var" / "secret_key").read_text().strip() == first.SECRET_KEY


def test_settings_read_dotenv_and_refuse_bad_values(workdir: Path) -> None:
    (workdir / ".env").write_text("FROM_NAME=Weekly Bits\nPUBLIC_BASE_URL=https://x.test/\n")
    cfg = Settings()
    assert cfg.FROM_NAME == "Weekly Bits"
    assert cfg.PUBLIC_BASE_URL == "https://x.test"
    with pytest.raises(ValidationError, match="NEWSLETTER_TIMEZONE"):
        Settings(NEWSLETTER_TIMEZONE="Mars/Olympus")


def test_tokens_round_trip_and_refuse_forgery() -> None:
    signer = Signer("k1")
    token = Token(Purpose.UNSUBSCRIBE, subscriber_id=42, list_id=3, send_id=7)
    text = signer.make(token)
    assert len(text) < 45
    assert signer.read(text, Purpose.UNSUBSCRIBE) == token
    with pytest.raises(BadToken, match="another page"):
        signer.read(text, Purpose.PREFERENCES)
    with pytest.raises(BadToken, match="signature"):
        Signer("k2").read(text, Purpose.UNSUBSCRIBE)
    tampered = ("A" if text[0] != "A" else "B") + text[1:]
    with pytest.raises(BadToken):
        signer.read(tampered, Purpose.UNSUBSCRIBE)
    with pytest.raises(BadToken, match="malformed"):
        signer.read("not a token!", Purpose.UNSUBSCRIBE)


def test_expiring_tokens() -> None:
    signer = Signer("k")
    text = signer.make(Token(Purpose.CONFIRM, 1, issued_at=1_000))
    assert signer.read(text, Purpose.CONFIRM, max_age=100, now=1_050).subscriber_id == 1
    with pytest.raises(BadToken, match="expired"):
        signer.read(text, Purpose.CONFIRM, max_age=100, now=1_200)


def test_link_urls() -> None:
    signer = Signer("k")
    url = link("https://n.test", signer, Token(Purpose.FORWARD, 5))
    assert url.startswith("https://n.test/f/")

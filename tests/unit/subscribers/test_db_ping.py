"""PostgreSQL connections are checked when they come out of the pool after sitting idle."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from subscribers import db
from subscribers.db import make_engine
from tests.conftest import USE_POSTGRES

pytestmark = pytest.mark.skipif(not USE_POSTGRES, reason="a server-side connection to lose")


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _kill(url: str, pid: int) -> None:
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()


def test_an_idle_connection_the_server_dropped_is_replaced_unnoticed(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(database_url, pool_size=1)
    lost = _backend_pid(engine)
    _kill(database_url, lost)
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)  # it has been idle "long enough"
    assert _backend_pid(engine) != lost
    engine.dispose()


def test_a_connection_just_used_is_not_pinged_again(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hot loop's saving, shown the hard way: a dropped connection checked out at once is
    handed over as it is (no round trip to find out), and the statement on it fails."""
    engine = make_engine(database_url, pool_size=1)
    lost = _backend_pid(engine)
    _kill(database_url, lost)
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 3600.0)
    with pytest.raises(Exception, match=r"terminat|closed|connection"):
        _backend_pid(engine)
    assert _backend_pid(engine) != lost  # the failure invalidated it; the next one is fresh
    engine.dispose()

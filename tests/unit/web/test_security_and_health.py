"""Headers on every page, friendly error pages, and /healthz."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from mailer.core.settings import Settings
from mailer.ops import liveness
from mailer.readers.links import Purpose
from mailer.web.app import create_app
from tests.fixtures.services import RedisServer
from tests.unit.web.conftest import World


def test_every_page_carries_the_security_headers(client: TestClient, world: World) -> None:
    paths = [
        world.path(Purpose.UNSUBSCRIBE),
        world.path(Purpose.PREFERENCES),
        world.path(Purpose.FORWARD),
        world.path(Purpose.VIEW),
        "/archive",
        "/archive/issue-7",
        "/subscribe",
        "/healthz",
        "/no-such-page",
        "/u/forged",
    ]
    for path in paths:
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src" not in csp, path
        assert "default-src 'none'" in csp, path
        assert headers["x-frame-options"] == "DENY", path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "no-referrer", path


def test_pages_need_no_javascript(client: TestClient, world: World) -> None:
    for path in (
        world.path(Purpose.UNSUBSCRIBE),
        world.path(Purpose.FORWARD),
        "/subscribe",
        "/archive",
    ):
        assert "<script" not in client.get(path).text.lower()


def test_unknown_pages_and_methods_are_friendly(client: TestClient) -> None:
    missing = client.get("/nothing")
    assert missing.status_code == 404 and "<h1>Not found</h1>" in missing.text
    assert client.put("/subscribe").status_code == 405


def test_stylesheet_uses_the_brand(web_settings: Settings) -> None:
    branded = web_settings.model_copy(update={"BRAND_COLOR": "#ffd400", "BRAND_NAME": "Lab Notes"})
    with TestClient(create_app(branded)) as client:
        css = client.get("/static/site.css")
        assert css.headers["content-type"].startswith("text/css")
        assert "#ffd400" in css.text and "color: #111111" in css.text  # dark text on yellow
        assert "Lab Notes" in client.get("/subscribe").text


def test_healthz_answers_200_when_the_database_does(
    client: TestClient, world: World, engine: Engine
) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    # A silent scheduler is reported in a field, never by failing the check.
    assert response.json() == {
        "database": "ok",
        "liveness": {
            "scheduler": {
                "status": "WARN",
                "detail": "never heard from: scheduled sends do not start, stalled sends are "
                "not repaired",
            },
            "workers": {
                "status": "OK",
                "detail": "none needed: REDIS_URL is unset, tasks run in-process",
            },
        },
    }
    liveness.beat(engine, liveness.SCHEDULER, liveness.SCHEDULER, datetime.now(UTC))
    scheduler = client.get("/healthz").json()["liveness"]["scheduler"]
    assert scheduler["status"] == "OK" and scheduler["detail"].startswith("periodic check ran")


def test_healthz_answers_503_without_a_database(web_settings: Settings, workdir: Path) -> None:
    empty = web_settings.model_copy(update={"DATABASE_URL": f"sqlite:///{workdir}/var/empty.db"})
    with TestClient(create_app(empty)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"].startswith("error")


def test_healthz_checks_redis_when_configured(web_settings: Settings, redis: RedisServer) -> None:
    with TestClient(create_app(web_settings.model_copy(update={"REDIS_URL": redis.url}))) as client:
        answer = client.get("/healthz")
    assert answer.status_code == 200  # no worker is running: said in `liveness`, not a 503
    assert {k: v for k, v in answer.json().items() if k != "liveness"} == {
        "database": "ok",
        "redis": "ok",
    }
    assert answer.json()["liveness"]["workers"]["detail"].startswith("no worker alive")
    dead = web_settings.model_copy(update={"REDIS_URL": "redis://127.0.0.1:1/0"})
    with TestClient(create_app(dead)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["redis"].startswith("error")


def test_redis_rate_limits_are_shared_between_app_instances(
    web_settings: Settings, world: World, redis: RedisServer
) -> None:
    from tests.unit.web.test_signup import _signup

    shared = web_settings.model_copy(update={"REDIS_URL": redis.url, "SIGNUP_IP_LIMIT_PER_HOUR": 2})
    with TestClient(create_app(shared)) as first, TestClient(create_app(shared)) as second:
        codes = [
            _signup(c, f"r{n}@example.com").status_code
            for n, c in enumerate((first, second, first))
        ]
    assert codes == [200, 200, 429]

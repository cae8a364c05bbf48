"""A web process renders a small issue before its first request, so the first preview is quick."""

from __future__ import annotations

from fastapi.testclient import TestClient

from mailer.core.settings import Settings
from mailer.issue import inliner
from mailer.web.app import create_app


def test_the_stylesheet_is_parsed_before_the_first_request(settings: Settings) -> None:
    inliner._style_rules.cache_clear()
    app = create_app(settings)
    assert inliner._style_rules.cache_info().currsize == 0
    with TestClient(app) as client:  # runs the app's start-up, as uvicorn does
        assert inliner._style_rules.cache_info().currsize >= 1
        assert client.get("/healthz").status_code in (200, 503)

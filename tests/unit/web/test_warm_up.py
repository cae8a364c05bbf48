"""Before its first request a web process renders a small issue and sets aside what it loaded
from the garbage collector, so neither lands on a reader's or an editor's request."""

from __future__ import annotations

import gc

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
    gc.unfreeze()


def test_what_start_up_loaded_is_out_of_the_collectors_sight(settings: Settings) -> None:
    gc.unfreeze()
    try:
        with TestClient(create_app(settings)):
            assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()  # this test process goes on creating apps

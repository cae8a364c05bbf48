"""The mail/send body: serialised once by orjson, posted as is through the sendgrid library."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mailer.transport.fake_sendgrid import FakeSendGrid
from mailer.transport.sendgrid import SendGridTransport
from tests.unit.transport.payloads import newsletter


@pytest.fixture
def server() -> Iterator[FakeSendGrid]:
    sg = FakeSendGrid(0, record="full")
    sg.start_in_thread()
    yield sg
    sg.shutdown()
    sg.server_close()


def test_the_library_posts_the_bytes_orjson_made_without_its_own_json_dumps(
    server: FakeSendGrid, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_second_encoding(*_: Any, **__: Any) -> str:
        raise AssertionError("the payload was serialised again by the library")

    monkeypatch.setattr("python_http_client.client.json.dumps", no_second_encoding)
    payload = newsletter(3)
    payload["subject"] = "Crème brûlée 🍮 — the weekly"
    payload["personalizations"][0]["to"][0]["name"] = "Zoë 😀"
    transport = SendGridTransport("SG.test", server.url, 5.0)

    receipt = transport.deliver(payload)
    transport.deliver(payload)  # the client's headers are not spent by the first request

    assert receipt.status == 202
    [first, second] = server.store.requests()
    assert first["body"] == payload == second["body"]


def test_other_requests_keep_the_librarys_own_headers(server: FakeSendGrid) -> None:
    transport = SendGridTransport("SG.test", server.url, 5.0)
    transport.deliver(newsletter(1))
    assert transport.suppressions("bounces") == []
    # The root client's headers (shared with every client it builds) are not the mail/send ones.
    assert "charset" not in str(transport._client.client.request_headers)

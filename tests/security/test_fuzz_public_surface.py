"""Fuzz every public form and the webhook with hypothesis: whatever is sent, never a 5xx.

Bounded to about a minute in all (examples per target below). The forms get a valid CSRF
token, so the fuzzed values reach the handlers instead of stopping at the CSRF check; the
webhook posts are signed, so they reach the parser and the database.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailer.core.settings import Settings
from mailer.readers.links import Purpose
from mailer.web.app import create_app
from tests.unit.events.helpers import Signer
from tests.unit.web.conftest import World, form_token

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
text = st.text(st.characters(exclude_categories=["Cs"]), max_size=300)
edgy = st.one_of(
    text,
    st.sampled_from(["", "\x00", "a" * 5000, "=cmd()", "<script>", "-1", "99999999999999999999"]),
)
junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)


@pytest.fixture
def signer() -> Signer:
    return Signer()


@pytest.fixture
def fuzz_client(web_settings: Settings, signer: Signer) -> Iterator[TestClient]:
    roomy = web_settings.model_copy(
        update={
            "SIGNUP_IP_LIMIT_PER_HOUR": 10**6,
            "FORWARD_IP_LIMIT_PER_HOUR": 10**6,
            "SENDGRID_WEBHOOK_PUBLIC_KEY": signer.public_key,
        }
    )
    with TestClient(create_app(roomy), follow_redirects=False) as test_client:
        yield test_client


def _ok(status: int) -> None:
    assert status < 500, status


@FUZZ
@given(email=edgy, name=edgy, list_name=edgy, ref=edgy, trap=st.sampled_from(["", "x"]))
def test_subscribe_form(
    fuzz_client: TestClient,
    world: World,
    email: str,
    name: str,
    list_name: str,
    ref: str,
    trap: str,
) -> None:
    token = form_token(fuzz_client, "/subscribe")
    data = {"csrf_token": token, "email": email, "name": name, "list": list_name, "ref": ref}
    _ok(fuzz_client.post("/subscribe", data={**data, "website": trap}).status_code)
    _ok(fuzz_client.get("/subscribe", params={"ref": ref, "list": list_name}).status_code)


@FUZZ
@given(emails=edgy, note=edgy)
def test_forward_form(fuzz_client: TestClient, world: World, emails: str, note: str) -> None:
    path = world.path(Purpose.FORWARD)
    data = {"csrf_token": form_token(fuzz_client, path), "emails": emails, "note": note}
    _ok(fuzz_client.post(path, data=data).status_code)


@FUZZ
@given(lists=st.lists(edgy, max_size=5), action=edgy, scope=edgy, one_click=edgy)
def test_preferences_and_unsubscribe_forms(
    fuzz_client: TestClient,
    world: World,
    lists: list[str],
    action: str,
    scope: str,
    one_click: str,
) -> None:
    path = world.path(Purpose.PREFERENCES)
    data: dict[str, Any] = {"csrf_token": form_token(fuzz_client, path), "lists": lists}
    _ok(fuzz_client.post(path, data={**data, "action": action}).status_code)
    unsubscribe = world.path(Purpose.UNSUBSCRIBE)
    body = {"scope": scope, "List-Unsubscribe": one_click}
    _ok(fuzz_client.post(unsubscribe, data=body).status_code)


@FUZZ
@given(token=edgy, slug=edgy)
def test_token_and_slug_paths(fuzz_client: TestClient, world: World, token: str, slug: str) -> None:
    raw_token, token, slug = token, quote(token, safe=""), quote(slug, safe="")  # as on the wire
    for route in ("u", "p", "f", "v", "confirm"):
        _ok(fuzz_client.get(f"/{route}/{token}").status_code)
    _ok(fuzz_client.post(f"/confirm/{token}", data={"csrf_token": raw_token}).status_code)
    _ok(fuzz_client.get(f"/archive/{slug}").status_code)


@FUZZ
@given(
    events=st.lists(
        st.fixed_dictionaries(
            {
                "email": st.one_of(edgy, junk),
                "event": st.one_of(st.sampled_from(["bounce", "spamreport", "open"]), edgy),
                "sg_event_id": st.one_of(edgy, junk),
                "timestamp": st.one_of(st.integers(), junk),
            },
            optional={
                "nl_kind": st.sampled_from(["forward", "confirm"]),
                "nl_send_id": junk,
                "nl_subscriber_id": junk,
                "type": junk,
                "reason": junk,
                "url": junk,
            },
        ),
        max_size=5,
    )
    | junk
)
def test_signed_webhook_posts(fuzz_client: TestClient, signer: Signer, events: Any) -> None:
    body = json.dumps(events).encode()
    response = fuzz_client.post("/webhooks/sendgrid", content=body, headers=signer.headers(body))
    _ok(response.status_code)

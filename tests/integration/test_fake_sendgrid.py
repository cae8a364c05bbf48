"""The real `sendgrid` library against the local SendGrid server, through SendGridTransport.

One server subprocess for the module (reset before each test) keeps this file quick; the
tests that need other start-up options start their own.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sendgrid import SendGridAPIClient

from mailer.transport.base import (
    PayloadTooLarge,
    PermanentFailure,
    RateLimited,
    TemporaryFailure,
    UncertainOutcome,
)
from mailer.transport.sendgrid import SendGridTransport
from tests.fixtures.fake_sendgrid import FakeSendGrid, fake_sendgrid
from tests.fixtures.services import free_port, wait_for
from tests.unit.transport.payloads import newsletter, personalization

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def module_server() -> Iterator[FakeSendGrid]:
    with fake_sendgrid() as server:
        yield server


@pytest.fixture
def sg(module_server: FakeSendGrid) -> FakeSendGrid:
    module_server.reset()
    return module_server


def transport(
    server: FakeSendGrid, timeout: float = 10.0, key: str | None = None
) -> SendGridTransport:
    return SendGridTransport(key or server.api_key, server.url, timeout)


def test_an_accepted_request_is_recorded_with_its_message_id(sg: FakeSendGrid) -> None:
    receipt = transport(sg).deliver(newsletter(3))
    assert receipt.status == 202
    assert receipt.message_id
    [request] = sg.requests()
    assert request["message_id"] == receipt.message_id
    assert request["subject"] == "Issue 12 for -subscriber_name-"
    first = request["personalizations"][0]
    assert first["to"] == ["reader0@example.com"]
    assert first["custom_args"] == {"nl_send": "7", "nl_sub": "0"}
    assert first["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert first["substitutions"]["-unsubscribe_url-"] == "https://news.example.test/u/token0"
    assert [r["email"] for r in sg.recipients()] == [f"reader{i}@example.com" for i in range(3)]
    stats = sg.stats()
    assert (stats["accepted_requests"], stats["recipients"], stats["duplicate_recipients"]) == (
        1,
        3,
        0,
    )


def test_the_same_recipient_accepted_twice_is_counted_as_a_duplicate(sg: FakeSendGrid) -> None:
    transport(sg).deliver(newsletter(2))
    transport(sg).deliver(newsletter(3))
    assert sg.stats()["duplicate_recipients"] == 2


def _reverse_content(p: dict[str, Any]) -> None:
    p["content"].reverse()


def _set(person_key: str, name: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda p: p["personalizations"][0][person_key].__setitem__(name, value)


REFUSED: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "1001 recipients": (
        lambda p: p["personalizations"][0].update(
            bcc=[{"email": f"b{i}@example.com"} for i in range(999)]
        ),
        "personalizations",
    ),
    "a duplicate address": (
        lambda p: p["personalizations"].append(personalization(0)),
        "personalizations.3.to",
    ),
    "html before text": (_reverse_content, "content"),
    "a reserved header": (_set("headers", "Subject", "hi"), "personalizations.0.headers.Subject"),
    "a non-string custom arg": (
        _set("custom_args", "nl_sub", 5),
        "personalizations.0.custom_args.nl_sub",
    ),
    "a non-string substitution": (
        _set("substitutions", "-n-", 5),
        "personalizations.0.substitutions.-n-",
    ),
    "no subject": (lambda p: p.pop("subject"), "subject"),
    "11 categories": (lambda p: p.update(categories=[f"c{i}" for i in range(11)]), "categories"),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_each_violation_is_refused_with_sendgrids_error_shape(sg: FakeSendGrid, name: str) -> None:
    change, field = REFUSED[name]
    payload = newsletter(3)
    change(payload)
    response = httpx.post(
        f"{sg.url}/v3/mail/send", json=payload, headers={"Authorization": f"Bearer {sg.api_key}"}
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert all(set(e) == {"message", "field", "help"} and e["message"] for e in errors)
    assert field in [e["field"] for e in errors]
    with pytest.raises(PermanentFailure) as raised:
        transport(sg).deliver(payload)
    assert raised.value.status == 400
    assert f"({field})" in str(raised.value)
    assert sg.stats()["accepted_requests"] == 0


def test_a_gzip_compressed_body_is_accepted(sg: FakeSendGrid) -> None:
    body = gzip.compress(json.dumps(newsletter(2)).encode())
    headers = {
        "Authorization": f"Bearer {sg.api_key}",
        "Content-Type": "application/json",
        "Content-Encoding": "gzip",
    }
    response = httpx.post(f"{sg.url}/v3/mail/send", content=body, headers=headers)
    assert response.status_code == 202
    assert sg.stats()["recipients"] == 2


def test_a_request_without_credentials_gets_401(sg: FakeSendGrid) -> None:
    response = httpx.post(f"{sg.url}/v3/mail/send", json=newsletter(1))
    assert response.status_code == 401
    assert response.json() == {
        "errors": [{"message": "authorization required", "field": None, "help": None}]
    }


def test_a_wrong_key_is_a_permanent_failure() -> None:
    with fake_sendgrid(api_key="SG.the-right-one") as server:
        with pytest.raises(PermanentFailure, match="authorization grant") as raised:
            transport(server, key="SG.a-wrong-one").deliver(newsletter(1))
        assert raised.value.status == 401
        assert transport(server).deliver(newsletter(1)).status == 202


def test_429_is_rate_limited_until_x_ratelimit_reset(sg: FakeSendGrid) -> None:
    sg.set_faults(rate_429=1.0, retry_after=30)
    with pytest.raises(RateLimited) as raised:
        transport(sg).deliver(newsletter(1))
    assert raised.value.retry_after is not None
    assert 25 <= raised.value.retry_after <= 31
    assert sg.stats()["faults"] == {"429": 1}


def test_500_is_a_temporary_failure(sg: FakeSendGrid) -> None:
    sg.set_faults(rate_500=1.0)
    with pytest.raises(TemporaryFailure) as raised:
        transport(sg).deliver(newsletter(1))
    assert type(raised.value) is TemporaryFailure
    assert sg.stats()["accepted_requests"] == 0


def test_a_connection_dropped_after_the_request_was_sent_is_uncertain_not_temporary(
    sg: FakeSendGrid,
) -> None:
    # Before: TemporaryFailure, so the batch was retried and could go out twice.
    sg.set_faults(drop=1.0)
    with pytest.raises(UncertainOutcome, match="after the request was sent"):
        transport(sg).deliver(newsletter(1))
    assert sg.requests() == []  # this time it was not accepted: the client cannot tell
    sg.set_faults(drop=0.0, drop_after_accept=1.0)
    with pytest.raises(UncertainOutcome):
        transport(sg).deliver(newsletter(1))
    assert len(sg.requests()) == 1  # ... and this time it was


def test_a_slow_answer_past_the_client_timeout_is_uncertain(sg: FakeSendGrid) -> None:
    sg.set_faults(delay=1.5)
    with pytest.raises(UncertainOutcome, match="in time"):
        transport(sg, timeout=0.3).deliver(newsletter(1))
    # The server goes on and accepts it: "may or may not have reached SendGrid".
    wait_for(lambda: sg.stats()["accepted_requests"] == 1, timeout=10, what="the slow request")


def test_a_server_that_cannot_be_reached_is_temporary() -> None:
    unreachable = SendGridTransport("SG.key", f"http://127.0.0.1:{free_port()}", 2.0)
    with pytest.raises(TemporaryFailure, match="unreachable") as raised:
        unreachable.deliver(newsletter(1))
    assert type(raised.value) is TemporaryFailure  # nothing went out: safe to retry


def test_the_nth_request_fails_with_400_and_its_text(sg: FakeSendGrid) -> None:
    sg.set_faults(fail_nth=[2])
    assert transport(sg).deliver(newsletter(1)).status == 202
    with pytest.raises(PermanentFailure, match="request 2 refused") as raised:
        transport(sg).deliver(newsletter(1))
    assert raised.value.status == 400
    assert transport(sg).deliver(newsletter(1)).status == 202


def test_an_oversized_body_is_payload_too_large(sg: FakeSendGrid) -> None:
    sg.set_faults(max_bytes=10_000)
    with pytest.raises(PayloadTooLarge) as raised:
        transport(sg).deliver(newsletter(100))
    assert raised.value.status == 413
    assert transport(sg).deliver(newsletter(2)).status == 202


def test_suppression_lists_are_served_in_sendgrids_shape_all_pages(sg: FakeSendGrid) -> None:
    bounce = sg.add_suppression("bounces", "gone@example.com", reason="550 no such user")
    assert bounce["status"] == "5.1.1"
    sg.add_suppression("spam_reports", "angry@example.com", ip="10.0.0.1")
    many = [{"kind": "unsubscribes", "email": f"u{i}@example.com"} for i in range(501)]
    httpx.post(f"{sg.url}/_fake/suppressions", json=many).raise_for_status()
    client = transport(sg)
    [bounced] = client.suppressions("bounces")
    assert bounced["email"] == "gone@example.com"
    assert bounced["reason"] == "550 no such user"
    assert isinstance(bounced["created"], int)
    assert [r["email"] for r in client.suppressions("spam_reports")] == ["angry@example.com"]
    assert len(client.suppressions("unsubscribes")) == 501


def test_suppression_queries_filter_by_start_time(sg: FakeSendGrid) -> None:
    sg.add_suppression("bounces", "old@example.com", created=1_000)
    sg.add_suppression("bounces", "new@example.com", created=2_000)
    response = httpx.get(
        f"{sg.url}/v3/suppression/bounces",
        params={"start_time": 1_500},
        headers={"Authorization": f"Bearer {sg.api_key}"},
    )
    assert [r["email"] for r in response.json()] == ["new@example.com"]


def test_a_batch_id_can_be_created(sg: FakeSendGrid) -> None:
    client = SendGridAPIClient(api_key=sg.api_key, host=sg.url)
    response = client.client.mail.batch.post()
    assert response.status_code == 201
    assert response.to_dict["batch_id"]


def test_seeded_faults_hit_the_same_requests_in_every_run() -> None:
    outcomes = []
    for _ in range(2):
        with fake_sendgrid(rate_429=0.3, rate_500=0.3, seed=11) as server:
            run = []
            for _ in range(12):
                try:
                    run.append(str(transport(server).deliver(newsletter(1)).status))
                except TemporaryFailure as failure:
                    run.append(type(failure).__name__)
            outcomes.append(run)
    assert outcomes[0] == outcomes[1]
    assert {"202", "RateLimited", "TemporaryFailure"} <= set(outcomes[0])

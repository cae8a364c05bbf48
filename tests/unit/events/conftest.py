"""Fixtures for webhook, policy and report tests: a signing key, the app, a sent issue."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from mailer.core.models import Batch, BatchState, RecipientState, Send, SendRecipient, SendState
from mailer.core.settings import Settings
from mailer.tasks.app import worker_settings
from mailer.web.app import create_app
from subscribers.db import transaction
from subscribers.models import MailingList, Membership, Subscriber
from tests.unit.events.helpers import Signer

STARTED = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_worker_settings(settings: Settings) -> Iterator[None]:
    """Eager tasks read settings from the environment the `settings` fixture exported."""
    worker_settings.cache_clear()
    yield
    worker_settings.cache_clear()


@pytest.fixture
def signer() -> Signer:
    return Signer()


@pytest.fixture
def hook_settings(settings: Settings, signer: Signer) -> Settings:
    return settings.model_copy(update={"SENDGRID_WEBHOOK_PUBLIC_KEY": signer.public_key})


@pytest.fixture
def client(hook_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(hook_settings)) as test_client:
        yield test_client


@dataclass
class SentIssue:
    """A send of one issue to a list, already handed to SendGrid."""

    send_id: int
    list_id: int
    subscribers: dict[str, int]  # email -> id
    message_id: str


def make_send(
    engine: Engine,
    emails: list[str],
    *,
    started: datetime = STARTED,
    list_name: str = "weekly",
    message_id: str = "msg0001",
) -> SentIssue:
    with transaction(engine) as session:
        mailing_list = MailingList(name=list_name)
        session.add(mailing_list)
        session.flush()
        people = {}
        for email in emails:
            sub = Subscriber(email=email, email_norm=email.lower())
            session.add(sub)
            session.flush()
            session.add(Membership(list_id=mailing_list.id, subscriber_id=sub.id))
            people[email] = sub.id
        send = Send(
            slug="issue-1",
            subject="Issue 1",
            html="<p>x</p>",
            text="x",
            list_id=mailing_list.id,
            state=SendState.DONE,
            started_at=started,
            finished_at=started + timedelta(minutes=1),
            total_recipients=len(emails),
        )
        session.add(send)
        session.flush()
        session.add(
            Batch(
                send_id=send.id,
                seq=0,
                state=BatchState.SENT,
                message_id=message_id,
                recipient_count=len(emails),
                sent_count=len(emails),
            )
        )
        for sub_id in people.values():
            session.add(
                SendRecipient(
                    send_id=send.id, subscriber_id=sub_id, batch_seq=0, state=RecipientState.SENT
                )
            )
        return SentIssue(send.id, mailing_list.id, people, message_id)


@pytest.fixture
def issue(engine: Engine) -> SentIssue:
    return make_send(engine, ["ann@example.com", "bob@example.com", "cy@example.com"])

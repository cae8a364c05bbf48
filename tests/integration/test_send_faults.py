"""SendGrid trouble: 20% of answers 429 or 500 -> everything delivered once; a 400 fails its
batch, visibly, without retries."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from mailer.core.settings import Settings
from tests.fixtures.audience import bulk_audience, email
from tests.fixtures.fake_sendgrid import fake_sendgrid
from tests.fixtures.services import RedisServer
from tests.fixtures.workers import scheduler, workers
from tests.integration.sending_support import (
    audience_of,
    batch_seqs,
    cli,
    received,
    send_env,
    start_send,
    status_json,
    wait_state,
)

pytestmark = pytest.mark.integration


def test_429_and_500_answers_are_retried_until_everyone_has_it_once_and_400_fails_visibly(
    settings: Settings, engine: Engine, redis: RedisServer, workdir: Path
) -> None:
    bulk_audience(engine, 500)
    with fake_sendgrid(rate_429=0.1, rate_500=0.1, retry_after=0.5, seed=11) as sg:
        env = send_env(settings, redis, sg, SEND_BATCH_SIZE=10)
        with workers(env, workdir, count=2), scheduler(env, workdir):
            flaky = start_send(env, workdir, "--list", "weekly")
            wait_state(engine, flaky, ("done", "failed"), timeout=120)
            flaky_counts = received(sg, flaky)
            before = sg.stats()["mail_send_requests"]

            sg.set_faults(rate_429=0, rate_500=0, fail_nth=[before + 3])
            refused = start_send(env, workdir, "--list", "weekly", "--segment", 'tags has "odd"')
            wait_state(engine, refused, ("done", "failed"), timeout=60)
            refused_counts = received(sg, refused)
            requests = sg.stats()["mail_send_requests"]
            text = cli(env, workdir, "status", str(refused)).stdout
            report = status_json(env, workdir, refused)

    assert before > 50  # 50 batches needed retries: the server really answered 429 and 500
    assert status_json(env, workdir, flaky)["state"] == "done"
    assert flaky_counts == {email(i): 1 for i in range(500)}

    failed = batch_seqs(engine, refused, "failed")
    assert len(failed) == 1
    audience = audience_of(engine, refused)
    assert set(refused_counts) == {a for a, seq in audience.items() if seq not in failed}
    assert set(refused_counts.values()) == {1}
    assert requests - before == 25  # one request per batch: the refused one was not retried
    assert report["state"] == "failed" and report["failed"] == 10
    assert report["errors"][0]["batch"] in failed and "400" in report["errors"][0]["error"]
    assert "SendGrid refused (400)" in text

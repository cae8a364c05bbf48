"""SEND_RATE_PER_SECOND is one budget for the whole fleet: buckets on one Redis share it."""

from __future__ import annotations

import pytest
import redis as redis_lib

from mailer.sending.ratelimit import RedisBucket, make_limiter
from tests.fixtures.services import RedisServer

pytestmark = pytest.mark.integration


def test_two_workers_buckets_draw_from_one_shared_budget(redis: RedisServer) -> None:
    client = redis_lib.Redis.from_url(redis.url)
    client.delete("newsletter:send-rate")
    first = make_limiter(1000, redis.url)
    second = RedisBucket(redis_lib.Redis.from_url(redis.url), 1000)
    assert isinstance(first, RedisBucket)
    assert first.acquire(1000) == 0.0  # the whole second of budget
    spent_at = float(client.hget("newsletter:send-rate", "ts") or 0)  # Redis's clock
    waited = second.acquire(500)  # another worker: it must wait for the first one's spending
    asked_at = float(client.hget("newsletter:send-rate", "ts") or 0)
    # Half a second of budget, less what refilled between the two calls (long under load).
    assert waited > 0
    assert waited == pytest.approx(0.5 - (asked_at - spent_at), abs=1e-3)

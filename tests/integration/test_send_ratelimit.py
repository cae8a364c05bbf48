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
    first = make_limiter(100_000, redis.url)
    second = RedisBucket(redis_lib.Redis.from_url(redis.url), 100_000)
    assert isinstance(first, RedisBucket)
    assert first.acquire(100_000) == 0.0  # the whole second of budget
    waited = second.acquire(20_000)  # another worker: it must wait for the first one's spending
    assert 0.15 <= waited <= 0.2

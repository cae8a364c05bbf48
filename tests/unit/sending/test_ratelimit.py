"""The token bucket behind SEND_RATE_PER_SECOND (pure arithmetic and the in-process bucket)."""

from __future__ import annotations

from mailer.sending.ratelimit import LocalBucket, Unlimited, make_limiter, refill


def test_the_bucket_refills_at_the_rate_up_to_its_capacity_and_can_go_into_debt() -> None:
    assert refill(tokens=0, elapsed=0.5, rate=100, capacity=100, amount=10) == 40
    assert refill(tokens=90, elapsed=10, rate=100, capacity=100, amount=10) == 90  # capped
    assert refill(tokens=100, elapsed=0, rate=100, capacity=100, amount=1000) == -900


def test_a_batch_larger_than_the_balance_waits_for_its_debt() -> None:
    bucket = LocalBucket(rate=100_000)
    assert bucket.acquire(100_000) == 0.0  # a full second of burst
    waited = bucket.acquire(10_000)
    assert 0.09 <= waited <= 0.1  # 10,000 more at 100,000/s, minus the little refilled since


def test_without_a_rate_nothing_waits() -> None:
    assert isinstance(make_limiter(None, None), Unlimited)
    assert isinstance(make_limiter(5.0, None), LocalBucket)
    assert Unlimited().acquire(10**9) == 0.0

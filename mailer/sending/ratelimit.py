"""SEND_RATE_PER_SECOND for the whole fleet: a token bucket in Redis, or in-process without it.

A batch reserves all its recipients at once; the bucket may go negative and the reserving
worker sleeps for the debt. Reservation (rather than "wait until enough tokens") keeps the
script a single atomic step and is fair: whoever reserved first goes first.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Protocol

# KEYS[1] bucket; ARGV rate/s, capacity, amount. Redis's own clock, so machines need not agree.
_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local amount = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local ts = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + (now - ts) * rate) - amount
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], 3600)
if tokens >= 0 then return '0' end
return tostring(-tokens / rate)
"""


class RateLimiter(Protocol):
    def acquire(self, amount: int) -> float:
        """Block until `amount` recipients may go; return the seconds waited."""
        ...


def refill(tokens: float, elapsed: float, rate: float, capacity: float, amount: int) -> float:
    """Pure bucket step (mirrors the Lua script): the new balance, negative means debt."""
    return min(capacity, tokens + elapsed * rate) - amount


class Unlimited:
    def acquire(self, amount: int) -> float:
        return 0.0


class LocalBucket:
    """The same bucket for one process (no Redis: a single machine, eager tasks)."""

    def __init__(self, rate: float, capacity: float | None = None) -> None:
        self.rate = rate
        self.capacity = capacity if capacity is not None else rate
        self._tokens = self.capacity
        self._ts = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self, amount: int) -> float:
        with self._lock:
            now = time.monotonic()
            self._tokens = refill(self._tokens, now - self._ts, self.rate, self.capacity, amount)
            self._ts = now
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait:
            time.sleep(wait)
        return wait


class RedisBucket:
    """Shared by every worker on every machine through one atomic Lua script."""

    def __init__(self, client: Any, rate: float, key: str = "newsletter:send-rate") -> None:
        self.rate = rate
        self.capacity = rate  # at most one second of burst
        self.key = key
        self._script = client.register_script(_LUA)

    def acquire(self, amount: int) -> float:
        wait = float(self._script(keys=[self.key], args=[self.rate, self.capacity, amount]))
        if wait > 0:
            time.sleep(wait)
        return wait


def make_limiter(rate: float | None, redis_url: str | None) -> RateLimiter:
    if rate is None:
        return Unlimited()
    if redis_url is None:
        return LocalBucket(rate)
    import redis

    return RedisBucket(redis.Redis.from_url(redis_url), rate)

"""Per-client rate limits for the public forms: Redis when configured, else this process.

A fixed window per key (`INCR` + `EXPIRE` in one round trip) is enough here: the limits stop
abuse of the forward and sign-up forms, they do not shape traffic. With several web workers
and no Redis each process counts on its own, so the effective limit is multiplied by the
number of workers; the per-reader forward limits are counted in the database and hold anyway.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

import redis


class RateLimiter(Protocol):
    def allow(self, key: str, cost: int, limit: int, window_seconds: int) -> bool:
        """Count `cost` against `key`; False (and nothing counted) when it would pass `limit`."""
        ...

    def ping(self) -> bool:
        """True when the counter store answers."""
        ...


class MemoryLimiter:
    """Counters in this process, for a single web process or tests without Redis."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, int]] = {}  # key -> (window number, count)

    def allow(self, key: str, cost: int, limit: int, window_seconds: int) -> bool:
        window = int(time.time() // window_seconds)
        with self._lock:
            if len(self._windows) > 100_000:
                self._windows = {k: v for k, v in self._windows.items() if v[0] == window}
            seen_window, count = self._windows.get(key, (window, 0))
            if seen_window != window:
                count = 0
            if count + cost > limit:
                return False
            self._windows[key] = (window, count + cost)
            return True

    def ping(self) -> bool:
        return True


# Adds the cost only if the total stays within the limit, atomically on the Redis server.
_ALLOW_SCRIPT = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local cost = tonumber(ARGV[1])
if current + cost > tonumber(ARGV[2]) then return 0 end
redis.call('INCRBY', KEYS[1], cost)
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
"""


class RedisLimiter:
    """Counters shared by every web worker on every machine."""

    def __init__(self, url: str) -> None:
        self._client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._allow = self._client.register_script(_ALLOW_SCRIPT)

    def allow(self, key: str, cost: int, limit: int, window_seconds: int) -> bool:
        window = int(time.time() // window_seconds)
        name = f"nl:limit:{key}:{window}"
        return bool(self._allow(keys=[name], args=[cost, limit, window_seconds]))

    def ping(self) -> bool:
        try:
            return bool(self._client.ping())
        except redis.RedisError:
            return False


def make_limiter(redis_url: str | None) -> RateLimiter:
    return RedisLimiter(redis_url) if redis_url else MemoryLimiter()

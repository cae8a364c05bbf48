"""Segment counts shared for a few seconds: one computation for a burst of identical asks.

A count over a million people takes a second of database time; an editor's page (or fifty
tools) asking the same question at once should not queue fifty of them. The first caller
computes, callers with the same key wait for that result, and it is kept `ttl` seconds
(SEGMENT_COUNT_CACHE_SECONDS; 0 turns this off). Errors are never kept. Per process: with
several web workers each computes once per window. At most `parallel` counts run at once:
they are CPU-bound, so more would only queue on the cores while each holds a database
connection (and a full connection pool fails requests instead of making them wait).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable


class CountCache:
    def __init__(self, ttl: float, parallel: int = 2, max_entries: int = 1000) -> None:
        self._ttl = ttl
        self._running = threading.BoundedSemaphore(parallel)
        self._max = max_entries
        self._lock = threading.Lock()
        self._entries: dict[Hashable, tuple[float, int]] = {}
        self._gates: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable, compute: Callable[[], int]) -> int:
        if self._ttl <= 0:
            with self._running:
                return compute()
        with self._lock:
            gate = self._gates.setdefault(key, threading.Lock())
        with gate:  # one computation per key at a time; the others wait for its result
            found = self._fresh(key)
            if found is not None:
                return found
            with self._running:
                value = compute()
            with self._lock:
                if len(self._entries) >= self._max:
                    self._prune()
                self._entries[key] = (time.monotonic() + self._ttl, value)
            return value

    def _fresh(self, key: Hashable) -> int | None:
        with self._lock:
            entry = self._entries.get(key)
        return entry[1] if entry is not None and entry[0] > time.monotonic() else None

    def _prune(self) -> None:
        now = time.monotonic()
        self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
        if len(self._entries) >= self._max:
            self._entries.clear()
        self._gates = {k: g for k, g in self._gates.items() if k in self._entries or g.locked()}

"""Segment counts shared for a few seconds: one computation for a burst of identical asks.

A count over a million people takes a second of database time; an editor's page (or fifty
tools) asking the same question at once should not queue fifty of them. The first caller
computes, callers with the same key wait for that result, and it is kept `ttl` seconds
(SEGMENT_COUNT_CACHE_SECONDS; 0 turns this off). Errors are never kept. Per process: with
several web workers each computes once per window. At most `parallel` counts run at once:
they are CPU-bound, so more would only queue on the cores while each holds a database
connection (and a full connection pool fails requests instead of making them wait).

With `stale` (SEGMENT_COUNT_STALE_SECONDS) a count older than `ttl` but younger than `stale`
is answered at once while one background thread computes it again, so a question asked over
and over never waits for the database; what it gets is at most `ttl` plus one computation old.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Hashable


class CountCache:
    def __init__(
        self, ttl: float, parallel: int = 2, max_entries: int = 1000, stale: float = 0.0
    ) -> None:
        self._ttl, self._stale = ttl, max(stale, ttl)
        self._running = threading.BoundedSemaphore(parallel)
        self._max = max_entries
        self._lock = threading.Lock()
        self._entries: dict[Hashable, tuple[float, int]] = {}  # key -> (computed at, value)
        self._gates: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable, compute: Callable[[], int]) -> int:
        if self._ttl <= 0:
            with self._running:
                return compute()
        with self._lock:
            gate = self._gates.setdefault(key, threading.Lock())
            entry = self._entries.get(key)
        if entry is not None and self._ttl < time.monotonic() - entry[0] <= self._stale:
            if gate.acquire(blocking=False):  # no refresh under way: start one
                threading.Thread(
                    target=self._refresh, args=(key, compute, gate), daemon=True
                ).start()
            return entry[1]
        with gate:  # one computation per key at a time; the others wait for its result
            found = self._fresh(key)
            return found if found is not None else self._compute(key, compute)

    def _refresh(self, key: Hashable, compute: Callable[[], int], gate: threading.Lock) -> None:
        # A failure is not kept: the stale value stays until a later ask refreshes it again, or
        # until it is too old and an ask computes it itself (and sees the error).
        try:
            with contextlib.suppress(Exception):
                if self._fresh(key) is None:
                    self._compute(key, compute)
        finally:
            gate.release()

    def _compute(self, key: Hashable, compute: Callable[[], int]) -> int:
        with self._running:
            value = compute()
        with self._lock:
            if len(self._entries) >= self._max:
                self._prune()
            self._entries[key] = (time.monotonic(), value)
        return value

    def _fresh(self, key: Hashable) -> int | None:
        with self._lock:
            entry = self._entries.get(key)
        fresh = entry is not None and time.monotonic() - entry[0] <= self._ttl
        return entry[1] if entry is not None and fresh else None

    def _prune(self) -> None:
        oldest = time.monotonic() - self._stale
        self._entries = {k: v for k, v in self._entries.items() if v[0] >= oldest}
        if len(self._entries) >= self._max:
            self._entries.clear()
        self._gates = {k: g for k, g in self._gates.items() if k in self._entries or g.locked()}

"""Segment counts: one computation for a burst of identical asks, kept only `ttl` seconds."""

from __future__ import annotations

import threading
import time

import pytest

from mailer.web.count_cache import CountCache


def test_a_burst_of_identical_asks_computes_once() -> None:
    cache, calls = CountCache(ttl=5), []

    def slow() -> int:
        calls.append(1)
        time.sleep(0.2)
        return 42

    results: list[int] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get("k", slow))) for _ in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [42] * 20 and len(calls) == 1
    assert cache.get("other", lambda: 7) == 7


def test_results_expire_and_errors_are_not_kept() -> None:
    cache = CountCache(ttl=0.05)
    assert cache.get("k", lambda: 1) == 1
    assert cache.get("k", lambda: 2) == 1
    time.sleep(0.06)
    assert cache.get("k", lambda: 3) == 3

    def broken() -> int:
        raise ValueError("bad segment")

    with pytest.raises(ValueError):
        cache.get("e", broken)
    assert cache.get("e", lambda: 5) == 5
    assert CountCache(ttl=0).get("k", lambda: 9) == 9


def test_at_most_parallel_computations_run_at_once() -> None:
    cache, running, most = CountCache(ttl=5, parallel=2), [0], [0]
    lock = threading.Lock()

    def counted() -> int:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return 1

    threads = [threading.Thread(target=cache.get, args=(n, counted)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 2

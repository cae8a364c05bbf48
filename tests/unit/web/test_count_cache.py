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


def test_a_stale_count_is_answered_at_once_and_refreshed_once_in_the_background() -> None:
    cache, calls = CountCache(ttl=0.05, stale=5), []
    refreshed = threading.Event()

    def slow() -> int:
        calls.append(1)
        time.sleep(0.2)
        refreshed.set()
        return len(calls)

    assert cache.get("k", slow) == 1
    refreshed.clear()
    time.sleep(0.06)
    began = time.monotonic()
    assert [cache.get("k", slow) for _ in range(5)] == [1] * 5  # stale, not waited for
    assert time.monotonic() - began < 0.15
    assert refreshed.wait(2) and len(calls) == 2  # one refresh for the five asks
    time.sleep(0.01)
    assert cache.get("k", slow) == 2


def test_too_stale_a_count_is_computed_again_before_answering() -> None:
    cache = CountCache(ttl=0.02, stale=0.05)
    assert cache.get("k", lambda: 1) == 1
    time.sleep(0.07)
    assert cache.get("k", lambda: 2) == 2

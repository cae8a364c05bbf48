"""Fault decisions of the local SendGrid server: seeded, per request number, in range."""

from __future__ import annotations

import pytest

from mailer.transport.fake_faults import Faults, decide


def test_the_nth_request_meets_the_same_fate_for_the_same_seed() -> None:
    faults = Faults(rate_429=0.3, rate_500=0.3, drop=0.1, delay=0.0, delay_max=0.5, seed=42)
    first = [decide(faults, n) for n in range(1, 200)]
    again = [decide(faults, n) for n in reversed(range(1, 200))][::-1]
    assert first == again
    other_seed = [decide(Faults(**{**faults.as_json(), "seed": 43}), n) for n in range(1, 200)]
    assert other_seed != first


def test_probabilities_are_roughly_honoured() -> None:
    faults = Faults(rate_429=0.2, seed=1)
    hits = sum(decide(faults, n).action == "429" for n in range(1, 2001))
    assert 300 < hits < 500


def test_fail_nth_refuses_exactly_those_requests() -> None:
    faults = Faults(fail_nth=(3, 5))
    assert [n for n in range(1, 10) if decide(faults, n).action == "400"] == [3, 5]


def test_updated_checks_names_and_ranges() -> None:
    faults = Faults().updated({"rate_500": "0.5", "fail_nth": [2]})
    assert (faults.rate_500, faults.fail_nth) == (0.5, (2,))
    with pytest.raises(ValueError, match="unknown"):
        Faults().updated({"rate_418": 1})
    with pytest.raises(ValueError, match="out of range"):
        Faults().updated({"drop": 2})

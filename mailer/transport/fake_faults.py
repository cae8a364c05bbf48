"""Fault injection for the local SendGrid server: which request fails how, deterministically.

Each mail/send request gets a sequence number n (1, 2, ... since start or reset). Its fate is
drawn from a random generator seeded with (seed, n), so the n-th request meets the same fault in
every run whatever the order threads run in.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from mailer.transport.mail_limits import MAX_MESSAGE_BYTES

ACTIONS = ("drop", "429", "500", "400")


@dataclass(frozen=True)
class Faults:
    """The knobs; every probability is in [0, 1], every duration in seconds."""

    rate_429: float = 0.0
    retry_after: float = 1.0  # X-RateLimit-Reset = now + retry_after
    rate_500: float = 0.0
    delay: float = 0.0  # every request waits this long before it is answered ...
    delay_max: float = 0.0  # ... or a uniform random time in [delay, delay_max] when larger
    drop: float = 0.0  # close without answering; the request is NOT recorded
    drop_after_accept: float = 0.0  # record the request, then close without answering
    fail_nth: tuple[int, ...] = field(default_factory=tuple)  # these requests get a 400
    max_bytes: int = MAX_MESSAGE_BYTES  # larger bodies get a 413
    seed: int = 0

    def updated(self, changes: dict[str, Any]) -> Faults:
        """A copy with some knobs changed; unknown names or bad values raise ValueError."""
        known = {f.name: f for f in fields(self)}
        unknown = set(changes) - set(known)
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}; known: {sorted(known)}")
        clean: dict[str, Any] = {}
        for name, value in changes.items():
            if name == "fail_nth":
                clean[name] = tuple(int(n) for n in (value or ()))
            elif name in ("max_bytes", "seed"):
                clean[name] = int(value)
            else:
                clean[name] = float(value)
                if clean[name] < 0 or (name.startswith(("rate_", "drop")) and clean[name] > 1):
                    raise ValueError(f"{name}={value} is out of range")
        return replace(self, **clean)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["fail_nth"] = list(self.fail_nth)
        return data


@dataclass(frozen=True, slots=True)
class Decision:
    """What happens to one request: a wait, then at most one fault."""

    delay: float
    action: str | None  # one of ACTIONS, or None: validate and answer normally
    drop_after_accept: bool


def decide(faults: Faults, n: int) -> Decision:
    """The fate of the n-th mail/send request under these faults."""
    rng = random.Random(f"{faults.seed}:{n}")
    draws = [rng.random() for _ in range(4)]
    delay = faults.delay
    if faults.delay_max > faults.delay:
        delay = faults.delay + draws[3] * (faults.delay_max - faults.delay)
    action: str | None = None
    if draws[0] < faults.drop:
        action = "drop"
    elif draws[1] < faults.rate_429:
        action = "429"
    elif draws[2] < faults.rate_500:
        action = "500"
    elif n in faults.fail_nth:
        action = "400"
    after = action is None and rng.random() < faults.drop_after_accept
    return Decision(delay, action, after)

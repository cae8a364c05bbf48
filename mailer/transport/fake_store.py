"""What the local SendGrid server remembers: accepted requests, counters, suppression lists.

Kept small for million-recipient benchmarks: by default only the parts tests look at (per
personalization: `to` addresses, custom_args, substitutions, headers), referencing the parsed
request rather than copying it. `record` chooses how much:

- "full": the whole request body too;
- "personalizations" (default): the compact form above;
- "emails": per request only the recipient addresses;
- "none": counters only.

In every mode it counts duplicate deliveries: a recipient (address, case-insensitive, with the
same custom_args) accepted more than once, which is what exactly-once tests and benchmarks check.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import orjson

RECORD_MODES = ("full", "personalizations", "emails", "none")
SUPPRESSION_KINDS = ("bounces", "spam_reports", "unsubscribes")


class Store:
    """Thread-safe memory of one server."""

    def __init__(self, record: str = "personalizations") -> None:
        if record not in RECORD_MODES:
            raise ValueError(f"record must be one of {RECORD_MODES}, not {record!r}")
        self.record = record
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self._requests: list[dict[str, Any]] = []
            self._seen: set[int] = set()
            self._counts: Counter[str] = Counter()
            self._suppressions: dict[str, list[dict[str, Any]]] = {k: [] for k in SUPPRESSION_KINDS}

    def count(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._counts[name] += amount

    def accept(self, message_id: str, payload: dict[str, Any]) -> None:
        """Remember one accepted request."""
        people = payload["personalizations"]
        keys = [
            hash((who["email"].lower(), orjson.dumps(p.get("custom_args"), option=_SORTED)))
            for p in people
            for kind in ("to", "cc", "bcc")
            for who in p.get(kind, ())
        ]
        entry = self._entry(message_id, payload) if self.record != "none" else None
        with self._lock:
            duplicates = sum(1 for key in keys if key in self._seen)
            self._seen.update(keys)
            self._counts["accepted_requests"] += 1
            self._counts["recipients"] += len(keys)
            self._counts["duplicate_recipients"] += duplicates
            if entry is not None:
                self._requests.append(entry)

    def _entry(self, message_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "message_id": message_id,
            "received": time.time(),
            "subject": payload.get("subject"),
        }
        people = payload["personalizations"]
        if self.record == "emails":
            entry["emails"] = [who["email"] for p in people for who in p["to"]]
            return entry
        entry["personalizations"] = [
            {
                "to": [who["email"] for who in p["to"]],
                "cc": [who["email"] for who in p.get("cc", ())],
                "bcc": [who["email"] for who in p.get("bcc", ())],
                "subject": p.get("subject"),
                "custom_args": p.get("custom_args", {}),
                "substitutions": p.get("substitutions", {}),
                "headers": p.get("headers", {}),
            }
            for p in people
        ]
        if self.record == "full":
            entry["body"] = payload
        return entry

    def requests(self, offset: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        with self._lock:
            end = None if limit is None else offset + limit
            return list(self._requests[offset:end])

    def recipients(self) -> list[dict[str, Any]]:
        """Flat list of every `to` recipient accepted, with its request's message id."""
        flat: list[dict[str, Any]] = []
        for entry in self.requests():
            message_id = entry["message_id"]
            if "emails" in entry:
                flat.extend(
                    {"email": e, "message_id": message_id, "custom_args": None}
                    for e in entry["emails"]
                )
                continue
            for person in entry["personalizations"]:
                flat.extend(
                    {"email": e, "message_id": message_id, "custom_args": person["custom_args"]}
                    for e in person["to"]
                )
        return flat

    def stats(self) -> dict[str, Any]:
        with self._lock:
            counts = dict(self._counts)
        faults = {k.removeprefix("fault_"): v for k, v in counts.items() if k.startswith("fault_")}
        names = ("mail_send_requests", "accepted_requests", "recipients", "duplicate_recipients")
        stats: dict[str, Any] = {name: counts.get(name, 0) for name in names}
        stats["unique_recipients"] = stats["recipients"] - stats["duplicate_recipients"]
        stats["rejected_requests"] = counts.get("rejected_requests", 0)
        stats["unauthorized"] = counts.get("unauthorized", 0)
        stats["faults"] = faults
        stats["record"] = self.record
        return stats

    def add_suppression(self, kind: str, entry: dict[str, Any]) -> dict[str, Any]:
        """Add one entry in SendGrid's shape; `created` defaults to now."""
        if kind not in SUPPRESSION_KINDS:
            raise ValueError(f"kind must be one of {SUPPRESSION_KINDS}, not {kind!r}")
        if not isinstance(entry.get("email"), str):
            raise ValueError("a suppression needs an email")
        row = {"created": int(time.time()), **entry}
        if kind == "bounces":
            row.setdefault(
                "reason", "550 5.1.1 The email account that you tried to reach does not exist."
            )
            row.setdefault("status", "5.1.1")
        with self._lock:
            self._suppressions[kind].append(row)
        return row

    def suppressions(
        self,
        kind: str,
        start_time: int | None,
        end_time: int | None,
        limit: int | None,
        offset: int,
    ) -> list[dict[str, Any]]:
        with self._lock:
            rows = list(self._suppressions[kind])
        if start_time is not None:
            rows = [r for r in rows if r["created"] >= start_time]
        if end_time is not None:
            rows = [r for r in rows if r["created"] <= end_time]
        return rows[offset : None if limit is None else offset + limit]


_SORTED = orjson.OPT_SORT_KEYS

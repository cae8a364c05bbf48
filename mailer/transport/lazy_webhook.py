"""Keeps the `sendgrid` package's Event Webhook verifier (and cryptography) unloaded until used.

`sendgrid/__init__.py` imports every helper, among them `helpers.eventwebhook`, which imports
cryptography: ~9 MB resident in a process that only sends mail (a worker) and never verifies a
signature. Before the package is first imported, a stand-in module takes that helper's place in
`sys.modules`; the first attribute asked of it (`EventWebhook`, `EventWebhookHeader`) imports
the real helper, which then replaces the stand-in. The library itself is untouched: sending
goes through its client as before, and the web process verifies with its real verifier.

Callers name the helper's own module (`from sendgrid.helpers.eventwebhook import
EventWebhook`), not the package's re-export, which the stand-in leaves empty.
"""

from __future__ import annotations

import importlib
import sys
import threading
import types
from typing import Any

HELPER = "sendgrid.helpers.eventwebhook"
_lock = threading.Lock()


class _StandIn(types.ModuleType):
    """Takes the helper's place; its first attribute lookup loads the real helper."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # import machinery probing (__path__, __all__, ...)
            raise AttributeError(name)
        return getattr(load_helper(), name)


def defer_event_webhook() -> bool:
    """Put the stand-in in place if `sendgrid` is not imported yet; did it?"""
    if "sendgrid" in sys.modules or HELPER in sys.modules:
        return False
    sys.modules[HELPER] = _StandIn(HELPER, "stand-in until the Event Webhook helper is used")
    return True


def load_helper() -> types.ModuleType:
    """The real `sendgrid.helpers.eventwebhook`, imported now if the stand-in still holds it."""
    with _lock:
        current = sys.modules.get(HELPER)
        if isinstance(current, _StandIn):
            del sys.modules[HELPER]
        return importlib.import_module(HELPER)

"""A worker imports the sendgrid library without its Event Webhook verifier (cryptography, ~9 MB
resident); code that verifies gets the real verifier on first use."""

from __future__ import annotations

from tests.fixtures.probe import fresh_interpreter

PROBE = """
import json, sys
import mailer.tasks.sending, mailer.tasks.messages, mailer.tasks.events
before = "cryptography" in sys.modules
from sendgrid import SendGridAPIClient
from sendgrid.helpers.eventwebhook import EventWebhook, EventWebhookHeader
from mailer.transport.lazy_webhook import HELPER, load_helper
print(json.dumps({
    "before": before,
    "after": "cryptography" in sys.modules,
    "real": EventWebhook.__module__ == HELPER and hasattr(EventWebhook, "verify_signature"),
    "header": EventWebhookHeader.SIGNATURE,
    "same": load_helper() is sys.modules[HELPER] is sys.modules["sendgrid.helpers"].eventwebhook,
}))
"""


def test_the_worker_task_modules_leave_cryptography_unloaded_until_a_verifier_is_used() -> None:
    seen = fresh_interpreter(PROBE)
    assert seen == {
        "before": False,
        "after": True,
        "real": True,
        "header": "X-Twilio-Email-Event-Webhook-Signature",
        "same": True,
    }


def test_the_stand_in_is_not_installed_once_sendgrid_is_imported() -> None:
    import sendgrid  # noqa: F401  (already imported by the app's modules, or now)

    from mailer.transport.lazy_webhook import defer_event_webhook

    assert defer_event_webhook() is False

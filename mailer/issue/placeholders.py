"""Substitution tags: where per-recipient values go in the once-rendered issue.

The rendered HTML, text and headers carry these tags; SendGrid replaces them per
personalization (`substitutions`), the outbox and the web pages replace them with `fill`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

UNSUBSCRIBE_URL = "-unsubscribe_url-"
PREFERENCES_URL = "-preferences_url-"
FORWARD_URL = "-forward_url-"
VIEW_URL = "-view_url-"
NAME = "-subscriber_name-"

ALL = (UNSUBSCRIBE_URL, PREFERENCES_URL, FORWARD_URL, VIEW_URL, NAME)

# Where a forwarded copy gets its "sent to you by NAME" banner; an HTML comment in the email.
BANNER_MARKER = "<!--newsletter:banner-->"
TEXT_BANNER_MARKER = "[[newsletter:banner]]"
# Around what only a subscriber's own copy says ("you receive this because you subscribed").
SUBSCRIBER_ONLY = ("<!--newsletter:subscriber-only-->", "<!--/newsletter:subscriber-only-->")


def without_banner(text: str) -> str:
    """A subscriber's own copy: the banner slot of the text part disappears with its blank line."""
    return text.replace(TEXT_BANNER_MARKER + "\n\n", "").replace(TEXT_BANNER_MARKER, "")


_TAG = re.compile("|".join(re.escape(tag) for tag in ALL))


def fill(text: str, values: Mapping[str, str]) -> str:
    """Replace every known tag in one pass; a tag missing from `values` becomes ''."""
    return _TAG.sub(lambda match: values.get(match.group(0), ""), text)

"""Realistic mail/send payloads for the transport tests: one body, N personalizations."""

from __future__ import annotations

from typing import Any

TEXT = "Hello -subscriber_name-\nUnsubscribe: -unsubscribe_url-"
HTML = '<p>Hello -subscriber_name-</p><a href="-unsubscribe_url-">Unsubscribe</a>'


def personalization(i: int) -> dict[str, Any]:
    unsubscribe = f"https://news.example.test/u/token{i}"
    return {
        "to": [{"email": f"reader{i}@example.com", "name": f"Reader {i}"}],
        "substitutions": {
            "-unsubscribe_url-": unsubscribe,
            "-subscriber_name-": f"Reader {i}",
        },
        "headers": {
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "List-Id": "<weekly.news.example.test>",
        },
        "custom_args": {"nl_send": "7", "nl_sub": str(i)},
    }


def newsletter(count: int = 2) -> dict[str, Any]:
    return {
        "personalizations": [personalization(i) for i in range(count)],
        "from": {"email": "news@example.test", "name": "The Newsletter"},
        "reply_to": {"email": "editor@example.test"},
        "subject": "Issue 12 for -subscriber_name-",
        "content": [
            {"type": "text/plain", "value": TEXT},
            {"type": "text/html", "value": HTML},
        ],
        "categories": ["newsletter"],
        "custom_args": {"nl_list": "3"},
    }

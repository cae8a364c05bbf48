"""`--at` parsing, local-time due times and batch planning (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mailer.core.errors import NewsletterError
from mailer.sending.plan import (
    RetryPolicy,
    batch_count,
    local_due_at,
    local_start_at,
    plan_groups,
    split_sizes,
)
from mailer.sending.schedule import ensure_future, parse_when

# A Tuesday.
NOW = datetime(2026, 11, 24, 22, 0, tzinfo=UTC)


def test_weekday_form_means_the_next_occurrence_in_the_newsletter_zone() -> None:
    when = parse_when("monday 08:00", "Europe/Paris", NOW)
    assert when.wall == datetime(2026, 11, 30, 8, 0)
    assert when.at == datetime(2026, 11, 30, 7, 0, tzinfo=UTC)  # CET is UTC+1 in November


def test_same_weekday_later_today_is_today_and_earlier_is_next_week() -> None:
    assert parse_when("tuesday 23:30", "UTC", NOW).at == datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
    assert parse_when("tue 21:00", "UTC", NOW).at == datetime(2026, 12, 1, 21, 0, tzinfo=UTC)


def test_iso_times_with_and_without_zone() -> None:
    naive = parse_when("2026-11-30T08:00", "America/New_York", NOW)
    assert naive.at == datetime(2026, 11, 30, 13, 0, tzinfo=UTC)
    offset = parse_when("2026-11-30T08:00+02:00", "America/New_York", NOW)
    assert offset.at == datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    named = parse_when("monday 08:00 Asia/Tokyo", "UTC", NOW)
    assert named.at == datetime(2026, 11, 29, 23, 0, tzinfo=UTC)
    assert parse_when("tomorrow 9am", "UTC", NOW).at == datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("someday 08:00", "unknown day"),
        ("monday 25:00", "not a time of day"),
        ("2026-13-01T08:00", "ISO 8601"),
        ("monday 08:00 Mars/Base", "unknown timezone"),
        ("soon", "cannot read"),
    ],
)
def test_bad_times_are_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(NewsletterError, match=message):
        parse_when(text, "UTC", NOW)


def test_a_time_in_the_past_is_refused() -> None:
    with pytest.raises(NewsletterError, match="in the past"):
        ensure_future(parse_when("2026-11-01T08:00", "UTC", NOW), NOW)
    ensure_future(parse_when("2026-12-01T08:00", "UTC", NOW), NOW)


def test_each_timezone_group_gets_its_own_due_time() -> None:
    wall = datetime(2026, 11, 30, 8, 0)
    groups = plan_groups(
        [("Asia/Tokyo", 2500), (None, 10), ("America/New_York", 1000)],
        size=1000,
        wall=wall,
        default_zone="Europe/Paris",
    )
    assert [(g.timezone, g.first_seq, g.batches) for g in groups] == [
        ("Asia/Tokyo", 0, 3),
        (None, 3, 1),
        ("America/New_York", 4, 1),
    ]
    assert [g.due_at for g in groups] == [
        datetime(2026, 11, 29, 23, 0, tzinfo=UTC),
        datetime(2026, 11, 30, 7, 0, tzinfo=UTC),  # no zone: the newsletter's
        datetime(2026, 11, 30, 13, 0, tzinfo=UTC),
    ]
    assert local_due_at(wall, "Not/AZone", "UTC") == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    assert local_start_at(wall) <= min(g.due_at for g in groups if g.due_at)


def test_batches_hold_at_most_the_batch_size() -> None:
    assert [batch_count(n) for n in (0, 1, 1000, 1001, 1_000_000)] == [0, 1, 1, 2, 1000]
    assert split_sizes(1000) == (500, 500)
    assert split_sizes(7) == (4, 3)


def test_retry_delays_grow_are_jittered_and_capped() -> None:
    policy = RetryPolicy(base=1.0, cap=30.0)
    for attempt in range(1, 30):
        assert 0 <= policy.delay(attempt) <= 30.0
    assert max(policy.delay(12) for _ in range(200)) > 2 * max(policy.delay(1) for _ in range(200))
    assert timedelta(seconds=policy.delay(3))

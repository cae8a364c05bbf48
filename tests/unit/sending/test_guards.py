"""Guard rails of `create_send` (shared by the CLI and the API): repeats, empty audiences,
test copies to several people whose links answer and change nobody, local-time feedback."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from mailer.core.errors import NewsletterError
from mailer.core.settings import Settings
from mailer.sending import control as send_control
from mailer.sending.create import check_audience, create_send, send_test_copy
from mailer.sending.timing import both_clocks, local_spread, refuse_late
from subscribers.models import Subscriber
from tests.unit.sending.helpers import ISSUE, T0, ScriptedTransport, seed


def test_the_same_issue_to_the_same_list_is_refused_unless_again(
    engine: Engine, settings: Settings
) -> None:
    list_id = seed(engine, 3)
    first = create_send(engine, settings, ISSUE, list_id, None, None, False, T0)
    with pytest.raises(NewsletterError) as refused:
        create_send(engine, settings, ISSUE, list_id, None, None, False, T0)
    assert str(refused.value) == (
        f"this issue was already sent to list 'weekly' (send {first}, scheduled for "
        "2026-11-30 07:00 UTC): add --again to send it once more"
    )
    again = create_send(engine, settings, ISSUE, list_id, None, None, False, T0, again=True)
    assert again == first + 1
    other = replace(ISSUE, html=ISSUE.html + "<p>edited</p>")  # a different issue is fine
    create_send(engine, settings, other, list_id, None, None, False, T0)
    send_control.cancel(engine, again, T0)
    send_control.cancel(engine, first, T0)  # a cancelled send never went: no repeat
    create_send(engine, settings, ISSUE, list_id, None, None, False, T0)
    other_list = seed(engine, 1, "daily")
    create_send(engine, settings, ISSUE, other_list, None, None, False, T0)  # another list


def test_an_audience_of_nobody_is_refused(engine: Engine, settings: Settings) -> None:
    list_id = seed(engine, 3)
    with pytest.raises(NewsletterError) as refused:
        check_audience(engine, "weekly", 'attr.country = "FR"')
    assert str(refused.value) == (
        "nobody would receive this send: no active subscriber of list 'weekly' matches the "
        "segment 'attr.country = \"FR\"'"
    )
    with pytest.raises(NewsletterError, match="nobody would receive"):
        create_send(engine, settings, ISSUE, list_id, 'tags has "nobody"', None, False, T0)
    with pytest.raises(NewsletterError, match="the lists are daily, weekly"):
        seed(engine, 0, "daily")
        check_audience(engine, "weekyl", None)


def test_test_copies_go_to_several_addresses_in_one_request(
    engine: Engine, settings: Settings
) -> None:
    transport = ScriptedTransport()
    to = ["me@example.net", "you@example.net", "me@example.net"]
    send_id, _ = send_test_copy(engine, settings, transport, ISSUE, to, T0)
    assert transport.accepted == ["me@example.net", "you@example.net"]
    progress = send_control.progress(engine, send_id)
    assert (progress.sent, progress.test_to) == (2, "me@example.net, you@example.net")


def test_local_time_spread_names_first_last_and_late_readers(engine: Engine) -> None:
    zones = ["Asia/Tokyo", "America/New_York", None]
    list_id = seed(engine, 9, zone=lambda i: zones[i % 3])
    wall = datetime(2026, 11, 30, 8, 0)
    now = T0.replace(hour=0, minute=30)
    spread = local_spread(engine, list_id, None, wall, "UTC", now)
    assert (spread.first_zone, spread.last_zone) == ("Asia/Tokyo", "America/New_York")
    assert spread.first == T0.replace(day=29, hour=23) and spread.last == T0.replace(hour=13)
    assert (spread.late, spread.late_zones) == (3, ("Asia/Tokyo",))
    with pytest.raises(NewsletterError) as refused:
        refuse_late(spread, wall)
    assert str(refused.value) == (
        "3 reader(s) are already past Mon 2026-11-30 08:00 in their timezone (Asia/Tokyo): "
        "they would get it at once; pick a later --at, or add --late-ok"
    )
    assert both_clocks(T0, "Europe/Paris") == "Mon 2026-11-30 08:00 Europe/Paris (07:00 UTC)"
    assert both_clocks(T0 - timedelta(hours=7), "UTC") == "Mon 2026-11-30 00:00 UTC"
    with engine.connect() as conn:
        assert conn.scalar(select(Subscriber.id).limit(1)) == 1  # ids start at 1, never 0

"""`newsletter demo`: the whole send path on embedded defaults, into the outbox."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from sqlalchemy import Engine

from mailer.cli.common import database
from mailer.cli.send_view import render_status
from mailer.core.errors import NewsletterError
from mailer.core.settings import Settings
from mailer.sending import control as send_control
from mailer.sending import state as sends
from mailer.sending.create import check_audience, create_send
from mailer.sending.pipeline import Runtime, run_send
from mailer.transport.outbox import OutboxTransport
from subscribers.db import transaction
from subscribers.models import Status, Subscriber
from subscribers.status import unsubscribe_from_list
from subscribers.store import add_subscriber, find_subscriber, get_or_create_list

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "issues" / "2026-11-30-weekly.md"
LIST = "demo"
PEOPLE = [
    ("Ada Lovelace", "Europe/London", ["investors"]),
    ("Grace Hopper", "America/New_York", ["engineering"]),
    ("Alan Turing", "Europe/London", ["engineering", "press"]),
    ("Hedy Lamarr", "Europe/Vienna", ["press"]),
    ("Katherine Johnson", "America/Chicago", []),
    ("Linus Torvalds", "Europe/Helsinki", ["engineering"]),
    ("Margaret Hamilton", "America/New_York", ["engineering"]),
    ("Tim Berners-Lee", "Europe/Paris", ["press"]),
    ("Radia Perlman", None, ["engineering"]),
    ("Yukihiro Matsumoto", "Asia/Tokyo", []),
    ("Fatima Al-Fihri", "Africa/Casablanca", ["investors"]),
    ("Ngozi Okonjo", "Africa/Lagos", ["investors"]),
    ("Ana Souza", "America/Sao_Paulo", []),
    ("Priya Raman", "Asia/Kolkata", ["engineering"]),
    ("Chen Wei", "Asia/Shanghai", ["press"]),
    ("Olivia Brown", "Australia/Sydney", []),
    ("Lars Nilsson", "Europe/Stockholm", ["investors"]),
    ("Sofía García", "Europe/Madrid", []),
    ("Jean Dupont", "Europe/Paris", ["press"]),
    ("Mia Schmidt", "Europe/Berlin", ["engineering"]),
    ("Noah Wilson", "America/Los_Angeles", []),
    ("Emma Rossi", "Europe/Rome", ["investors"]),
    ("Kwame Mensah", "Africa/Accra", []),
    ("Aiko Tanaka", "Asia/Tokyo", ["press"]),
    ("Omar Haddad", None, []),
]
ALREADY_GONE = 2  # unsubscribed before the send: never in its audience
LEAVE_DURING = 2  # unsubscribe after the audience is frozen: skipped at their batch


def _email(name: str) -> str:
    return name.lower().replace(" ", ".").replace("í", "i") + "@example.com"


def seed(engine: Engine) -> int:
    """The demo list and its people (idempotent: a second demo reuses them)."""
    with transaction(engine) as session:
        for index, (name, zone, tags) in enumerate(PEOPLE):
            gone = index >= len(PEOPLE) - ALREADY_GONE
            status = Status.UNSUBSCRIBED if gone else Status.ACTIVE
            attrs = {"plan": "pro" if index % 3 == 0 else "free"}
            if find_subscriber(session, _email(name)) is None:
                add_subscriber(session, _email(name), name, [LIST], tags, attrs, zone, status)
        return get_or_create_list(session, LIST).id


def run_demo(cfg: Settings, console: Console) -> None:
    from mailer.cli.issue_input import read_issue
    from mailer.cli.send_create_cmds import render_frozen

    if not EXAMPLE.is_file():
        raise NewsletterError(f"the example issue is missing: {EXAMPLE}")
    engine = database(cfg)
    list_id = seed(engine)
    _, reach = check_audience(engine, LIST, None)
    frozen = render_frozen(*read_issue(str(EXAMPLE)), cfg)
    now = datetime.now(UTC)
    # A demo is meant to be run again: the same issue to the same list is expected here.
    send_id = create_send(engine, cfg, frozen, list_id, None, None, False, now, again=True)
    sends.start_send(engine, send_id, now, cfg.SEND_BATCH_SIZE, cfg.NEWSLETTER_TIMEZONE)
    _leave_after_freeze(engine, send_id, list_id)
    outbox = cfg.outbox_dir.resolve()
    rt = Runtime(engine=engine, transport=OutboxTransport(outbox), settings=cfg)
    while run_send(rt, send_id).finished is None:
        pass
    console.print(f"demo: list {LIST!r} has {reach} active subscribers; send {send_id} done")
    render_status(send_control.progress(engine, send_id), Console())
    console.print(f"the messages are in {outbox} ({len(list(outbox.glob('*.eml')))} .eml files)")
    _report(send_id)


def _leave_after_freeze(engine: Engine, send_id: int, list_id: int) -> None:
    from sqlalchemy import select

    from mailer.core.models import SendRecipient

    with transaction(engine) as session:
        ids = session.scalars(
            select(SendRecipient.subscriber_id)
            .where(SendRecipient.send_id == send_id)
            .order_by(SendRecipient.subscriber_id.desc())
            .limit(LEAVE_DURING)
        ).all()
        for subscriber_id in ids:
            unsubscribe_from_list(session, subscriber_id, list_id, "demo")
            session.get_one(Subscriber, subscriber_id)


def _report(send_id: int) -> None:
    """The events/report helper's `newsletter report`, when it is there."""
    try:
        from mailer.cli import report_cmds
    except ImportError:
        return
    command = getattr(report_cmds, "report", None)
    if callable(command):
        with contextlib.suppress(TypeError):
            command(send_id=send_id, as_json=False)

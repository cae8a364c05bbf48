"""LOG_FORMAT: text for people, one JSON object per line for collectors, with send and batch ids."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailer.core.settings import Settings
from mailer.ops.logging import configure_logging, uvicorn_log_config


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_carry_send_and_batch_ids(workdir: Path) -> None:
    stream = io.StringIO()
    configure_logging(Settings(SECRET_KEY="k", LOG_FORMAT="json"), stream)
    log = logging.getLogger("mailer.sending.state")
    log.info("batch %s sent", 3, extra={"send_id": 12, "batch_id": 40, "batch_seq": 3})
    try:
        raise RuntimeError("SendGrid said no")
    except RuntimeError:
        log.exception("batch failed", extra={"send_id": 12, "batch_id": 41})
    sent, failed = (json.loads(line) for line in stream.getvalue().splitlines())
    assert sent["message"] == "batch 3 sent"
    assert (sent["send_id"], sent["batch_id"], sent["batch_seq"]) == (12, 40, 3)
    assert sent["level"] == "INFO" and sent["logger"] == "mailer.sending.state"
    assert failed["level"] == "ERROR" and failed["batch_id"] == 41
    assert "RuntimeError: SendGrid said no" in failed["exception"]


def test_text_lines_name_the_ids_too(workdir: Path) -> None:
    stream = io.StringIO()
    configure_logging(Settings(SECRET_KEY="k"), stream)
    logging.getLogger("mailer.sending.state").warning("slow", extra={"send_id": 7, "batch_id": 9})
    line = stream.getvalue().strip()
    assert line.endswith("WARNING mailer.sending.state: slow [send_id=7 batch_id=9]")


def test_configuring_again_replaces_rather_than_duplicates(workdir: Path) -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging(Settings(SECRET_KEY="k", LOG_FORMAT="json", LOG_LEVEL="warning"), first)
    configure_logging(Settings(SECRET_KEY="k", LOG_FORMAT="json", LOG_LEVEL="warning"), second)
    logging.getLogger("x").info("quiet")
    logging.getLogger("x").warning("loud")
    assert first.getvalue() == ""
    assert [json.loads(line)["message"] for line in second.getvalue().splitlines()] == ["loud"]


def test_uvicorn_logs_use_the_same_format(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logging.config.dictConfig(uvicorn_log_config(Settings(SECRET_KEY="k", LOG_FORMAT="json")))
    logging.getLogger("uvicorn.access").info("GET /healthz 200")
    entry = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert entry["logger"] == "uvicorn.access" and entry["message"] == "GET /healthz 200"


def test_log_format_is_checked(workdir: Path) -> None:
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        Settings(SECRET_KEY="k", LOG_FORMAT="xml")

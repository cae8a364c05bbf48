"""Process-wide log setup: human text or one JSON object per line, chosen by LOG_FORMAT.

Every entry point (the CLI, `newsletter serve`, `newsletter worker`, `newsletter scheduler`)
calls `configure_logging(settings)` once, before it starts its work. Code that logs about a
send or a batch passes the ids as extras, e.g.
`log.info("batch sent", extra={"send_id": send.id, "batch_id": batch.id, "batch_seq": 3})`,
and the JSON formatter turns them into fields a log collector can filter on.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from mailer.core.settings import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Ids that are worth a place in the text format too, when a record carries them.
CONTEXT_KEYS = ("send_id", "batch_id", "batch_seq", "task_id", "worker_id")
# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "", None, None)).keys()
    | {"message", "asctime", "taskName"}
)
_HANDLER_MARK = "_newsletter_handler"


def record_extras(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a caller attached with `extra=`, in the order they were given."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        for key, value in record_extras(record).items():
            entry.setdefault(key, value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The classic line, followed by `send_id=… batch_id=…` when the record carries them."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = record_extras(record)
        context = " ".join(f"{k}={extras[k]}" for k in CONTEXT_KEYS if k in extras)
        if not context:
            return line
        first, newline, rest = line.partition("\n")
        return f"{first} [{context}]{newline}{rest}"


def make_formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else TextFormatter()


def configure_logging(settings: Settings, stream: TextIO | None = None) -> logging.Handler:
    """Point the root logger at stderr with the configured format; safe to call again.

    Celery leaves a root logger alone once it has a handler (`worker_hijack_root_logger` is
    off), so calling this before the worker starts makes worker and task logs use it too.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(make_formatter(settings.LOG_FORMAT))
    setattr(handler, _HANDLER_MARK, True)
    root.addHandler(handler)
    root.setLevel(settings.LOG_LEVEL)
    return handler


def uvicorn_log_config(settings: Settings) -> dict[str, Any]:
    """A `logging.config.dictConfig` for `uvicorn.run(..., log_config=...)`.

    Uvicorn applies it in every worker process it spawns (`--workers N`), so access and
    error logs come out in the same format as everything else.
    """
    formatter = "JsonFormatter" if settings.LOG_FORMAT == "json" else "TextFormatter"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"main": {"()": f"mailer.ops.logging.{formatter}"}},
        "handlers": {
            "main": {
                "class": "logging.StreamHandler",
                "formatter": "main",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["main"], "level": settings.LOG_LEVEL},
        "loggers": {
            name: {"handlers": [], "propagate": True, "level": settings.LOG_LEVEL}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }

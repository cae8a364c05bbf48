"""Fixtures of the sending tests."""

from __future__ import annotations

import pytest

from mailer.core.settings import Settings


@pytest.fixture
def cfg(settings: Settings) -> Settings:
    """The test settings with batches of 10, so a few dozen people make several batches."""
    return settings.model_copy(update={"SEND_BATCH_SIZE": 10})

"""The security suite reuses the web pages' world: an app, a list, a sent issue, reader Alice."""

from __future__ import annotations

from tests.unit.web.conftest import client, web_settings, world

__all__ = ["client", "web_settings", "world"]

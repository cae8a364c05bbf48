"""`newsletter preview`: the local page follows the file, frames are framable only by us."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi.testclient import TestClient

from mailer.core.settings import Settings
from mailer.web.preview_app import create_preview_app

ISSUE = "---\nsubject: Local\npreheader: p\n---\nHello ![](https://x.example/i.png)\n"


def _client(tmp_path: Path) -> tuple[TestClient, Path]:
    path = tmp_path / "issue.md"
    path.write_text(ISSUE, encoding="utf-8")
    settings = Settings(SECRET_KEY="k" * 32, DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite")
    return TestClient(create_preview_app(path, settings)), path


def test_page_loads_our_script_under_a_strict_policy(tmp_path: Path) -> None:
    client, _path = _client(tmp_path)
    response = client.get("/")
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert '<script src="/assets/workspace.js?v=' in response.text
    assert "<script>" not in response.text
    script = client.get("/assets/workspace.js")
    assert script.status_code == 200 and "immutable" in script.headers["cache-control"]
    assert client.get("/assets/../../pyproject.toml").status_code == 404
    assert client.get("/assets/nothing.js").status_code == 404


def test_state_follows_the_file_when_it_is_saved(tmp_path: Path) -> None:
    client, path = _client(tmp_path)
    first = client.get("/state").json()
    assert first["ok"] and first["subject"] == "Local"
    assert [w["line"] for w in first["warnings"] if "alt text" in w["message"]] == [5]
    path.write_text(ISSUE.replace("Local", "Saved again"), encoding="utf-8")
    stamp = first["mtime"] + 1_000_000_000
    os.utime(path, ns=(stamp, stamp))
    assert client.get("/mtime").json()["mtime"] == stamp
    assert client.get("/state").json()["subject"] == "Saved again"


def test_frames_are_the_email_framable_by_our_page_only(tmp_path: Path) -> None:
    client, _path = _client(tmp_path)
    for mode in ("phone", "desktop", "dark"):
        frame = client.get(f"/frame/{mode}")
        assert frame.status_code == 200 and "Hello" in frame.text
        assert frame.headers["x-frame-options"] == "SAMEORIGIN"
        assert "frame-ancestors 'self'" in frame.headers["content-security-policy"]
        assert "script-src" not in frame.headers["content-security-policy"]
    assert client.get("/frame/tablet").status_code == 404


def test_a_broken_file_is_reported_with_its_line(tmp_path: Path) -> None:
    client, path = _client(tmp_path)
    path.write_text("---\nsubject: x\nsubjekt: y\n---\nbody\n", encoding="utf-8")
    state = client.get("/state").json()
    assert state["ok"] is False and state["error"]["line"] == 3
    path.unlink()
    assert client.get("/state").json()["ok"] is False
    assert client.get("/mtime").json()["mtime"] == 0

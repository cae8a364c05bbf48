"""Tests that read ../shared fail under CI when it is missing, and skip only elsewhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures import shared


def test_a_missing_shared_file_fails_under_ci_and_skips_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shared, "SHARED", tmp_path)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        shared.shared_file("interface.md")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match=r"interface\.md is missing"):
        shared.shared_file("interface.md")
    (tmp_path / "interface.md").write_text("# contract\n")
    monkeypatch.setenv("CI", "true")
    assert shared.shared_file("interface.md").read_text() == "# contract\n"


def test_the_shared_folder_is_the_one_beside_the_checkout() -> None:
    assert Path(__file__).resolve().parents[3].parent / "shared" == shared.SHARED

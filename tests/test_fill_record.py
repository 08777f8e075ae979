"""`.scaffold/fills.yml`: what this version writes, and records from other versions still load."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.errors import UsageError
from generator.fill.record import FILLED, RECORD_FILE, Entry, read_records, record_text
from tests.helpers import build_file_tree

OTHER_VERSIONS = """\
version: 1
regions:
  src/a.py#old:
    status: fallback
    model: claude-sonnet-5-5
    date: "2025-01-01T00:00:00+00:00"
    body_sha256: abc
    reason: the model's body failed ruff
  src/b.py#new:
    status: pending-review
    model: claude-opus-5-5
    date: "2026-01-01T00:00:00+00:00"
    body_sha256: def
    reviewer: someone
  src/c.py#done:
    status: filled
    model: claude-sonnet-5-5
    date: "2026-01-01T00:00:00+00:00"
    body_sha256: "123"
    context: {patterns.md: "456"}
"""


def test_records_from_older_and_newer_versions_load(tmp_path: Path) -> None:
    build_file_tree(tmp_path, {RECORD_FILE: OTHER_VERSIONS})
    entries = read_records(tmp_path)
    assert {key: entry.status for key, entry in entries.items()} == {
        "src/a.py#old": "fallback",
        "src/b.py#new": "pending-review",
        "src/c.py#done": FILLED,
    }
    assert entries["src/c.py#done"].context == {"patterns.md": "456"}


def test_records_round_trip_without_keys_this_version_does_not_know(tmp_path: Path) -> None:
    build_file_tree(tmp_path, {RECORD_FILE: OTHER_VERSIONS})
    build_file_tree(tmp_path / "copy", {RECORD_FILE: record_text(read_records(tmp_path))})
    again = read_records(tmp_path / "copy")
    assert again == read_records(tmp_path)
    text = (tmp_path / "copy" / RECORD_FILE).read_text()
    assert "reason:" not in text and "reviewer:" not in text


def test_an_entry_is_written_without_empty_fields() -> None:
    entry = Entry(status=FILLED, model="m", date="d", body_sha256="b")
    assert entry.to_dict() == {"status": FILLED, "model": "m", "date": "d", "body_sha256": "b"}


@pytest.mark.parametrize("entry", ["just text", "{model: m}", "{status: [1]}"])
def test_an_entry_without_a_status_is_refused(tmp_path: Path, entry: str) -> None:
    build_file_tree(tmp_path, {RECORD_FILE: f"version: 1\nregions:\n  src/a.py#x: {entry}\n"})
    with pytest.raises(UsageError, match="has no valid status; restore the file from git"):
        read_records(tmp_path)

"""The one way scaffold's caches are read and written: plain files only, private, never failing a run."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from generator.plumbing import cachefile


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


POSIX = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs and links are POSIX")


def test_what_is_written_is_read_back_private_and_whole(tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "cache.json"
    assert cachefile.write(path, "zoë")
    assert cachefile.read(path) == "zoë".encode()
    assert path.stat().st_mode & 0o777 == cachefile.MODE
    # Each folder made, not only the last (`mkdir(parents=True)` gives the others the usual mode).
    for folder in (path.parent, path.parent.parent):
        assert folder.stat().st_mode & 0o777 == cachefile.FOLDER_MODE & ~_umask(), folder
    assert cachefile.write(path, b"\x00\xff")  # replaced whole
    assert cachefile.read(path) == b"\x00\xff"
    assert [entry.name for entry in path.parent.iterdir()] == ["cache.json"]  # no temporary file left


def test_a_missing_file_is_a_miss(tmp_path: Path) -> None:
    assert cachefile.read(tmp_path / "none.json") is None


def test_a_file_over_the_limit_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "cache.bin"
    path.write_bytes(b"x" * 11)
    assert cachefile.read(path, 10) is None
    assert cachefile.read(path, 11) == b"x" * 11


@POSIX
def test_a_fifo_is_a_miss_not_a_hang(tmp_path: Path) -> None:
    path = tmp_path / "cache.json"
    os.mkfifo(path)
    found: list[bytes | None] = []
    reader = threading.Thread(target=lambda: found.append(cachefile.read(path)), daemon=True)
    reader.start()
    reader.join(10)
    assert not reader.is_alive(), "reading a FIFO waited for a writer"
    assert found == [None]


@POSIX
def test_a_link_is_neither_followed_nor_written_through(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text("someone else's", encoding="utf-8")
    path = tmp_path / "cache.json"
    path.symlink_to(elsewhere)
    assert cachefile.read(path) is None
    assert not cachefile.write(path, "new")
    assert path.is_symlink() and elsewhere.read_text(encoding="utf-8") == "someone else's"


def test_a_folder_is_a_miss_and_is_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "cache.json"
    path.mkdir()
    assert cachefile.read(path) is None
    assert not cachefile.write(path, "new")
    assert path.is_dir()


def test_a_folder_that_cannot_be_made_means_not_kept(tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the folder goes", encoding="utf-8")
    assert not cachefile.write(blocker / "cache.json", "new")


def test_remove_forgets_a_file_and_shrugs_at_a_missing_one(tmp_path: Path) -> None:
    path = tmp_path / "cache.json"
    path.write_text("{}", encoding="utf-8")
    cachefile.remove(path)
    cachefile.remove(path)
    assert not path.exists()


@POSIX
def test_the_fill_steps_mypy_cache_folder_is_made_private_before_mypy_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # mypy makes its --cache-dir with the usual modes, `~/.cache/scaffold` too when it is the first to.
    from generator.fill import typecheck

    monkeypatch.delenv("MYPY_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    project = tmp_path / "project"
    project.mkdir()
    typecheck._run("false", project, project, ["x.py"])  # a stand-in for mypy: what it says does not matter here
    made = typecheck._cache_dir(project)
    assert made.is_dir()
    for folder in (made, made.parent, made.parent.parent, tmp_path / "cache"):
        assert folder.stat().st_mode & 0o777 == cachefile.FOLDER_MODE & ~_umask(), folder

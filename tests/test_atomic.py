"""The one atomic write: whole new files or the old ones, no temporary file left, no writing through links."""

from __future__ import annotations

import errno
import os
import stat
import time
from pathlib import Path

import pytest
import yaml

from generator import settings
from generator.errors import UsageError
from generator.plumbing import atomic
from generator.plumbing.atomic import replacing, write_atomic, write_new, write_temp


def _names(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def test_write_atomic_writes_text_as_utf8_bytes_as_given(tmp_path: Path) -> None:
    write_atomic(tmp_path / "a.txt", "zoë\r\nend\n")
    write_atomic(tmp_path / "b.bin", b"\x00\xff")
    assert (tmp_path / "a.txt").read_bytes() == "zoë\r\nend\n".encode()
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\xff"
    assert _names(tmp_path) == ["a.txt", "b.bin"]


def test_write_atomic_keeps_the_targets_mode_unless_told(tmp_path: Path) -> None:
    target = tmp_path / "config.yml"
    target.write_text("old\n")
    target.chmod(0o640)
    write_atomic(target, "new\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    write_atomic(target, "newer\n", mode=0o600)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_a_new_file_gets_the_umask_mode(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        write_atomic(tmp_path / "new.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o640


@pytest.mark.parametrize(
    "error", [OSError(28, "No space left on device"), KeyboardInterrupt()], ids=["ENOSPC", "SIGINT"]
)
def test_a_failed_rename_keeps_the_old_file_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException
) -> None:
    target = tmp_path / "a.txt"
    target.write_text("old\n")

    def failing_replace(self: Path, other: Path) -> Path:
        raise error

    monkeypatch.setattr(Path, "replace", failing_replace)
    with pytest.raises(type(error)):
        write_atomic(target, "new\n")
    assert target.read_text() == "old\n"
    assert _names(tmp_path) == ["a.txt"]


def test_a_symlinked_target_is_refused_and_left_alone(tmp_path: Path) -> None:
    real = tmp_path / "real.yml"
    real.write_text("real\n")
    link = tmp_path / "link.yml"
    link.symlink_to(real)
    with pytest.raises(UsageError, match="is a symbolic link; scaffold never writes through links"):
        write_atomic(link, "new\n")
    with pytest.raises(UsageError, match="symbolic link"), replacing(link):
        pytest.fail("the block must not run")
    assert link.is_symlink() and real.read_text() == "real\n"
    assert _names(tmp_path) == ["link.yml", "real.yml"]


def test_replacing_moves_what_a_tool_wrote_into_place(tmp_path: Path) -> None:
    target = tmp_path / "out.bundle"
    with replacing(target) as partial:
        assert partial.parent == tmp_path and partial != target
        # A tool that replaces the file it is given, as `git bundle create` does.
        partial.unlink()
        partial.write_bytes(b"bundle")
        assert not target.exists()
    assert target.read_bytes() == b"bundle"
    assert _names(tmp_path) == ["out.bundle"]


def test_replacing_drops_the_partial_file_when_the_tool_fails(tmp_path: Path) -> None:
    target = tmp_path / "out.bundle"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), replacing(target) as partial:
        partial.write_bytes(b"half")
        raise RuntimeError("git failed")
    assert target.read_bytes() == b"old"
    assert _names(tmp_path) == ["out.bundle"]


def test_write_temp_leaves_the_target_alone_until_the_caller_renames(tmp_path: Path) -> None:
    target = tmp_path / "a.py"
    target.write_text("old\n")
    temp = write_temp(target, "new\n")
    assert temp.parent == tmp_path and temp.name.endswith(atomic.TEMP_SUFFIX)
    assert target.read_text() == "old\n" and temp.read_text() == "new\n"


def test_the_user_config_is_written_atomically_and_keeps_its_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config" / "config.yml"
    monkeypatch.setenv("SCAFFOLD_CONFIG", str(config))
    settings.save_user_config({"home": "/somewhere"})
    config.chmod(0o600)  # it may hold anthropic_api_key
    settings.save_user_config({"model": "m"})
    assert yaml.safe_load(config.read_text()) == {"home": "/somewhere", "model": "m"}
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert _names(config.parent) == ["config.yml"]


def test_a_symlinked_user_config_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = tmp_path / "dotfiles" / "config.yml"
    real.parent.mkdir()
    real.write_text("model: m\n")
    config = tmp_path / "config.yml"
    config.symlink_to(real)
    monkeypatch.setenv("SCAFFOLD_CONFIG", str(config))
    with pytest.raises(UsageError, match="symbolic link"):
        settings.save_user_config({"home": "/somewhere"})
    assert config.is_symlink() and real.read_text() == "model: m\n"


@pytest.mark.parametrize("links", [True, False], ids=["hard link", "no hard links"])
def test_write_new_makes_a_whole_new_file_and_never_replaces_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, links: bool
) -> None:
    if not links:  # FAT, some network and FUSE mounts: created exclusively, written in place

        def refused(source: object, target: object) -> None:
            raise OSError(errno.EPERM, "Operation not permitted")

        monkeypatch.setattr(os, "link", refused)
    old = os.umask(0o027)
    try:
        write_new(tmp_path / "0007-x.md", "# 0007. X\n")
    finally:
        os.umask(old)
    assert (tmp_path / "0007-x.md").read_text() == "# 0007. X\n"
    assert stat.S_IMODE((tmp_path / "0007-x.md").stat().st_mode) == 0o640
    # Taken by another process first: left as it is, and this one is told.
    with pytest.raises(FileExistsError):
        write_new(tmp_path / "0007-x.md", "mine\n")
    assert (tmp_path / "0007-x.md").read_text() == "# 0007. X\n"
    assert _names(tmp_path) == ["0007-x.md"]


def test_write_new_that_cannot_write_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The whole file is written beside the name first: a full disk leaves neither it nor the name.
    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match="No space left"):
        write_new(tmp_path / "0007-x.md", "# 0007. X\n")
    assert _names(tmp_path) == []


def test_stale_temps_are_removed_and_fresh_ones_and_others_kept(tmp_path: Path) -> None:
    # What SIGKILL between `write_temp` and the link leaves, long ago and just now (a run beside this
    # one on a folder that cannot be locked), and what is no leftover of scaffold's.
    old = write_temp(tmp_path / "0007-x.md", "# 0007. X\n")
    fresh = write_temp(tmp_path / "0008-y.md", "# 0008. Y\n")
    os.utime(old, (time.time() - 120, time.time() - 120))
    mine = tmp_path / ".0007-notes.md.scaffold-tmp"  # no mkstemp letters: a user's, whatever it names
    mine.write_text("the user's\n")
    (tmp_path / "sub").mkdir()
    below = write_temp(tmp_path / "sub" / "0001-z.md", "z\n")
    linked = tmp_path / ".0009-w.md.abcdefgh.scaffold-tmp"
    linked.symlink_to(mine)
    for path in (mine, below):
        os.utime(path, (time.time() - 120, time.time() - 120))
    os.utime(linked, (time.time() - 120, time.time() - 120), follow_symlinks=False)

    assert atomic.remove_stale_temps(tmp_path, left=lambda name: name != "0007-x.md") == []
    assert atomic.remove_stale_temps(tmp_path, left=lambda name: name == "0007-x.md") == [old]
    assert not old.exists() and fresh.exists() and mine.exists() and below.exists() and linked.is_symlink()
    assert atomic.remove_stale_temps(tmp_path / "missing", left=lambda name: True) == []

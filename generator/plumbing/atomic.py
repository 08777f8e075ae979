"""Replace a file whole: a reader, a crash or Ctrl-C sees the old bytes or the new, never a mix.

Every replacement is a complete file beside the target (same folder, so the rename stays on
one filesystem and is atomic) that one rename moves over it; the temporary file never
outlives a failure, an interrupt included. A new file that must not replace one (`write_new`)
is linked to its name instead, which fails if the name is taken.

Standard library only, and nothing of scaffold's but its errors: the build hook imports
`generator.template.bundle`, which writes through here, in hatchling's isolated environment.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from generator.errors import UsageError

TEMP_SUFFIX = ".scaffold-tmp"


def write_atomic(path: Path, data: bytes | str, *, mode: int | None = None) -> None:
    """Put `data` at `path` (text as UTF-8, line endings as given) in one rename.

    `mode` defaults to the permissions `path` has now, or those a new file gets under the umask.
    """
    _refuse_link(path)
    _move_over(write_temp(path, data, mode=mode), path)


def write_new(path: Path, data: bytes | str, *, mode: int | None = None) -> None:
    """Create `path` holding `data`, whole or not at all; FileExistsError if `path` exists (another
    process took the name first). The complete file beside it is linked to the name, which fails if
    the name is taken, so it never replaces anything; where the file system has no hard links, the
    file is created exclusively and written in place, and taken away if that write fails."""
    temp = write_temp(path, data, mode=mode)
    try:
        os.link(temp, path)  # EEXIST (the name taken) is no `_NO_LINKS` error: FileExistsError goes up
    except OSError as error:
        if error.errno not in _NO_LINKS:
            raise
        _write_exclusive(path, temp.read_bytes(), temp.stat().st_mode & 0o7777)
    finally:
        temp.unlink(missing_ok=True)


# What link(2) says on file systems without hard links (FAT, some network and FUSE mounts).
_NO_LINKS = frozenset({errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.ENOSYS, errno.EXDEV})


def _write_exclusive(path: Path, data: bytes, mode: int) -> None:
    # Unbuffered: a write that fails (a full disk) fails once, here, not again as the file closes.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)  # as `write_temp` made it, whatever the umask
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    finally:
        os.close(fd)


def remove_stale_temps(folder: Path, *, left: Callable[[str], bool], older_than: float = 60.0) -> list[Path]:
    """Take away the copies `write_temp` left in `folder` (not below it), more than `older_than` seconds
    old and that `left` says were left (given the name each was written for), and return them. Only
    SIGKILL (or a power cut) leaves one: every other way out removes it. Left, it is a hidden file
    `git add -A` commits. Call it under `folder_lock`, so that no scaffold process is writing there;
    where the folder cannot be locked (NFS), a run beside this one may be mid-write for the few
    milliseconds a file takes, which the age (on a server's clock) and `left` are for."""
    removed = []
    now = time.time()
    try:
        candidates = [entry for entry in os.scandir(folder) if entry.name.startswith(".")]
    except OSError:
        return []
    for entry in candidates:
        made = _TEMP_NAME.fullmatch(entry.name)  # any other name (".notes.scaffold-tmp") is not scaffold's to take
        if made is None:
            continue
        with contextlib.suppress(OSError):
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(info.st_mode) and now - info.st_mtime > older_than and left(made.group(1)):
                path = Path(entry.path)
                path.unlink()
                removed.append(path)
    return removed


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """One scaffold process at a time in the block, for `folder` (its next number, a project moved
    into it). The lock is on the folder itself, so no lock file is left behind, and the OS releases
    it if the process dies. Where there is no lock to take (not POSIX; NFS, whose `flock` needs a
    file open for writing, which a folder cannot be), the block runs unlocked: what is written is
    still never put over a file another process wrote."""
    try:
        import fcntl

        fd = os.open(folder, os.O_RDONLY)
    except (ImportError, OSError):
        yield
        return
    try:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


@contextlib.contextmanager
def replacing(path: Path, *, mode: int | None = None) -> Iterator[Path]:
    """A free path beside `path` for a tool to write (e.g. `git bundle create`); it replaces `path`
    when the block ends without an error, and is deleted otherwise."""
    _refuse_link(path)
    final_mode = _mode_for(path, mode)
    fd, temp = _new_temp(path)
    os.close(fd)
    try:
        yield temp
        # The tool may have replaced the file we made (git does): sync and set the mode afterwards.
        with temp.open("rb") as handle:
            os.fsync(handle.fileno())
        temp.chmod(final_mode)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _move_over(temp, path)


def write_temp(target: Path, data: bytes | str, *, mode: int | None = None) -> Path:
    """A new file beside `target` holding `data`, on disk; the caller renames it over `target` or deletes it.

    The primitive for replacing several files as one (`generator.fill.apply`).
    """
    final_mode = _mode_for(target, mode)
    fd, temp = _new_temp(target)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            handle.flush()
            os.fsync(handle.fileno())
        temp.chmod(final_mode)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


def _new_temp(target: Path) -> tuple[int, Path]:
    """An open, empty file with a fresh name beside `target` (hidden, and marked as scaffold's): `_TEMP_NAME`."""
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=target.parent)
    return fd, Path(name)


# `_new_temp`'s names: "." + the name written for + "." + mkstemp's eight letters + the suffix.
_TEMP_NAME = re.compile(r"\.(.+)\.[a-z0-9_]{8}" + re.escape(TEMP_SUFFIX))


def _move_over(temp: Path, target: Path) -> None:
    try:
        temp.replace(target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _refuse_link(path: Path) -> None:
    # Replacing a link would cut it silently (a dotfiles repository's config, say); writing through it
    # would change a file the user may not know scaffold reaches.
    if path.is_symlink():
        raise UsageError(
            f"{path} is a symbolic link; scaffold never writes through links: "
            "replace it with a copy of the file it points to"
        )


def _mode_for(target: Path, mode: int | None) -> int:
    if mode is not None:
        return mode
    if target.exists():
        return target.stat().st_mode & 0o7777
    return 0o666 & ~_umask()


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current

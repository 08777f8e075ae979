"""scaffold's own cache files (redaction findings, re-rank answers, compiled patterns): how they are
read and written, so that each cache need not work it out again.

A cache only saves time, so nothing here fails a run: a file that cannot be read is a cache
miss, one that cannot be written is not kept. What is read must be a plain file, opened without
following a link or waiting on a FIFO (something put at the cache's path would otherwise hang
the run, or make it read a file elsewhere); what is written is private to the user (the caches
say where secrets are in their documents) and replaces the old file in one rename.

Standard library only, besides scaffold's errors and atomic writes: `generator.context.regexes`
reads its file while the redaction rules are being imported.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from generator.errors import UsageError
from generator.plumbing.atomic import write_atomic

# (Windows has none of these flags, nor FIFOs or links to refuse.)
_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
# Caches are private to the user: the files, and a folder made for them.
MODE = 0o600
FOLDER_MODE = 0o700


def not_private(folder: Path, *, tighten: bool = True) -> str | None:
    """Why another user could put files in `folder`, a cache's folder, or replace it; None when only
    the user (or root) can. A cache there is not used: another user could have made the context index
    before scaffold did (SQLite takes an empty file as an empty database, with its owner and mode, and
    the index holds every word of the home, secrets included), or written the redaction caches that
    decide what is redacted.

    `folder` must be the user's; one others can write is made private (`chmod 700`: an older scaffold
    made its folders with the umask's mode, 0775 under a private group's umask 002). Each folder above
    it must be writable by all only with the sticky bit (`/tmp`), which keeps others from renaming what
    is not theirs; it may be group-writable, or another user's (a CI container's root under a HOME the
    runner's user owns). A folder not there yet is made private by `make_folder`. Remembered per
    folder once private: it is asked on every cache read. Without `tighten` (doctor, which changes
    nothing) only what scaffold cannot mend is said."""
    if not hasattr(os, "geteuid") or folder in _PRIVATE:  # Windows: no owners and modes to read
        return None
    me = os.geteuid()
    # The folders it is really in: a link's own parents (`~/.cache -> /shared/all-can-write/mine`) say nothing.
    real = Path(os.path.realpath(folder))
    checked = False
    for place in (real, *real.parents):
        try:
            info = place.stat()
        except FileNotFoundError:
            continue  # not there (yet): what is there above it still counts
        except OSError as error:  # a folder of another user's that this one cannot even look into
            return f"{place} cannot be looked at ({error.strerror}; {_ELSEWHERE})"
        if place == real:
            checked = True
            if info.st_uid != me:
                return f"{place} belongs to another user ({_remove_it(place, me)})"
            if info.st_mode & 0o077 and tighten:
                try:
                    place.chmod(FOLDER_MODE)
                except OSError as error:
                    return f"{place} can be written by other users and cannot be made private ({error.strerror})"
        elif info.st_mode & 0o002 and not info.st_mode & stat.S_ISVTX:
            return f"{place} can be written by other users (chmod o-w it, or {_ELSEWHERE})"
    if tighten and checked:  # one not there yet is asked again once made
        _PRIVATE.add(folder)
    return None


_PRIVATE: set[Path] = set()


def _remove_it(folder: Path, me: int) -> str:
    """The way out of a cache folder another user owns: inside the user's own (made by a run under sudo),
    remove it; elsewhere, put the cache in a folder of one's own."""
    try:
        own_parent = folder.parent.stat().st_uid == me
    except OSError:
        own_parent = False
    return f"made by a run under sudo? remove it: sudo rm -r {folder}" if own_parent else _ELSEWHERE


_ELSEWHERE = "set XDG_CACHE_HOME to a folder of yours"


def owned(path: Path) -> bool:
    """Whether the file at `path`, if there is one, is the user's: in a folder just made private, another
    user may have put one before (`not_private`)."""
    try:
        return _yours(path.lstat())
    except OSError:
        return True  # none: nobody's to fear


def _yours(info: os.stat_result) -> bool:
    """Whether a file with these stats is the user's (always on Windows: no owners to read)."""
    return not hasattr(os, "geteuid") or info.st_uid == os.geteuid()


def read(path: Path, limit: int | None = None) -> bytes | None:
    """The bytes of the cache file at `path`; None when there is none, when it is not a plain file
    (a link, a folder, a FIFO), when it is larger than `limit` bytes, when it cannot be read, or when
    its folder is not private to the user (`not_private`)."""
    if not_private(path.parent):
        return None
    try:
        fd = os.open(path, _FLAGS)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or not _yours(info):
            return None
        with open(fd, "rb", closefd=False) as handle:
            data = handle.read() if limit is None else handle.read(limit + 1)  # no more than that in memory
    except OSError:
        return None
    finally:
        os.close(fd)
    return data if limit is None or len(data) <= limit else None


def write(path: Path, data: bytes | str) -> bool:
    """Replace the cache file at `path` with `data`, private to the user, making its folder if need be;
    False when it cannot be written (a read-only or full disk, a link in its place)."""
    try:
        make_folder(path.parent)
        if not_private(path.parent):
            return False
        write_atomic(path, data, mode=MODE)
    except (OSError, UsageError):
        return False
    return True


def make_folder(folder: Path) -> None:
    """Make `folder` and each of its parents that is missing, private to the user, as the XDG base
    directory specification asks (`mkdir(parents=True)` gives the parents the usual mode: a
    `~/.cache/scaffold` of 0755 around the private files). One there already is left as it is."""
    missing = []
    for parent in (folder, *folder.parents):
        if parent.exists():
            break
        missing.append(parent)
    for parent in reversed(missing):
        parent.mkdir(mode=FOLDER_MODE, exist_ok=True)  # another process may make it meanwhile
    if not missing:
        folder.mkdir(exist_ok=True)  # a file in its place: the error mkdir gives


def remove(path: Path) -> None:
    """Delete a cache file if it is there: one that is gone only costs time."""
    with contextlib.suppress(OSError):
        path.unlink()

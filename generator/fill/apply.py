"""Replace several files as one: every file gets its new text, or none does.

Phase one writes each new text to a temporary file beside its target (this is the step
that needs disk space, and a failure in it leaves every target untouched). Phase two
hard-links each original to a backup name and renames the temporary files over the
targets; renames and links need no data blocks, so a full disk cannot stop them half-way,
and undoing is renaming the backups back. Signals are held during phase two and during an
undo, so Ctrl-C lands before or after them, never in between.

Texts are read and written as bytes decoded from UTF-8, so CRLF files keep their line
endings byte for byte.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from generator.errors import ExternalToolError, UsageError
from generator.plumbing import atomic
from generator.plumbing.transaction import checkpoint, signals_held


def refuse_links(root: Path, paths: Iterable[str]) -> None:
    """Refuse to write `paths` (relative to `root`) when any part of one under `root` is a symbolic link.

    A link (`.scaffold` -> elsewhere) would send the fills, fills.yml or the previous versions
    outside the project, or over a file the user never meant to give scaffold.
    """
    for rel in paths:
        current = root
        for part in Path(rel).parts:
            current = current / part
            if current.is_symlink():
                raise UsageError(
                    f"{current} is a symbolic link; scaffold fill writes only real files and folders inside "
                    f"the project: replace the link with a folder or file of its own"
                )
            if not current.exists():
                break


def _write_temp(target: Path, text: str | bytes) -> Path:
    # Phase one's one step, by name: the fault tests fail the n-th temporary file of a swap here.
    return atomic.write_temp(target, text)


def _failure(error: OSError, root: Path) -> ExternalToolError:
    where = Path(error.filename).parent if error.filename else root
    return ExternalToolError(f"cannot write the fills in {where}: {error.strerror or error}; nothing was changed")


def _backup(target: Path) -> Path | None:
    """A second name for the original (a hard link: no data copied), or a copy where links are not supported."""
    if not target.exists():
        return None
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".scaffold-bak", dir=target.parent)
    os.close(fd)
    backup = Path(name)
    backup.unlink()
    try:
        os.link(target, backup)
    except OSError:
        shutil.copy2(target, backup)
    return backup


def _remove(temps: Mapping[Path, Path], backups: Mapping[Path, Path | None]) -> None:
    """Delete temporary files and backups that were not used."""
    for temp in temps.values():
        temp.unlink(missing_ok=True)
    for backup in backups.values():
        if backup is not None:
            backup.unlink(missing_ok=True)


class Swap:
    """New texts for files under `root` (relative paths), applied all together or not at all. A text given as
    bytes (a file a project's command generated) is written as it is."""

    def __init__(self, root: Path, texts: Mapping[str, str | bytes]) -> None:
        self._root = root
        self._texts = dict(texts)
        # target -> backup link of the original (None: the target did not exist before).
        self._backups: dict[Path, Path | None] = {}
        # Folders `apply` had to create (e.g. .scaffold/), removed again by an undo.
        self._made: list[Path] = []

    def apply(self) -> None:
        refuse_links(self._root, self._texts)
        temps: dict[Path, Path] = {}
        backups: dict[Path, Path | None] = {}
        try:
            for number, (rel, text) in enumerate(self._texts.items(), start=1):
                target = self._root / rel
                self._make_parents(target)
                checkpoint("fill.temp", target=target, number=number)
                temps[target] = _write_temp(target, text)
                backups[target] = _backup(target)
            with signals_held():
                for number, (target, temp) in enumerate(temps.items(), start=1):
                    checkpoint("fill.rename", target=target, temp=temp, number=number)
                    self._backups[target] = backups.pop(target)
                    temp.replace(target)
        except BaseException as error:
            _remove(temps, backups)  # first: the folders made for them must be empty to go
            with signals_held():
                self._put_back()
            if isinstance(error, OSError):
                raise _failure(error, self._root) from None
            raise
        finally:
            _remove(temps, backups)

    def undo(self) -> None:
        """Put every original back (after `apply`); needs no disk space."""
        with signals_held():
            self._put_back()

    def discard(self) -> None:
        """Keep the new texts: drop the backups."""
        for backup in self._backups.values():
            if backup is not None:
                backup.unlink(missing_ok=True)
        self._backups.clear()
        self._made.clear()

    def _make_parents(self, target: Path) -> None:
        missing = [folder for folder in target.parents if not folder.exists()]
        for folder in reversed(missing):
            folder.mkdir()
            self._made.append(folder)

    def _put_back(self) -> None:
        for target, backup in reversed(list(self._backups.items())):
            if backup is None:
                target.unlink(missing_ok=True)
            elif target.exists() and backup.samefile(target):
                # Not replaced yet: renaming a hard link over itself would do nothing and keep both names.
                backup.unlink()
            else:
                backup.replace(target)
        self._backups.clear()
        for folder in reversed(self._made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        self._made.clear()

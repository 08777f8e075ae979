"""What rotate-logs does: `add_arguments` declares its own command-line arguments and `run`
carries out the work.

cli.py owns everything common to scripts (logging, -v/-q, --dry-run, exit codes, error
reporting), so this module only raises `ActionError` for failures and logs through `log`.
"""

from __future__ import annotations

# scaffold:fill imports Imports needed by add_arguments and run below. Keep argparse and logging: code outside the
# | regions uses them. Standard library only, unless you also add the dependency to pyproject.toml.
import argparse
import fnmatch
import logging
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

# scaffold:end imports

log = logging.getLogger(__name__)


class ActionError(Exception):
    """Raised when the action fails for a reason the user can act on; the message is one line."""


# scaffold:fill arguments Declare the command-line arguments of this script (Rotates and prunes application logs.) in
# | add_arguments(parser): positionals and options only, since cli.py already adds -v/-q, --version and -n/--dry-run.
# | Validate values while parsing with `type=` callables that raise argparse.ArgumentTypeError
# | with a short, specific message (argparse then exits 2 with a usage line). Give every argument
# | a help text; options get safe defaults shown with '(default: %(default)s)'.
def cleanable_directory(value: str) -> Path:
    """argparse type: an existing directory other than the filesystem root."""
    path = Path(value).expanduser()
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"not a directory: {value}")
    resolved = path.resolve()
    if resolved == Path(resolved.anchor):
        raise argparse.ArgumentTypeError(f"refusing to work on the filesystem root: {value}")
    return path


def positive_int(value: str) -> int:
    """argparse type: a whole number >= 1."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add this script's own arguments to the CLI's parser."""
    parser.add_argument(
        "directory",
        type=cleanable_directory,
        help="directory whose old files are removed (searched recursively)",
    )
    parser.add_argument(
        "--older-than",
        metavar="DAYS",
        type=positive_int,
        default=30,
        help="remove files last modified more than DAYS days ago (default: %(default)s)",
    )
    parser.add_argument(
        "--pattern",
        metavar="GLOB",
        default="*",
        help="only files whose name matches GLOB, e.g. '*.log' (default: every file)",
    )


# scaffold:end arguments


# scaffold:fill action Implement run(args), the script's main action: Rotates and prunes application logs.
# | Read the arguments declared in add_arguments from `args`; when args.dry_run is true, log what would change at INFO and change nothing.
# | Log through `log` (INFO for each change, DEBUG for detail, a one-line summary at the end); never print.
# | Raise ActionError('short reason') for failures the user can fix: cli.py turns it into exit status 1.
# | Keep it safe to re-run. Helper functions belong in this region too.
SECONDS_PER_DAY = 24 * 60 * 60


def run(args: argparse.Namespace) -> None:
    """Remove the files under args.directory not modified for args.older_than days.

    Symbolic links are neither followed nor removed; with --dry-run nothing is removed.
    """
    root: Path = args.directory
    days: int = args.older_than
    cutoff = time.time() - days * SECONDS_PER_DAY
    matched = failed = 0
    for path in _old_files(root, args.pattern, cutoff):
        matched += 1
        if args.dry_run:
            log.info("would remove %s", path)
            continue
        try:
            path.unlink()
        except FileNotFoundError:
            log.debug("already gone: %s", path)
        except OSError as exc:
            failed += 1
            log.error("could not remove %s: %s", path, exc.strerror or exc)
        else:
            log.info("removed %s", path)
    verb = "would remove" if args.dry_run else "removed"
    log.info("%s %d file(s) older than %d day(s) under %s", verb, matched - failed, days, root)
    if failed:
        raise ActionError(f"could not remove {failed} of {matched} file(s) under {root}")


def _old_files(root: Path, pattern: str, cutoff: float) -> Iterator[Path]:
    """Regular files under root named like pattern and last modified before cutoff."""

    def warn(error: OSError) -> None:
        log.warning("skipping %s: %s", error.filename, error.strerror)

    # os.walk does not descend into symlinked directories, and lstat keeps file links out.
    for dirpath, _dirnames, filenames in os.walk(root, onerror=warn):
        for name in sorted(fnmatch.filter(filenames, pattern)):
            path = Path(dirpath, name)
            try:
                info = path.lstat()
            except FileNotFoundError:
                continue
            if stat.S_ISREG(info.st_mode) and info.st_mtime < cutoff:
                yield path


# scaffold:end action

"""Command line of rotate-logs: common options, logging, exit codes and error reporting.

What the script actually does lives in `action.py`; this module is the same for every script,
so its behaviour (and its tests in tests/test_cli.py) can be relied on by callers and schedulers.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from enum import IntEnum

from rotate_logs import __version__, action

PROG = "rotate-logs"
DESCRIPTION = (
    # Parenthesised with this comment so that `ruff format` leaves the line as it is, however long.
    "Rotates and prunes application logs."
)

log = logging.getLogger(__name__)


class ExitCode(IntEnum):
    """Exit statuses callers can rely on (documented in README.md)."""

    OK = 0
    FAILURE = 1  # the action failed; the last log line says why
    USAGE = 2  # bad command line, argparse's own convention
    INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C


def build_parser() -> argparse.ArgumentParser:
    """The full parser: the common options below plus the action's own arguments."""
    parser = argparse.ArgumentParser(prog=PROG, description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log more: -v adds debug output",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="count",
        default=0,
        help="log less: -q keeps warnings and errors, -qq errors only",
    )
    parser.add_argument(
        "-n",
        "--dry-run",
        action="store_true",
        help="report what would change without changing anything",
    )
    action.add_arguments(parser)
    return parser


def configure_logging(verbosity: int) -> None:
    """Log to stderr (stdout stays free for data); each -v lowers the threshold, each -q raises it."""
    level = min(max(logging.INFO - 10 * verbosity, logging.DEBUG), logging.CRITICAL)
    logging.basicConfig(
        level=level,
        format=f"{PROG}: %(levelname)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the script with `argv` (default: sys.argv[1:]) and return its exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        # argparse exits by itself after --help, --version and usage errors; returning the
        # status instead keeps main() callable from tests and other Python code.
        return ExitCode.OK if exc.code in (0, None) else ExitCode.USAGE
    configure_logging(args.verbose - args.quiet)
    log.debug("arguments: %s", vars(args))
    try:
        action.run(args)
    except action.ActionError as exc:
        log.error("%s", exc)
        return ExitCode.FAILURE
    except OSError as exc:
        log.error("%s", exc)
        return ExitCode.FAILURE
    except KeyboardInterrupt:
        log.warning("interrupted")
        return ExitCode.INTERRUPTED
    return ExitCode.OK

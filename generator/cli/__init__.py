"""The `scaffold` command line: parse, call the pipeline, map errors to exit codes.

Each command module registers its sub-commands; the handlers return an exit code.
Nothing here (or in a command module's top level) may import copier or anthropic:
`scaffold --help` must stay fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from generator import __version__
from generator.cli.fill import register as register_fill
from generator.cli.knowledge import register as register_knowledge
from generator.cli.project import register as register_project
from generator.errors import ExitCode, ScaffoldError, one_line
from generator.plumbing.transaction import install_handlers

EPILOG = """\
exit codes:
  0    success
  1    internal error (a bug: rerun with SCAFFOLD_DEBUG=1 and report the traceback)
  2    bad usage or input: nothing was written
  3    the project was generated, but the AI fill failed: its regions kept the template's fallback
  4    update finished with conflicts to resolve
  5    git or Copier failed for a reason outside your input
  6    check: a project is behind its template's newest release
  7    check: fills were made from context documents that changed since
  130  interrupted (Ctrl-C, SIGTERM): nothing partial was left behind; the message
       says what was finished before the interrupt landed

Set SCAFFOLD_DEBUG=1 to see tracebacks. Docs: README.md.
"""


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit code 2 through our own mapping."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise ScaffoldError(f"{self.prog}: {message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="scaffold",
        description=(
            "Start new services, APIs, Terraform modules and scripts from your team's templates, "
            "keep them updated with `copier update`, and build context-injected prompts from your "
            "team's written knowledge."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"scaffold {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)
    register_project(sub)
    register_fill(sub)
    register_knowledge(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (the console script exits with it)."""
    install_handlers()
    parser = build_parser()
    debug = os.environ.get("SCAFFOLD_DEBUG") == "1"
    try:
        args = parser.parse_args(argv)
        handler = getattr(args, "handler", None)
        if handler is None:
            parser.print_help()
            return ExitCode.USAGE
        return int(handler(args))
    except ScaffoldError as error:
        if debug:
            raise
        print(f"scaffold: error: {one_line(error)}", file=sys.stderr)
        return int(error.exit_code)
    except BrokenPipeError:
        # `scaffold context ... | head`: the reader has what it wanted. Python would complain again when
        # it flushes stdout at exit, so point stdout at nothing first.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ExitCode.OK
    except KeyboardInterrupt as interrupt:
        if debug:
            raise
        from generator.cli.report import interrupted

        print(f"scaffold: interrupted; {interrupted(getattr(interrupt, 'done', None))}", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except Exception as error:  # the last line of defence: a bug, reported without a traceback
        if debug:
            raise
        print(
            f"scaffold: internal error: {type(error).__name__}: {error} "
            "(rerun with SCAFFOLD_DEBUG=1 for the traceback, and please report it)",
            file=sys.stderr,
        )
        return ExitCode.INTERNAL

"""The `scaffold` command line: parse, call the pipeline, map errors to exit codes.

Each command module registers its sub-commands; the handlers return an exit code.
Nothing here (or in a command module's top level) may import copier or anthropic:
`scaffold --help` must stay fast.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import sys
from collections.abc import Sequence
from typing import Any, Protocol

from generator import __version__
from generator.cli.doctor import register as register_doctor
from generator.cli.fill import register as register_fill
from generator.cli.knowledge import register as register_knowledge
from generator.cli.messages import is_work_done, new_run, redacted
from generator.cli.project import register as register_project
from generator.cli.streams import ClosedOutput, output_refused, stdout_closed
from generator.errors import ExitCode, ScaffoldError, did_you_mean, machine_trouble, one_line, unwritten_output
from generator.plumbing.transaction import (
    block_signals,
    install_handlers,
    landed_in_run,
    signal_received,
    signals_held,
)


class _Writable(Protocol):
    """What argparse prints to (a text stream)."""

    def write(self, text: str, /) -> object: ...


EPILOG = """\
exit codes:
  0    success
  1    internal error (a bug: rerun with SCAFFOLD_DEBUG=1 and report the traceback)
  2    bad usage or input: nothing was written
  3    the project was generated, but the AI fill failed: its regions kept the template's fallback
  4    update finished with conflicts to resolve
  5    the machine, not your input: git or Copier failed, a folder cannot be made or
       written, the disk is full, the output cannot be written, a document kept changing
  6    check: a project is behind its template's newest release
  7    check: fills were made from context documents that changed since
  130  interrupted (Ctrl-C, SIGTERM): nothing partial was left behind; the message
       says what was finished before the interrupt landed

Set SCAFFOLD_DEBUG=1 to see tracebacks. Docs: README.md.
"""


PROG = "scaffold"


# Positionals of a few words that a shell splits when they are not quoted: `scaffold context add a column`.
_IN_WORDS = ("TASK", "TITLE")


def _quote_it(parser: argparse.ArgumentParser, parsed: argparse.Namespace, rest: str) -> str:
    """For a task or title typed without quotes, the advice to quote it, with its words as one argument
    to copy; "" for anything else. `rest`, the words after the first, comes redacted; the first is
    redacted on its own."""
    import shlex

    for action in parser._actions:
        value = getattr(parsed, action.dest, None)
        if not action.option_strings and action.metavar in _IN_WORDS and isinstance(value, str) and value != "-":
            what = f"quote the {str(action.metavar).lower()} as one argument"
            meant = f"{redacted(value)} {rest}"
            # The words as meant, to copy; not when a secret in them was left out (nor the options given).
            return what if "[REDACTED" in meant else f"{what}: {shlex.quote(meant)}"
    return ""


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit code 2 through our own mapping."""

    def error(self, message: str) -> None:  # type: ignore[override]
        # main() prefixes "scaffold: error: "; a sub-command's name still says which command's usage was wrong.
        command = self.prog.removeprefix(PROG).strip()
        raise ScaffoldError(f"{command + ': ' if command else ''}{message} (see '{self.prog} --help')")

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        if extras and self.prog != PROG:
            # A command's parser: argparse hands what it did not know up to the top one, which would
            # name itself. Kept for `parse_args`, to name this command and its closest option.
            parsed._refused_by = self
        return parsed, extras

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> argparse.Namespace:
        parsed, extras = self.parse_known_args(args, namespace)
        if not extras:
            return parsed
        refused_by: argparse.ArgumentParser = getattr(parsed, "_refused_by", self)
        options = [option for action in refused_by._actions for option in action.option_strings]
        # Scanned on their own as well: after "arguments: ", a `password: ...` typed unquoted reads as no assignment.
        given = redacted(" ".join(extras))
        hint = did_you_mean(extras[0], options) if extras[0].startswith("-") else _quote_it(refused_by, parsed, given)
        refused_by.error(f"unrecognized arguments: {given}{'; ' + hint if hint else ''}")
        raise AssertionError("error() raises")  # for the type checker

    def _print_message(self, message: str, file: _Writable | None = None) -> None:
        # argparse ignores a failed write, and --help to a full disk (with PYTHONUNBUFFERED) exited 0: let it fail.
        stream = file or sys.stderr
        if message and stream is not None:
            stream.write(message)

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        # argparse would list every command; the one closest to a typo is what helps.
        if isinstance(action, argparse._SubParsersAction) and value not in action.choices:
            hint = did_you_mean(value, action.choices)
            raise ScaffoldError(f"unknown command {value!r}{'; ' + hint if hint else ''} (see '{self.prog} --help')")
        super()._check_value(action, value)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
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
    register_doctor(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (the console script exits with it)."""
    if sys.stdout is None:
        sys.stdout = ClosedOutput()
    if sys.stderr is None:  # `2>&-`: print(..., file=None) writes to stdout, into the prompt or the JSON
        sys.stderr = ClosedOutput()
    try:
        try:
            code = _run(argv)
        except SystemExit:  # --help and --version: argparse exits once they are printed
            if (code := _output_written(ExitCode.OK)) != ExitCode.OK:
                return code
            raise
        return _output_written(code)
    finally:
        if argv is None:
            # Run as the program (tests pass argv): the command has finished and said so, and a signal from
            # now on has nothing left to interrupt. Unblocked, it would land while the interpreter shuts
            # down and turn a finished run into a death by SIGINT with no message.
            block_signals()


def _reporting(argv: Sequence[str] | None) -> None:
    """The run is over and only its report is left: run as the program, block signals for good now.

    `main` does so once the report is out; a signal that landed while it was written (the
    report's import takes milliseconds) raised a KeyboardInterrupt out of the report, with a
    traceback. Tests pass argv and keep their signals: there `signals_held` defers them.
    """
    if argv is None:
        block_signals()


def _report_interrupted(argv: Sequence[str] | None, done: object) -> int:
    """Say what an interrupt left (`done`: what had landed, if anything) and return its exit code."""
    _reporting(argv)  # a second Ctrl-C, while the first is reported, must not become a traceback
    from generator.cli.report import interrupted

    # Landed after its transaction was over (on the way to the report): what the last commit point made.
    said = interrupted(done if done is not None else landed_in_run())
    print(f"scaffold: interrupted; {said}", file=sys.stderr)
    return ExitCode.INTERRUPTED


def _undecodable(argv: Sequence[str]) -> str | None:
    """An argument the terminal's encoding could not decode (Python keeps such bytes as surrogates)."""
    for arg in argv:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            return arg.encode("utf-8", "backslashreplace").decode("ascii", "replace")
    return None


def _run(argv: Sequence[str] | None) -> int:
    debug = os.environ.get("SCAFFOLD_DEBUG") == "1"
    new_run()
    try:
        # Inside the try: a signal landing as soon as the handlers are in must still end in one line.
        install_handlers()
        parser = build_parser()
        if (bad := _undecodable(sys.argv[1:] if argv is None else argv)) is not None:
            raise ScaffoldError(
                f"the argument {bad} is not valid text in your terminal's encoding; "
                "retype it, or set a UTF-8 locale (e.g. LANG=C.UTF-8)"
            )
        args = parser.parse_args(argv)
        handler = getattr(args, "handler", None)
        if handler is None:
            # Usage, not output: with stdout closed (`scaffold >&-`) it goes where errors go, or nothing is said.
            parser.print_help(sys.stderr if stdout_closed() else None)
            return ExitCode.USAGE
        if argv is None and getattr(args, "parallel_reads", False):
            # Run as the program, before any connection or thread: a test calling `main` may hold connections.
            from generator.context.beside import allow_parallel_reads

            allow_parallel_reads()
        return int(handler(args))
    except ScaffoldError as error:
        if debug:
            raise
        if signal_received():
            # The interrupt, turned into one of scaffold's errors on its way out of library code
            # (Copier's git pipes closed under it: "cannot read or write: Bad file descriptor").
            return _report_interrupted(argv, None)
        _reporting(argv)
        with signals_held():  # a signal now must not turn the message into a traceback
            print(f"scaffold: error: {redacted(one_line(error))}", file=sys.stderr)
        return int(error.exit_code)
    except BrokenPipeError:
        # `scaffold context ... | head`: the reader has what it wanted.
        _discard_output()
        return ExitCode.OK
    except KeyboardInterrupt as interrupt:
        if debug:
            raise
        return _report_interrupted(argv, getattr(interrupt, "done", None))
    except Exception as error:  # the last line of defence: a bug, reported without a traceback
        if debug:
            raise
        if isinstance(error, OSError) and output_refused(error):  # a print mid-command (the prompt): `1</dev/null`
            print(f"scaffold: error: {unwritten_output(error, finished=is_work_done())}", file=sys.stderr)
            return ExitCode.EXTERNAL
        if isinstance(error, OSError) and not signal_received() and (line := machine_trouble(error, is_work_done())):
            # The machine's trouble, not scaffold's: say which path and what to check (exit 5).
            print(f"scaffold: error: {redacted(line)}", file=sys.stderr)
            return ExitCode.EXTERNAL
        if signal_received():
            # An interrupt that landed inside library code (an import, a cached_property) can surface as
            # another exception; it is still the interrupt, and nothing was left half-done above it.
            return _report_interrupted(argv, None)
        print(
            f"scaffold: internal error: {type(error).__name__}: {redacted(one_line(error))} "
            "(rerun with SCAFFOLD_DEBUG=1 for the traceback, and please report it)",
            file=sys.stderr,
        )
        return ExitCode.INTERNAL


# Exit codes of a run that did its work and reported it on stdout: output they could not write is said.
_REPORTED = frozenset(
    {ExitCode.OK, ExitCode.FILLS_FELL_BACK, ExitCode.UPDATE_CONFLICTS, ExitCode.BEHIND, ExitCode.STALE_FILLS}
)


def _output_written(code: int) -> int:
    """`code` once what the run printed is out of Python's buffer (the one last flush, for every exit).

    Left to the interpreter, a short output (`scaffold list`, `--version`, the report of
    `new-decision`) that a full disk or a closed pipe refuses ends in "Exception ignored" and exit
    120. The command did its work before (the decision is written): the line says so, and a
    successful run exits 5; a run that ended otherwise keeps its code. After an error, whose line
    is said already, nothing more is. An interrupt while a full pipe holds the output drops it.
    """
    if isinstance(sys.stdout, ClosedOutput):  # started with stdout closed (`>&-`)
        if sys.stdout.printed and code in _REPORTED:  # `scaffold context >&-`: the prompt went nowhere
            closed = OSError(errno.EBADF, "standard output is closed")
            print(f"scaffold: error: {unwritten_output(closed)}", file=sys.stderr)
            return ExitCode.EXTERNAL if code == ExitCode.OK else code
        return code
    if code == ExitCode.INTERRUPTED:
        # Signals are blocked by now: a flush held up by a reader that does not read could not be interrupted.
        _discard_output()
        return code
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _discard_output()  # `scaffold list | head -1`: the reader has what it wanted
    except KeyboardInterrupt:
        _discard_output()
        if code in _REPORTED:
            print("scaffold: interrupted while writing the output; the command itself finished", file=sys.stderr)
            return ExitCode.INTERRUPTED
    except (OSError, ValueError) as error:
        _discard_output()
        if code in _REPORTED:
            print(f"scaffold: error: {unwritten_output(error)}", file=sys.stderr)
            return ExitCode.EXTERNAL if code == ExitCode.OK else code
    return code


def _discard_output() -> None:
    """Point stdout at nothing: Python would otherwise flush what the pipe or the disk refused again at exit,
    and complain ("Exception ignored") with exit code 120."""
    with contextlib.suppress(OSError, ValueError):
        fileno = sys.stdout.fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fileno)
        os.close(devnull)

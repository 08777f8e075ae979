"""Every error scaffold raises on purpose, and the exit code each one maps to.

Anything derived from `ScaffoldError` is "exit the program giving a message to the user":
the CLI prints `str(error)` on one line and exits with `error.exit_code`. Anything else is
a bug and prints a traceback only with SCAFFOLD_DEBUG=1. `Interrupted` is the exception:
an interrupt, not an error.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Iterable
from enum import IntEnum

# Characters that forge or hide text where a message or a name is shown: control characters (a
# newline writes a line of its own, one that could pose as scaffold's; ESC starts a terminal's
# escape), line and paragraph separators, zero widths, and the marks that reorder text (U+202E
# makes `exe.md` read as `dm.exe`). Names holding one are refused, and text to show folds them.
UNSHOWABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


class ExitCode(IntEnum):
    """Documented exit codes (README.md, "Exit codes")."""

    OK = 0
    INTERNAL = 1
    USAGE = 2
    FILLS_FELL_BACK = 3
    UPDATE_CONFLICTS = 4
    EXTERNAL = 5
    BEHIND = 6
    STALE_FILLS = 7
    INTERRUPTED = 130


class Interrupted(KeyboardInterrupt):
    """An interrupt that landed after scaffold finished something; `done` is the result that now exists."""

    def __init__(self, done: object) -> None:
        super().__init__(done)
        self.done = done


class ScaffoldError(Exception):
    """Base class: a failure with a message meant for the user."""

    exit_code: ExitCode = ExitCode.USAGE


class UsageError(ScaffoldError):
    """Raised when arguments, names, answers or files given by the user are invalid."""


class DestinationError(UsageError):
    """Raised when the destination cannot be used (non-empty without --force, not writable)."""


class TemplateSourceError(UsageError):
    """Raised when the template source is missing, unreadable or not in scaffold's layout."""


class UnknownTemplateError(UsageError):
    """Raised when a template name is not one of the source's templates/ folders."""

    @classmethod
    def among(cls, template: str, names: list[str]) -> UnknownTemplateError:
        hint = did_you_mean(template, names)
        available = f"available: {', '.join(names) or 'none'} (see 'scaffold list')"
        return cls(f"unknown template {template!r}; {hint + ' ' if hint else ''}{available}")


class AnswerError(UsageError):
    """Raised when --data, --data-file or an interactive answer is malformed or invalid."""


class RegionError(UsageError):
    """Raised when fill-region markers in a file are malformed; the message names file:line."""


class NotAProjectError(UsageError):
    """Raised when `scaffold update`, `check` or `fill` is given a path that is no project Copier generated."""


class DirtyTreeError(UsageError):
    """Raised when `scaffold update` or `scaffold fill` would change files with uncommitted changes."""


class ContextMapError(UsageError):
    """Raised when context.yml is malformed; the message starts with file:line."""


class EmptyTaskError(UsageError):
    """Raised when the task text given to `scaffold context` is empty or only whitespace."""


class BudgetError(UsageError):
    """Raised when the token budget cannot hold the prompt frame and the core documents."""


class UnknownKindError(UsageError):
    """Raised when --kind names a kind that context.yml does not define."""


class HomeError(UsageError):
    """Raised when the knowledge home is missing, not in scaffold's layout, or not writable."""


class IndexBehindError(HomeError):
    """Raised when a run that used the index while the home's files were still being looked at (see
    `load_library`'s `speculate`) finds that one changed: the context API runs again with the index
    brought up to date first, so this never reaches the user."""


class MissingExtraError(UsageError):
    """Raised when a command needs an optional part of scaffold (an extra) that is not installed.

    The message names the pip command that installs it.
    """


class ExternalToolError(ScaffoldError):
    """Raised when git or Copier fails for a reason outside the user's input."""

    exit_code = ExitCode.EXTERNAL


class MachineError(ScaffoldError):
    """Raised when the machine stops a write scaffold anticipated (a read-only folder, a full disk)."""

    exit_code = ExitCode.EXTERNAL


class IndexDamagedError(ScaffoldError):
    """Raised when the context index, a cache, is found damaged while it is read (SQLite finds damage only
    where it reads): it is removed, and the context API builds it anew and runs once more, so this
    reaches the user only when that fails too. Exit 5: the machine's file, not the user's input."""

    exit_code = ExitCode.EXTERNAL


class DocumentChangedError(ScaffoldError):
    """Raised when a context document changed, or could no longer be read, between the index update and the
    reading of its sections: a passing race, which the context API tries once more, reading `path` again
    whatever its stamps, before raising it. Exit 5, not 2: the input was right, another process wrote it
    (an editor saving again and again), and a script may run again."""

    exit_code = ExitCode.EXTERNAL

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.path = path


# Permissions, read-only or full file systems, and paths whose parts are files: what the user can fix. A
# missing file, say, is not among them: more likely scaffold's bug, which keeps its "internal error".
_MACHINE_ERRNOS = frozenset(
    {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.ENOTDIR, errno.EISDIR, errno.EFBIG}
)
_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def disk_full(error: BaseException) -> bool:
    """Whether `error` is a full disk, a quota or a file-size limit (`ulimit -f`)."""
    return isinstance(error, OSError) and error.errno in _FULL_ERRNOS


def machine_trouble(error: OSError, finished: bool = False) -> str | None:
    """One line for a file-system failure no code path anticipated (a HOME that is a file, a read-only
    folder, a full disk), naming the path and what to check; None when the error names no path, since
    then it is more likely a bug than the machine. `finished`: the command had done its work (it says
    so, `cli.messages.work_done`), so a failed write is its report's."""
    if error.filename is None and disk_full(error):
        # A stream's write (the output redirected to a full disk): no path to name, and never a bug.
        return unwritten_output(error, finished=finished)
    if error.filename is None or error.errno not in _MACHINE_ERRNOS:
        return None
    what = error.strerror or type(error).__name__
    return f"cannot use {error.filename}: {what}; {advice_for(error)}"


# What to check for each of `_MACHINE_ERRNOS`: a read-only command refused a folder must not be told
# about writing and disk room.
_PATH_ADVICE = "check that the folders on that path exist and are folders, not files"
_PERMISSION_ADVICE = "check its permissions and those of the folders above it"
_FULL_ADVICE = "free some space on that disk (or raise your quota or file size limit)"
_MACHINE_ADVICE = {
    errno.EACCES: _PERMISSION_ADVICE,
    errno.EPERM: _PERMISSION_ADVICE,
    errno.EROFS: "it is on a read-only file system; use a folder on one you can write",
    errno.EISDIR: "a folder is where scaffold needs a file; move that folder away",
    **dict.fromkeys(_FULL_ERRNOS, _FULL_ADVICE),
}


def advice_for(error: OSError) -> str:
    """What to check for a file-system failure of the path it names, by its cause (`_MACHINE_ADVICE`);
    for a cause outside the table, the path's folders (ENOTDIR: a part of it is a file)."""
    return _MACHINE_ADVICE.get(error.errno or 0, _PATH_ADVICE)


def unwritten_output(error: Exception, *, finished: bool = True) -> str:
    """One line for output the run could not write (`scaffold list > /dev/full`): at its last flush the
    command has `finished`; a write that failed inside it has only if it said so (`machine_trouble`)."""
    reason = (error.strerror if isinstance(error, OSError) else None) or one_line(error)
    full = disk_full(error)
    hint = "free some space on the disk being written" if full else "check where the output is redirected"
    return f"cannot write the output: {reason}{'; the command itself finished' if finished else ''} ({hint})"


def showable(text: str) -> str:
    """`text` with each `UNSHOWABLE` character written as its escape (`\\x1b`, `\\u202e`): for a line scaffold
    prints that quotes a document's heading or name, which could clear the screen or pose as another line."""
    return UNSHOWABLE.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


def one_line(error: BaseException) -> str:
    """An error's message on one line, as every front end shows it (a stray newline cannot break it)."""
    return "; ".join(line.strip() for line in str(error).splitlines() if line.strip())


def describe_yaml_error(error: Exception) -> str:
    """A YAML parse error as one line: 'line L, column C: problem'."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    if mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return str(problem)


def check_text(what: str, given: str | None) -> None:
    """A UsageError if `given` (a caller's text: a task, a title) is not text a person writes. The
    CLI's arguments cannot hold either; MCP's and a library caller's can."""
    if not given:
        return
    if "\x00" in given:
        raise UsageError(
            f"the {what} holds a NUL character, which no text has; remove it "
            "(a \\u0000 escape, or text decoded wrongly?)"
        )
    if not given.isascii():
        try:
            given.encode("utf-8")
        except UnicodeEncodeError:
            # A lone surrogate: bytes decoded with surrogateescape, or a JSON `\ud800` escape: the
            # redaction's hashing raised UnicodeEncodeError.
            raise UsageError(
                f"the {what} holds a lone surrogate, which is not Unicode text; pass it decoded "
                "(bytes read with errors='surrogateescape' must be decoded as their real encoding)"
            ) from None


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """Return "did you mean 'X'?" for the option closest to a mistyped `word`, or "" when none is close."""
    from difflib import get_close_matches

    close = get_close_matches(word, list(options), n=1)
    return f"did you mean {close[0]!r}?" if close else ""

"""The standard streams as a run found them: closed by the shell (`scaffold context >&-`, `2>&-`).

`generator.__main__` gives a closed stream /dev/null before anything opens a file; Python has left
`sys.stdout` or `sys.stderr` None by then. `print` to a None stdout says nothing, and to a None
stderr writes to stdout (into the prompt or the JSON), so the CLI puts a `ClosedOutput` in each.
"""

from __future__ import annotations

import errno
import io
import os
import sys


class ClosedOutput(io.TextIOBase):
    """sys.stdout or sys.stderr for a run started with it closed, where Python leaves None. As stdout it
    keeps whether the command printed, for `cli._output_written` to say that it went nowhere; what goes
    to a closed stderr is dropped, as the shell asked."""

    printed = False

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.printed = self.printed or bool(text)
        return len(text)


def stdout_closed() -> bool:
    """Whether the run was started with stdout closed (`>&-`)."""
    return sys.stdout is None or isinstance(sys.stdout, ClosedOutput)


def output_refused(error: OSError) -> bool:
    """Whether `error` is stdout refusing a write because it is open for reading only (`1</dev/null`):
    EBADF from a stream, which names no file. Any other EBADF stays what it likely is, scaffold's bug."""
    if error.errno != errno.EBADF or error.filename is not None:
        return False
    try:
        import fcntl

        flags = fcntl.fcntl(sys.stdout.fileno(), fcntl.F_GETFL)
    except (ImportError, OSError, ValueError):  # not POSIX, or no file behind sys.stdout
        return False
    return flags & os.O_ACCMODE == os.O_RDONLY

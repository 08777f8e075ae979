"""The standard streams as a run found them: stdout closed by the shell (`scaffold context >&-`).

`generator.__main__` gives a closed stream /dev/null before anything opens a file; Python has left
`sys.stdout` None by then, and `print` to None says nothing, so the CLI puts a `ClosedOutput` there.
"""

from __future__ import annotations

import io
import sys


class ClosedOutput(io.TextIOBase):
    """sys.stdout for a run started with it closed, where Python leaves None (and `print` says nothing):
    it keeps whether the command printed, for `cli._output_written` to say that it went nowhere."""

    printed = False

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.printed = self.printed or bool(text)
        return len(text)


def stdout_closed() -> bool:
    """Whether the run was started with stdout closed (`>&-`)."""
    return sys.stdout is None or isinstance(sys.stdout, ClosedOutput)

"""`python -m generator` is `scaffold`; `run` is the console script.

A signal can arrive while Python imports the CLI, before `main` installs its handlers.
Nothing exists yet then, so an interim handler says so in one line and exits 130
instead of printing a KeyboardInterrupt traceback from an import.
"""

import os
import signal
import sys

_EARLY = (signal.SIGINT, signal.SIGTERM, *((signal.SIGHUP,) if hasattr(signal, "SIGHUP") else ()))


def _early(signum: int, frame: object) -> None:
    os.write(2, b"scaffold: interrupted; nothing partial was left behind\n")
    os._exit(130)


def _standard_fds_open() -> None:
    """Give /dev/null to a standard stream the parent closed (`scaffold context >&-`). Else the next
    file scaffold opens takes its number, and a child (git) writing to that stream writes into the file.
    Python has left sys.stdout None; the CLI says what it could not print."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            # The lowest free number, and those below are open by now: `fd` itself. Inheritable, as a
            # standard stream is (`os.open` makes it close on exec, and a child would find it closed).
            os.set_inheritable(os.open(os.devnull, os.O_RDWR), True)


def run() -> None:
    for signum in _EARLY:
        if signal.getsignal(signum) is not signal.SIG_IGN:  # ignored by the parent: stays ignored
            signal.signal(signum, _early)
    _standard_fds_open()
    from generator.cli import main

    sys.exit(main())


if __name__ == "__main__":
    run()

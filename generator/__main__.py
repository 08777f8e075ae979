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


def run() -> None:
    for signum in _EARLY:
        if signal.getsignal(signum) is not signal.SIG_IGN:  # ignored by the parent: stays ignored
            signal.signal(signum, _early)
    from generator.cli import main

    sys.exit(main())


if __name__ == "__main__":
    run()

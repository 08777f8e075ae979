"""Ctrl-C, SIGTERM and SIGHUP: where scaffold lets them land.

`main` routes all three to one handler that raises KeyboardInterrupt, so every command
cleans up the same way. Steps that must happen whole (moving a rendered project into
place, swapping fill files, committing them) run inside `signals_held()`: an interrupt
lands before or after such a step, never in the middle of it.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

HELD = {signal.SIGINT, signal.SIGTERM} | ({signal.SIGHUP} if hasattr(signal, "SIGHUP") else set())

_holding = 0
_noted: list[int] = []


def _on_signal(signum: int, frame: object) -> None:
    if _holding:
        _noted.append(signum)
        return
    raise KeyboardInterrupt


def install_handlers() -> None:
    """Route SIGINT, SIGTERM and SIGHUP to KeyboardInterrupt (held while `signals_held` is active).

    A closed terminal or a `kill` must clean up like Ctrl-C: no staging folder, no half update.
    A signal the parent ignored (SIGINT in a background job) stays ignored.
    """
    for signum in HELD:
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, _on_signal)


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Defer SIGINT/SIGTERM/SIGHUP until the block is over (main thread only; elsewhere a no-op).

    Two layers, because the OS hands a process-wide signal to any thread not blocking it
    (the fill's display thread, say): the main thread's mask blocks them, which child processes
    such as `git commit` inherit, so they finish too; and the handler, which Python always runs
    in the main thread, only notes a signal while a block is active. When the outermost block
    ends, a noted signal becomes the KeyboardInterrupt it would have been.
    """
    global _holding
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if not _holding:
        _noted.clear()
    _holding += 1
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, HELD) if hasattr(signal, "pthread_sigmask") else None
    try:
        yield
    finally:
        if mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a signal pending here is noted, or raises below
        _holding -= 1
        if not _holding and _noted:
            _noted.clear()
            raise KeyboardInterrupt

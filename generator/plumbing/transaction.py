"""Ctrl-C, SIGTERM and SIGHUP: where they may land, and what exists when they do.

`install_handlers` routes all three to one handler that raises KeyboardInterrupt, so every
command cleans up the same way. A `Transaction` marks a command's commit points (moving a
rendered project into place, writing and committing fills, an update's result, a new decision,
incident or runbook written, `init` recording its home): each runs
with signals held, so an interrupt lands before or after it, never inside; once one has
landed, the transaction knows what now exists and an interrupt becomes `Interrupted(done)`.

Every commit point also passes a named `checkpoint`, where a fault hook (tests, fault drills)
may raise an interrupt or an OSError: faults are injected through this public seam, never by
patching private functions. This module must never print.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import Any

from generator.errors import Interrupted

HELD = {signal.SIGINT, signal.SIGTERM} | ({signal.SIGHUP} if hasattr(signal, "SIGHUP") else set())

_holding = 0
_noted: list[int] = []
# Every signal this run received. Python discards an exception raised inside a weakref callback or
# __del__, so a KeyboardInterrupt raised there is lost; the record is not, and the next checkpoint
# raises it again.
_received: list[int] = []

FaultHook = Callable[[str, Mapping[str, Any]], None]
_hooks: list[FaultHook] = []
# What the last commit point of this run made exist: an interrupt that lands once its transaction is
# over (on the way back to the CLI, before its report begins) still says what exists.
_landed: list[object] = []


def _on_signal(signum: int, frame: object) -> None:
    _received.append(signum)
    if _holding:
        _noted.append(signum)
        return
    raise KeyboardInterrupt


def _quiet_interrupts(unraisable: Any) -> None:
    """Python prints an exception it had to discard (raised in a __del__ or weakref callback) to stderr.
    A KeyboardInterrupt discarded so is already recorded and lands at the next checkpoint: printing it
    too would break the one line the run ends with."""
    if isinstance(unraisable.exc_value, KeyboardInterrupt):
        return
    sys.__unraisablehook__(unraisable)


def signal_received() -> bool:
    """Whether SIGINT, SIGTERM or SIGHUP arrived during this run (whatever became of its exception)."""
    return bool(_received)


def install_handlers() -> None:
    """Route SIGINT, SIGTERM and SIGHUP to KeyboardInterrupt (held while `signals_held` is active).

    A closed terminal or a `kill` must clean up like Ctrl-C: no staging folder, no half update.
    A signal the parent ignored (SIGINT in a background job) stays ignored.
    """
    _received.clear()
    _landed.clear()
    sys.unraisablehook = _quiet_interrupts
    for signum in HELD:
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, _on_signal)


def block_signals() -> None:
    """Block SIGINT/SIGTERM/SIGHUP for good (a process that is about to exit with its result).

    Blocked in the main thread and ignored: the OS hands a process-wide signal to any thread
    not blocking it (a display thread still closing), and Python then runs the handler in the
    main thread all the same.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, HELD)
    for signum in HELD:
        signal.signal(signum, signal.SIG_IGN)


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
        try:
            if mask is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a signal pending here is noted, or raises below
        finally:
            # Counted out even when another handler than scaffold's raises the pending signal right here:
            # left counted, every later signal would be noted as held and never raised.
            _holding -= 1
        if not _holding and _noted:
            _noted.clear()
            raise KeyboardInterrupt


@contextlib.contextmanager
def fault_hook(hook: FaultHook) -> Iterator[None]:
    """Call `hook(point, details)` at every checkpoint while the block runs; it may raise to inject a fault.

    Points (details in brackets): `render.commit` [path], `render.move` and `render.moved` [dest],
    `fill.call` [model, purpose] before each request to the model,
    `fill.temp` [target, number], `fill.rename` [target, temp, number], `fill.commit` [project],
    `update.merged` [project], `init.record` [root] as `init` records its home, `document.write` [path]
    as `new-decision`/`new-incident`/`new-runbook` write theirs, and `cli.report` [result] as the CLI
    starts to word a finished result.
    """
    _hooks.append(hook)
    try:
        yield
    finally:
        _hooks.remove(hook)


def landed_in_run() -> object | None:
    """What the last transaction of the run left (`Transaction.landed`), if one landed since
    `install_handlers`: what an interrupt that carries no result of its own leaves."""
    return _landed[-1] if _landed else None


def checkpoint(point: str, **details: Any) -> None:
    """A named safe point: an interrupt whose exception was swallowed lands here, then an injected fault."""
    if _received and not _holding:
        raise KeyboardInterrupt
    for hook in tuple(_hooks):
        hook(point, details)


class Transaction:
    """One command's commit points, and what exists after the last one that landed.

    Use as a context manager: an interrupt after `landed(done)` leaves the block as
    `Interrupted(done)`, so the caller can say what is finished instead of "nothing".
    """

    def __init__(self) -> None:
        self.done: object | None = None

    @contextlib.contextmanager
    def commit(self, point: str, **details: Any) -> Iterator[None]:
        """Run the block whole: signals held from the checkpoint to the block's end."""
        with signals_held():
            checkpoint(point, **details)
            yield

    def landed(self, done: object) -> None:
        """Record what now exists; call it inside the `commit` block that made it exist."""
        self.done = done

    def __enter__(self) -> Transaction:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self.done is not None:
            _landed[:] = [self.done]  # used as a context manager only: a throwaway render's is no news
        if error is None or isinstance(error, Interrupted) or self.done is None:
            return
        # Any exception counts once a signal arrived: one raised inside library code may surface as another.
        if isinstance(error, KeyboardInterrupt) or (isinstance(error, Exception) and signal_received()):
            raise Interrupted(self.done) from None

"""More cores for building the index: a build split into slots, each done by its own process.

A warm run's look at the files (`Call`, see `documents.load_library`) runs in a forked process
too, beside the caller's work from the index.

A cold build of a large home reads and splits the files (Python) and tokenizes them into the
full-text index (SQLite), tokenizing being most of it. One connection writes a database at a
time, so the build is split by files: the caller indexes one slot of them into the index, and
each forked worker another slot into a scratch database of its own, which the caller then
copies in (see `index.SectionIndex._build`). `Forked` runs the workers.

Workers are forked, so they start at once and see this process's state (test seams
included), and only when that is safe: on a platform with fork, and while this process runs
no other thread (a fork copies the locks another thread may hold; `scaffold mcp` serves
from threads, so it builds in-process). Otherwise the caller does the whole build itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from generator.plumbing.transaction import HELD, signals_held

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

# Slots beyond the caller's. Each worker holds a full-text buffer of its own (about 16 MB), and
# each slot is one more full-text table for every query to search.
MAX_WORKERS = 3
# How often a worker checks that its caller is still there.
PARENT_POLL_SECONDS = 0.2
# How long `Call.close` waits for a child it killed to be gone before it leaves it to the system.
KILLED_WAIT_SECONDS = 1.0


def workers() -> int:
    """How many worker processes a build may start: the usable cores but one (the caller's), up to `MAX_WORKERS`."""
    # Imported here: multiprocessing costs a warm `scaffold context` run 40 ms it does not need.
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods() or not can_fork():
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return min(max(cores - 1, 0), MAX_WORKERS)


class Forked:
    """`work(slot)` for each of `slots`, each in a forked worker process, running beside the caller.

    A worker that raises, or dies, only ends with a non-zero exit: `wait` names its slot, and
    the caller does that slot itself, so an error surfaces in the caller as it would without
    workers. `close` ends the workers still running (an error or Ctrl-C in the caller);
    use it with `contextlib.closing`.
    """

    def __init__(self, work: Callable[[int], None], slots: Iterable[int]) -> None:
        self._processes: dict[int, BaseProcess] = {}
        slots = list(slots)
        if not slots:
            return
        import multiprocessing

        context = multiprocessing.get_context("fork")
        parent = os.getpid()
        try:
            # Held while forking: a worker must not take a signal before it has set its own
            # handlers (see `_run`); this process takes one held here once all are started, and
            # then stops them.
            with signals_held():
                for slot in slots:
                    process = context.Process(target=_run, args=(work, slot, parent), daemon=True)
                    process.start()
                    self._processes[slot] = process
        except BaseException:
            self.close()
            raise

    def wait(self, timeout: float | None = None) -> set[int]:
        """Wait for every worker, `timeout` seconds at most; the slots whose worker did not finish
        its work. A worker still running then is killed and counted (SIGKILL ends any process
        not blocked in the kernel)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        failed = set()
        for slot, process in self._processes.items():
            process.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
            if process.exitcode != 0:
                failed.add(slot)
        return failed

    def close(self) -> None:
        for process in self._processes.values():
            if process.is_alive():
                # SIGKILL: a worker holds nothing to clean up (the caller removes its scratch), and
                # it ends at once whatever it runs.
                process.kill()
        for process in self._processes.values():
            process.join()


def can_fork() -> bool:
    """Whether `Call.start` can fork here: a platform with fork, and no other thread running."""
    return hasattr(os, "fork") and threading.active_count() == 1


class Call:
    """`work()` in a forked process, beside the caller, its result (JSON) read back by `result`.

    Forked by hand, not by `multiprocessing` (40 ms to import, more than a warm run's look at
    the files it hides). `start` gives None where no process can be forked safely (see the
    module docstring): the caller then does the work itself.
    """

    def __init__(self, pid: int, pipe: int) -> None:
        self._pid = pid
        self._pipe: int | None = pipe
        self._value: Any = None

    @classmethod
    def start(cls, work: Callable[[], Any]) -> Call | None:
        if not can_fork():
            return None
        try:
            read, write = os.pipe()
        except OSError:
            return None  # out of file descriptors: the caller does the work
        call = None
        try:
            with signals_held():  # see `Forked`: the child sets its handlers before it takes a signal
                try:
                    pid = os.fork()
                except OSError:  # out of processes or memory: the caller does the work
                    pid = -1
                if pid == 0:
                    _child(work, read, write)  # never returns
                os.close(write)
                if pid < 0:
                    os.close(read)
                    return None
                call = cls(pid, read)
        except BaseException:  # Ctrl-C held during the fork, raised as the block ends
            if call is not None:
                call.close()
            raise
        return call

    def done(self) -> bool:
        """Whether `work` is over: the child writes its result only then, or exits having written nothing."""
        if self._pipe is None:
            return True
        import select

        poll = select.poll()  # not `select.select`, which takes no descriptor past 1023
        poll.register(self._pipe, select.POLLIN)
        return bool(poll.poll(0))

    def result(self) -> Any:
        """What `work` returned; None if it raised, or the child died.

        Waits for the child: a look at files on a mount that hangs hangs here, as it would have
        in this process."""
        if self._pipe is None:
            return self._value
        chunks = []
        try:
            while chunk := os.read(self._pipe, 1 << 16):
                chunks.append(chunk)
        except BaseException:
            self.close()  # Ctrl-C: the child ignores it, and is not waited for
            raise
        os.close(self._pipe)
        self._pipe = None
        status = _reap(self._pid)
        # A child that raised, or died, exits with another status; where the status cannot be had
        # (a host that ignores SIGCHLD), one that died mid-write left JSON that does not parse.
        if status in (0, None):
            with contextlib.suppress(ValueError):
                self._value = json.loads(b"".join(chunks))
        return self._value

    def close(self) -> None:
        """End the child if it is still running, and reap it: for a result nobody will read."""
        if self._pipe is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self._pid, signal.SIGKILL)
        os.close(self._pipe)
        self._pipe = None
        _reap(self._pid, wait=KILLED_WAIT_SECONDS)


def _reap(pid: int, wait: float | None = None) -> int | None:
    """Wait for child `pid` (`wait` seconds at most; without, as long as it runs): its exit code, or
    None if it cannot be had (reaped by the host already, or still running then)."""
    deadline = None if wait is None else time.monotonic() + wait
    try:
        while True:
            done, status = os.waitpid(pid, 0 if deadline is None else os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status)
            if deadline is None or time.monotonic() > deadline:
                return None  # stuck in the kernel (a mount that hangs): SIGKILL ends it once it wakes
            time.sleep(0.005)
    except ChildProcessError:
        return None


def _child(work: Callable[[], Any], read: int, write: int) -> None:
    """The forked side of `Call.start`: never returns (`os._exit`: nothing of the parent's, such as
    buffered output or its exit handlers, runs twice). It touches none of the parent's SQLite
    connections, whose locks a fork does not copy. No watchdog for a parent that dies, as
    `Forked`'s workers have: the child's work is a look at the files, and its write to a pipe
    nobody reads then ends it."""
    try:
        os.close(read)
        _worker_signals()
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_UNBLOCK, HELD)
        data = json.dumps(work()).encode()
        with os.fdopen(write, "wb") as out:
            out.write(data)
    except BaseException:
        os._exit(1)
    os._exit(0)


def _run(work: Callable[[int], None], slot: int, parent: int) -> None:
    _worker_signals()
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, HELD)  # held by the caller while it forked
    threading.Thread(target=_orphaned, args=(parent,), daemon=True).start()
    try:
        work(slot)
    except BaseException:
        # The caller redoes the slot and reports what goes wrong there, once.
        os._exit(1)


def _orphaned(parent: int) -> None:
    """End this worker once its caller is gone (killed with SIGKILL: nobody will take the work)."""
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_SECONDS)
    os._exit(1)


def _worker_signals() -> None:
    # The parent owns the run: Ctrl-C reaches the whole process group, and only the parent
    # reports it; SIGTERM and SIGHUP simply end a worker (scaffold's own handlers, inherited
    # through the fork, would print and clean up twice).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)

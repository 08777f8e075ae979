"""A second core for building the index: an ordered map in forked worker processes.

A cold build of a large home is two jobs of similar size: reading and splitting the files
(Python) and tokenizing them into the full-text index (SQLite, in the process that holds
the connection). `ordered_map` runs the first in worker processes while the caller consumes
the results in order and does the second, so the build uses two cores instead of one.

Workers are forked, so they start at once and see this process's state (test seams
included), and only when that is safe: on a platform with fork, and while this process runs
no other thread (a fork copies the locks another thread may hold; `scaffold mcp` serves
from threads, so it builds in-process). Otherwise, and for little work, the map runs in
this process. The results are the same either way, in the same order.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Generator, Sequence
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

Item = TypeVar("Item")
Result = TypeVar("Result")

# Below this many items, starting a worker costs more than it saves.
MIN_ITEMS = 400
# Items per message between the processes: large enough to keep pickling overhead small,
# small enough that the caller starts on the first results early.
CHUNK = 64


def workers() -> int:
    """How many worker processes a build may start: the usable cores but one (the caller's)."""
    # Imported here: multiprocessing costs a warm `scaffold context` run 40 ms it does not need.
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() > 1:
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(cores - 1, 0)


def ordered_map(function: Callable[[Item], Result], items: Sequence[Item]) -> Generator[Result, None, None]:
    """`map(function, items)`, computed ahead in worker processes when that pays (see the module docstring).

    Worker `w` of `n` takes chunks `w, w + n, ...` of `items` (inherited through the fork, so
    nothing is sent to it) and sends back each chunk's results through its own pipe, which
    blocks it while the caller is behind: at most about a chunk per worker waits in memory.
    A worker that fails stops quietly, and the caller computes its chunks itself, so an
    error surfaces here as it would without workers. Closing the iterator stops the workers.
    """
    count = workers() if len(items) >= MIN_ITEMS else 0
    if count == 0:
        yield from map(function, items)
        return
    import multiprocessing

    context = multiprocessing.get_context("fork")
    pipes: list[Connection | None] = []
    processes = []
    try:
        for worker in range(count):
            receiver, sender = context.Pipe(duplex=False)
            process = context.Process(target=_work, args=(function, items, worker, count, sender), daemon=True)
            process.start()
            sender.close()
            pipes.append(receiver)
            processes.append(process)
        for number, start in enumerate(range(0, len(items), CHUNK)):
            pipe = pipes[number % count]
            results: list[Result] | None = None
            if pipe is not None:
                try:
                    results = pipe.recv()
                except EOFError:
                    pipes[number % count] = None
            if results is None:
                results = [function(item) for item in items[start : start + CHUNK]]
            yield from results
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
            process.join()
        for pipe in pipes:
            if pipe is not None:
                pipe.close()


def _work(function: Callable[[Item], Result], items: Sequence[Item], worker: int, count: int, pipe: Connection) -> None:
    _worker_signals()
    try:
        for start in range(worker * CHUNK, len(items), count * CHUNK):
            pipe.send([function(item) for item in items[start : start + CHUNK]])
    except BaseException:
        pass
    finally:
        pipe.close()


def _worker_signals() -> None:
    # The parent owns the run: Ctrl-C reaches the whole process group, and only the parent
    # reports it; the parent stops the workers with SIGTERM, which must simply end them
    # (scaffold's own handlers, inherited through the fork, would print and clean up twice).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)

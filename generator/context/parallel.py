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
import queue
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
# Chunks received ahead of the caller, shared by the workers (each is about 0.5 MB of a home's
# text): enough that one worker seldom waits for the caller. Each worker has room for two at
# least, and may hold one more in its thread and one in its pipe: a worker cannot lend its room
# to another, or the caller could wait on one whose room the others fill. `MAX_WORKERS` bounds
# the whole: at most 12 chunks.
AHEAD = 8
# The caller, adding the results to the full-text index on one core, is the slow side: on 2
# cores one worker keeps it busy, and more than three would only take memory and cores.
MAX_WORKERS = 3
# How often a thread waiting to hand over a chunk checks whether the caller has stopped.
STOP_POLL_SECONDS = 0.05


def workers() -> int:
    """How many worker processes a build may start: the usable cores but one (the caller's), up to `MAX_WORKERS`."""
    # Imported here: multiprocessing costs a warm `scaffold context` run 40 ms it does not need.
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() > 1:
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return min(max(cores - 1, 0), MAX_WORKERS)


def ordered_map(function: Callable[[Item], Result], items: Sequence[Item]) -> Generator[Result, None, None]:
    """`map(function, items)`, computed ahead in worker processes when that pays (see the module docstring).

    Worker `w` of `n` takes chunks `w, w + n, ...` of `items` (inherited through the fork, so
    nothing is sent to it) and sends back each chunk's results through its own pipe. A thread
    per pipe receives them into a queue (its share of `AHEAD`): a pipe holds less than one chunk, so
    without it a worker would wait for the caller to ask for each chunk instead of computing
    the next ones while the caller works. A worker that fails stops quietly, and the caller
    computes its chunks itself, so an error surfaces here as it would without workers.
    Closing the iterator stops the workers and the threads.
    """
    count = workers() if len(items) >= MIN_ITEMS else 0
    if count == 0:
        yield from map(function, items)
        return
    import multiprocessing

    context = multiprocessing.get_context("fork")
    stop = threading.Event()
    inboxes: list[queue.Queue[list[Result] | None]] = []
    processes = []
    receivers: list[Connection] = []
    threads: list[threading.Thread] = []
    try:
        # Every fork before the first thread: a fork copies the locks another thread may hold.
        for worker in range(count):
            receiver, sender = context.Pipe(duplex=False)
            process = context.Process(target=_work, args=(function, items, worker, count, sender), daemon=True)
            process.start()
            sender.close()
            receivers.append(receiver)
            processes.append(process)
        for receiver in receivers:
            inbox: queue.Queue[list[Result] | None] = queue.Queue(max(2, AHEAD // count))
            thread = threading.Thread(target=_receive, args=(receiver, inbox, stop), daemon=True)
            thread.start()
            inboxes.append(inbox)
            threads.append(thread)
        alive = [True] * count
        for number, start in enumerate(range(0, len(items), CHUNK)):
            results: list[Result] | None = None
            if alive[number % count]:
                results = inboxes[number % count].get()
                alive[number % count] = results is not None
            if results is None:
                results = [function(item) for item in items[start : start + CHUNK]]
            yield from results
    finally:
        stop.set()
        for process in processes:
            if process.is_alive():
                process.terminate()
            process.join()
        for thread in threads:
            # The cyclic GC may finalize an abandoned map in one of its own threads: that one ends by itself.
            if thread is not threading.current_thread():
                thread.join()
        for receiver in receivers:
            receiver.close()


def _receive(pipe: Connection, inbox: queue.Queue[list[Result] | None], stop: threading.Event) -> None:
    """Move one worker's chunks from its pipe into `inbox`, then None: the worker has stopped.

    Whatever ends the receiving (the worker done, failed or killed) ends in None, so the
    caller never waits for a chunk that will not come: it computes the rest itself.
    """
    try:
        while _hand_over(inbox, pipe.recv(), stop):
            pass
    except BaseException:  # see the docstring
        pass
    _hand_over(inbox, None, stop)


def _hand_over(inbox: queue.Queue[list[Result] | None], chunk: list[Result] | None, stop: threading.Event) -> bool:
    """Put `chunk` in `inbox` once there is room; False if the caller stopped first."""
    while not stop.is_set():
        try:
            inbox.put(chunk, timeout=STOP_POLL_SECONDS)
            return True
        except queue.Full:
            continue
    return False


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

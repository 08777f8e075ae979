"""Building the index with a second process: same results as without, in the same order."""

from __future__ import annotations

import functools
import multiprocessing
import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from generator.context import parallel
from generator.context.documents import index_path, load_library
from tests.test_context_fixtures import make_home

PARENT = os.getpid()


def square_and_pid(number: int) -> tuple[int, int]:
    return number * number, os.getpid()


def fails_in_a_worker(number: int) -> int:
    if os.getpid() != PARENT:
        raise RuntimeError("worker broke")
    return number + 1


@pytest.fixture
def forced(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers for any amount of work, in small chunks, even on a one-core machine."""
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("needs fork")
    monkeypatch.setattr(parallel, "MIN_ITEMS", 1)
    monkeypatch.setattr(parallel, "CHUNK", 3)
    monkeypatch.setattr(parallel, "workers", lambda: 2)


@pytest.mark.usefixtures("forced")
def test_ordered_map_runs_in_workers_and_keeps_the_order() -> None:
    results = list(parallel.ordered_map(square_and_pid, range(50)))
    assert [value for value, _ in results] == [number * number for number in range(50)]
    assert {pid for _, pid in results} - {PARENT}, "no chunk was computed by a worker"


@pytest.mark.usefixtures("forced")
def test_a_failing_worker_leaves_its_chunks_to_the_caller() -> None:
    assert list(parallel.ordered_map(fails_in_a_worker, range(20))) == [number + 1 for number in range(20)]


def big_and_logged(log: Path, number: int) -> bytes:
    """A result larger than a pipe holds, after noting in `log` that it was computed."""
    with log.open("a", encoding="utf-8") as handle:
        handle.write(f"{number}\n")
    return bytes(100_000)


def _computed_while_the_first_result_is_held(
    monkeypatch: pytest.MonkeyPatch, log: Path, count: int, at_least: int
) -> int:
    """Items `count` workers compute while the caller holds the first result (chunks of 3): once
    `at_least` are (waiting as long as that takes, up to 20 s), and the log has stopped growing.

    Settling can only stop early under load and so undercount, which no upper bound fails on."""
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("needs fork")
    monkeypatch.setattr(parallel, "MIN_ITEMS", 1)
    monkeypatch.setattr(parallel, "CHUNK", 3)
    monkeypatch.setattr(parallel, "workers", lambda: count)
    log.touch()
    results = parallel.ordered_map(functools.partial(big_and_logged, log), range(300))
    assert len(next(results)) == 100_000
    deadline = time.monotonic() + 20
    while len(log.read_text(encoding="utf-8").split()) < at_least and time.monotonic() < deadline:
        time.sleep(0.02)
    computed = -1
    while computed != (computed := len(log.read_text(encoding="utf-8").split())) and time.monotonic() < deadline:
        time.sleep(0.5)  # until the log stops growing: every worker waits for room
    assert sum(1 for _ in results) == 299
    results.close()
    return computed


def test_workers_compute_ahead_while_the_caller_is_busy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # A pipe holds less than one chunk here, so a worker only gets ahead if the chunks are
    # taken off its pipe while the caller is busy with the first one.
    ahead = _computed_while_the_first_result_is_held(monkeypatch, tmp_path / "computed", 1, 4 * 3 + 3)
    assert ahead >= 4 * 3 + 3, f"the worker computed {ahead} items while the caller held the first"
    assert ahead <= (parallel.AHEAD + 4) * 3, "the worker ran further ahead than AHEAD allows"


def test_many_workers_share_what_may_wait_for_the_caller(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Four workers share AHEAD (two chunks each), rather than taking AHEAD each. Each worker may
    # also hold one chunk in its thread and one in its pipe, beyond its share.
    ahead = _computed_while_the_first_result_is_held(monkeypatch, tmp_path / "computed", 4, 4 * 3)
    assert ahead <= (parallel.AHEAD + 4 * 3 + 1) * 3, f"{ahead} items computed ahead by 4 workers"


@pytest.mark.usefixtures("forced")
def test_stopping_early_ends_the_workers() -> None:
    before = threading.active_count()  # a pytest plugin may run threads of its own
    results = parallel.ordered_map(square_and_pid, range(1000))
    assert next(results)[0] == 0
    results.close()
    assert [child for child in multiprocessing.active_children() if child.is_alive()] == []
    assert threading.active_count() == before, "a thread receiving chunks outlived the map"


def test_small_work_and_threads_stay_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    assert {pid for _, pid in parallel.ordered_map(square_and_pid, range(10))} == {PARENT}
    monkeypatch.setattr(threading, "active_count", lambda: 2)
    assert parallel.workers() == 0


def test_a_machine_of_many_cores_starts_a_few_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    if "fork" not in multiprocessing.get_all_start_methods() or not hasattr(os, "sched_getaffinity"):
        pytest.skip("needs fork and sched_getaffinity")
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(64)))
    assert parallel.workers() == parallel.MAX_WORKERS == 3
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    assert parallel.workers() == 1


def _index_rows(context: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    with sqlite3.connect(index_path(context)) as db:
        files = db.execute("SELECT * FROM files ORDER BY path").fetchall()
        sections = db.execute("SELECT * FROM sections ORDER BY id").fetchall()
    return files, sections


def test_an_index_built_by_workers_equals_one_built_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forced: None
) -> None:
    make_home(tmp_path)
    context = tmp_path / "context"
    (context / "runbooks" / "bad.md").write_bytes(b"# Bad\n\xff\xfe\n")
    built = load_library(context)
    by_workers = _index_rows(context)
    ranked = built.rank("deploy image tag dashboard", ["runbooks", "decisions"], 10)

    index_path(context).unlink()
    monkeypatch.setattr(parallel, "workers", lambda: 0)
    again = load_library(context)
    assert _index_rows(context) == by_workers
    assert again.rank("deploy image tag dashboard", ["runbooks", "decisions"], 10) == ranked
    assert ranked
    assert again.warnings == built.warnings
    assert any("bad.md" in warning for warning in built.warnings)


def many_small_lists(number: int) -> list[list[int]]:
    """A result whose unpickling allocates enough containers to start the cyclic GC in the receiving thread."""
    return [[n] for n in range(2000)]


@pytest.mark.usefixtures("forced")
def test_a_map_abandoned_in_a_reference_cycle_is_finalized_quietly(monkeypatch: pytest.MonkeyPatch) -> None:
    # The cyclic GC runs in whichever thread allocates: here the threads receiving chunks, which must not
    # try to join themselves when the collected map's `finally` runs in one of them.
    import gc

    before = threading.active_count()
    unraisable: list[BaseException | None] = []
    monkeypatch.setattr("sys.unraisablehook", lambda report: unraisable.append(report.exc_value))
    monkeypatch.setattr(parallel, "CHUNK", 64)
    threshold = gc.get_threshold()
    gc.set_threshold(100)
    try:
        for _ in range(5):
            holder: dict[str, object] = {}
            holder["self"] = holder
            results = parallel.ordered_map(many_small_lists, range(3000))
            holder["results"] = results
            next(results)
            del holder, results
            deadline = time.monotonic() + 5
            while threading.active_count() > before and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        gc.set_threshold(*threshold)
        gc.collect()
    assert unraisable == []
    assert threading.active_count() == before
    assert [child for child in multiprocessing.active_children() if child.is_alive()] == []

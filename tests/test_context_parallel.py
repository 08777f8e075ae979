"""Building the index in slots, a process each: the same index as one process builds, safely."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from generator.context import beside, documents, parallel
from generator.context import index as index_module
from generator.context import sections as files_module
from generator.context.documents import index_path, load_library
from generator.context.index import SectionIndex
from generator.context.sections import FileEntry, Section, StubPatterns, scan_files
from generator.plumbing.transaction import install_handlers
from tests.helpers import REPO_ROOT
from tests.test_context_fixtures import make_home, touch_later

PARENT = os.getpid()
# The documents of `make_home`, and the 54 jobs and the decision the `slotted` home adds.
MARKDOWN_FILES = 66


def needs_fork() -> None:
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("needs fork")


def _gone(pid: int) -> bool:
    """Whether process `pid` has ended (a zombie nobody reaped counts as ended)."""
    if not Path("/proc/self/status").exists():
        pytest.skip("needs /proc")
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    except OSError:
        return True
    return "\nState:\tZ" in status


def _running_workers() -> list[multiprocessing.process.BaseProcess]:
    return [child for child in multiprocessing.active_children() if child.is_alive()]


def _wait_until(condition: Callable[[], bool], seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


# --- Forked ----------------------------------------------------------------------------------


def test_each_slot_runs_in_its_own_worker_and_failures_are_named(tmp_path: Path) -> None:
    needs_fork()

    def work(slot: int) -> None:
        if slot == 3:
            raise RuntimeError("slot 3 broke")
        if slot == 4:
            os.kill(os.getpid(), signal.SIGKILL)
        (tmp_path / str(slot)).write_text(str(os.getpid()), encoding="utf-8")

    workers = parallel.Forked(work, [1, 2, 3, 4])
    assert workers.wait() == {3, 4}
    workers.close()
    pids = {int((tmp_path / str(slot)).read_text(encoding="utf-8")) for slot in (1, 2)}
    assert len(pids) == 2 and PARENT not in pids
    assert not (tmp_path / "3").exists()


def test_closing_ends_the_workers_still_running() -> None:
    needs_fork()
    workers = parallel.Forked(lambda slot: time.sleep(60), [1, 2])
    started = time.monotonic()
    workers.close()
    assert time.monotonic() - started < 10
    assert _running_workers() == []


def test_a_worker_still_running_at_the_deadline_is_ended_and_named() -> None:
    needs_fork()
    with contextlib.closing(parallel.Forked(lambda slot: time.sleep(60) if slot == 2 else None, [1, 2])) as workers:
        started = time.monotonic()
        assert workers.wait(timeout=5) == {2}
        assert time.monotonic() - started < 30
        assert _running_workers() == []


def test_a_worker_takes_no_signal_before_its_own_handlers_are_set(tmp_path: Path) -> None:
    # SIGINT at the moment of the fork: the worker ignores it (only the caller reports an interrupt), and no
    # traceback from multiprocessing's start-up code reaches stderr.
    needs_fork()
    code = (
        "import os, signal, sys\n"
        "from generator.context import parallel\n"
        "from generator.plumbing.transaction import install_handlers\n"
        "install_handlers()\n"
        "def work(slot):\n"
        "    os.kill(os.getppid(), 0)\n"
        "workers = []\n"
        "for _ in range(30):\n"
        "    forked = parallel.Forked(work, [1, 2])\n"
        "    try:\n"
        "        os.killpg(0, signal.SIGINT)\n"
        "    except KeyboardInterrupt:\n"
        "        pass\n"
        "    try:\n"
        "        failed = forked.wait()\n"
        "    except KeyboardInterrupt:\n"
        "        failed = forked.wait()\n"
        "    forked.close()\n"
        "    assert not failed, failed\n"
        "print('done')\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, start_new_session=True
    )
    assert run.stdout == "done\n", run.stderr
    assert "Traceback" not in run.stderr


def test_an_interrupt_while_forking_ends_the_workers_already_started(monkeypatch: pytest.MonkeyPatch) -> None:
    # Held while the workers start, the signal is taken once they all have: they must be stopped then, as
    # the caller never gets the `Forked` to close.
    needs_fork()
    start = multiprocessing.process.BaseProcess.start

    def start_then_interrupted(process: multiprocessing.process.BaseProcess) -> None:
        start(process)
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", start_then_interrupted)
    # scaffold's handlers, as a run has them; installed again after, as the next run does, so that the
    # signal it recorded is not taken by a later test's checkpoint.
    install_handlers()
    try:
        with pytest.raises(KeyboardInterrupt):
            parallel.Forked(lambda slot: time.sleep(60), [1, 2])
    finally:
        install_handlers()
    monkeypatch.undo()
    assert _running_workers() == []


def test_a_worker_whose_caller_was_killed_ends(tmp_path: Path) -> None:
    needs_fork()
    code = (
        "import os, sys, time\n"
        "from generator.context import parallel\n"
        "workers = parallel.Forked(lambda slot: time.sleep(120), [1])\n"
        "print(*[p.pid for p in workers._processes.values()], flush=True)\n"
        "time.sleep(120)\n"
    )
    caller = subprocess.Popen([sys.executable, "-c", code], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    assert caller.stdout is not None
    worker = int(caller.stdout.readline())
    caller.kill()
    caller.wait()
    assert _wait_until(lambda: _gone(worker)), "the worker outlived its killed caller"


def test_a_process_running_threads_forks_no_worker(monkeypatch: pytest.MonkeyPatch) -> None:
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


# --- an index built in slots -----------------------------------------------------------------


@pytest.fixture
def slotted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A home of 66 documents that builds in two slots, one of them by a worker, even on a one-core machine."""
    needs_fork()
    monkeypatch.setattr(index_module, "FILES_PER_SLOT", 1)
    monkeypatch.setattr(parallel, "workers", lambda: 2)
    extra: dict[str, str | bytes] = {
        f"context/runbooks/job-{number:02d}.md": f"# Job {number}\n\n## Steps\n\nRestart the job{number} queue worker.\n"
        for number in range(54)
    }
    extra["context/decisions/0010-zeppelin.md"] = (
        "# 0010. Zeppelin\n\nSee runbooks/job-07.md for the zeppelin hangar.\n"
    )
    make_home(tmp_path, extra)
    return tmp_path / "context"


Rows = tuple[list[tuple[object, ...]], list[tuple[object, ...]], dict[str, int]]


def _rows(context: Path) -> Rows:
    """The files rows, the sections rows, and how many full-text rows each table holds; each
    table passes FTS5's integrity check and counts its rows right, and the index by path is there."""
    with sqlite3.connect(index_path(context)) as db:
        files = db.execute("SELECT * FROM files ORDER BY path").fetchall()
        sections = db.execute("SELECT * FROM sections ORDER BY id").fetchall()
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL%'")]
        counts = {table: db.execute(f"SELECT count(*) FROM {table}_docsize").fetchone()[0] for table in tables}
        for table in tables:
            db.execute(f"INSERT INTO {table}({table}) VALUES ('integrity-check')")
            # The row count BM25 ranks by (the first varint of FTS5's averages record) is the rows'.
            total = 0
            for byte in db.execute(f"SELECT block FROM {table}_data WHERE id = 1").fetchone()[0]:
                total = total << 7 | byte & 0x7F
                if byte < 0x80:
                    break
            assert total == counts[table], f"{table} ranks by {total} rows of {counts[table]}"
        assert db.execute("SELECT 1 FROM sqlite_master WHERE name = 'sections_by_path'").fetchone()
    return files, sections, counts


def _scratch_folders(context: Path) -> list[Path]:
    return list(index_path(context).parent.glob(".*.build-*"))


def _edited_in_place(context: Path) -> None:
    """Every document's last letter outside a heading in the other case, its time moved on: other
    bytes, as after a branch switch, of the same size and with the same words and sections. (A file
    only touched keeps its split: `SectionIndex._restamp_unchanged`.)"""
    for path in context.rglob("*.md"):
        if any(part.startswith(("_", ".")) for part in path.relative_to(context).parts):
            continue  # stub templates (`_templates/`): a change there rebuilds for its own reason
        data = bytearray(path.read_bytes())
        for at in reversed(range(len(data))):
            line = bytes(data[data.rfind(b"\n", 0, at) + 1 : at])
            if chr(data[at]).isascii() and chr(data[at]).isalpha() and not line.startswith(b"#"):
                data[at] ^= 0x20
                break
        else:
            raise AssertionError(f"{path}: no letter outside a heading")
        path.write_bytes(bytes(data))
        touch_later(path)


def _jobs_found(library: documents.Library) -> None:
    """Every job is found, whichever slot (and process) indexed it."""
    for number in range(54):
        [(section, _)] = library.rank(f"job{number} queue", ["runbooks"], 1)
        assert section.path == f"runbooks/job-{number:02d}.md"


def _indexed_whole(context: Path, library: documents.Library) -> None:
    """Every file and section is in, each once, whichever process indexed it."""
    files, sections, counts = _rows(context)
    assert all(counts.values()) and sum(counts.values()) == len(sections) and len(files) == MARKDOWN_FILES
    _jobs_found(library)


def test_an_index_built_by_a_worker_is_the_one_this_process_builds(
    slotted: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (slotted / "runbooks" / "bad.md").write_bytes(b"# Bad\n\xff\xfe\n")
    built = load_library(slotted)
    rows = _rows(slotted)
    files, sections, counts = rows
    assert sorted(counts) == ["fts", "fts1"] and all(counts.values())
    assert sum(counts.values()) == len(sections) and len(files) == MARKDOWN_FILES + 1
    assert _scratch_folders(slotted) == []
    _jobs_found(built)
    ranked = built.rank("restart queue worker zeppelin", ["runbooks", "decisions"], 20)
    found = built.words_in([f"runbooks/job-{number:02d}.md" for number in range(54)], ["restart", "job5"])
    assert all(words >= {"restart"} for words in found.values())
    assert found["runbooks/job-05.md"] == {"restart", "job5"}
    # `containing` searches every table: the decision refers to job-07, wherever either was indexed.
    assert built.neighbours("runbooks/job-07.md", ["decisions/0010-zeppelin.md"]) == ["decisions/0010-zeppelin.md"]
    # A folder of few sections is ranked inside SQLite (the second query), across tables too.
    assert built.rank("zeppelin hangar", ["decisions"], 3)[0][0].path == "decisions/0010-zeppelin.md"
    warnings = built.warnings
    del built  # its connection, before the database goes

    index_path(slotted).unlink()
    monkeypatch.setattr(parallel, "workers", lambda: 0)
    again = load_library(slotted)
    assert _rows(slotted) == rows
    assert again.rank("restart queue worker zeppelin", ["runbooks", "decisions"], 20) == ranked
    assert again.warnings == warnings
    assert any("bad.md" in warning for warning in warnings)


def test_an_index_in_memory_is_split_alike(slotted: Path) -> None:
    on_disk = load_library(slotted)
    in_memory = load_library(slotted, use_cache=False)
    assert in_memory._index._fts_tables() == on_disk._index._fts_tables() == ["fts", "fts1"]
    query = "restart queue worker zeppelin"
    assert in_memory.rank(query, ["runbooks", "decisions"], 20) == on_disk.rank(query, ["runbooks", "decisions"], 20)


def _reader_results(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """What each ranking beside (`beside.SecondReader`) gives from now on: None when its rows were not used."""
    results: list[object] = []
    real = beside.Pending.result

    def spy(pending: beside.Pending[object]) -> object:
        value = real(pending)
        results.append(value)
        return value

    monkeypatch.setattr(beside.Pending, "result", spy)
    return results


QUERY, FOLDERS = "restart queue worker zeppelin", ["runbooks", "decisions"]


def test_the_second_table_ranked_beside_ranks_as_one_connection_does(
    slotted: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index_module, "FEW_SECTIONS", 0)  # every folder ranked by `_best`, table by table
    in_memory = load_library(slotted, use_cache=False)  # no second connection to a database in memory
    alone = in_memory.rank(QUERY, FOLDERS, 20)
    results = _reader_results(monkeypatch)
    on_disk = load_library(slotted)
    assert on_disk.rank(QUERY, FOLDERS, 20) == alone and len(alone) == 20
    assert len(results) == 1 and results[0]  # ranked beside, and used


def test_a_reader_that_sees_another_state_or_fails_leaves_its_tables_to_the_first_connection(
    slotted: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another process updating the index between the two connections' reads: the second one's rows
    # are of another state, and are not mixed in.
    monkeypatch.setattr(index_module, "FEW_SECTIONS", 0)
    alone = load_library(slotted, use_cache=False).rank(QUERY, FOLDERS, 20)
    library = load_library(slotted)
    results = _reader_results(monkeypatch)
    real_state = beside.state

    def another_state_beside(db: sqlite3.Connection) -> tuple[object, ...]:
        return real_state(db) if threading.current_thread() is threading.main_thread() else ("another", "state")

    monkeypatch.setattr(beside, "state", another_state_beside)
    assert library.rank(QUERY, FOLDERS, 20) == alone
    monkeypatch.setattr(beside, "state", real_state)

    def cannot_connect(reader: beside.SecondReader) -> sqlite3.Connection:
        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr(beside.SecondReader, "_connection", cannot_connect)
    assert library.rank(QUERY, FOLDERS, 19) == alone[:19]  # another limit: not the query cache's answer
    assert results == [None, None]


def test_every_update_changes_the_state_the_two_connections_compare(
    slotted: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An update between the two connections' reads must show in `beside.state`, or the second one's
    # rows of another state would be mixed in: a file edited, one removed, one read again whose
    # stamps did not change (saved within one tick of a coarse clock), a new schema.
    from tests.test_context_fixtures import save_within_one_tick

    def current() -> tuple[object, ...]:
        with contextlib.closing(sqlite3.connect(index_path(slotted))) as db:
            return beside.state(db)

    load_library(slotted)
    seen = [current()]
    job = slotted / "runbooks" / "job-01.md"
    job.write_text(job.read_text() + "\nAnd drain it first.\n")
    load_library(slotted)
    seen.append(current())
    (slotted / "runbooks" / "job-02.md").unlink()
    load_library(slotted)
    seen.append(current())
    save_within_one_tick(slotted, "runbooks/job-03.md", b"Restart", b"RESTART")
    load_library(slotted)
    assert current() == seen[-1]  # the stamps say nothing changed: no update
    load_library(slotted, reread=["runbooks/job-03.md"])
    seen.append(current())
    index_path(slotted).unlink()
    load_library(slotted)
    seen.append(current())
    assert len(set(seen)) == len(seen), seen


def test_a_forked_call_gives_its_result_whatever_its_size_and_leaves_no_child() -> None:
    needs_fork()
    big = ["x" * 1000] * 200  # 200 KB of JSON: more than a pipe holds
    call = parallel.Call.start(lambda: big)
    assert call is not None and call.result() == big and call.result() == big
    assert call.done()

    def breaks() -> object:
        raise RuntimeError("the look broke")

    failing = parallel.Call.start(breaks)
    assert failing is not None and failing.result() is None
    slow = parallel.Call.start(lambda: time.sleep(30))
    assert slow is not None and not slow.done()
    started = time.monotonic()
    slow.close()  # ended, not waited for
    assert time.monotonic() - started < 5
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # every child reaped


def test_ctrl_c_while_waiting_for_a_forked_call_ends_the_child_at_once() -> None:
    # The child ignores SIGINT (the parent owns the run): it is killed, not waited for, so that a look
    # at files on a slow mount does not hold Ctrl-C up.
    needs_fork()
    slow = parallel.Call.start(lambda: time.sleep(30))
    assert slow is not None

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    started = time.monotonic()
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        with pytest.raises(KeyboardInterrupt):
            slow.result()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - started < 5
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


def test_a_forked_call_works_in_a_host_that_ignores_sigchld_or_holds_many_files() -> None:
    # Both from the adversary: a supervisor ignoring SIGCHLD reaps the child itself (waitpid then finds
    # none), and a server past 1,023 open files gets descriptors `select.select` refuses.
    import resource

    needs_fork()
    previous = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        for _ in range(3):
            call = parallel.Call.start(lambda: {"stamps": "abc"})
            assert call is not None and call.result() == {"stamps": "abc"}
    finally:
        signal.signal(signal.SIGCHLD, previous)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip("cannot open 1,100 files here")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        call = parallel.Call.start(lambda: 7)
        assert call is not None and call.done() in (True, False)  # asked while the pipe is open: no error
        assert call.result() == 7 and call.done()
    finally:
        for descriptor in held:
            os.close(descriptor)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_call_that_cannot_fork_leaves_the_work_to_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    needs_fork()
    before = len(os.listdir("/proc/self/fd")) if Path("/proc/self/fd").exists() else None

    def no_more_processes() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_more_processes)
    assert parallel.Call.start(lambda: 1) is None
    if before is not None:
        assert len(os.listdir("/proc/self/fd")) == before  # the pipe is closed


def test_no_call_is_forked_beside_another_thread() -> None:
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not parallel.can_fork() and parallel.Call.start(lambda: 1) is None and parallel.workers() == 0
    finally:
        stop.set()
        other.join()


def test_a_slot_whose_worker_fails_is_indexed_by_the_caller(slotted: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parse = files_module.parse_file

    def breaks_in_a_worker(root: Path, stubs: object, entry: FileEntry) -> object:
        if os.getpid() != PARENT:
            raise RuntimeError("worker broke")
        return parse(root, stubs, entry)  # type: ignore[arg-type]

    monkeypatch.setattr(files_module, "parse_file", breaks_in_a_worker)
    library = load_library(slotted)
    _indexed_whole(slotted, library)
    assert _scratch_folders(slotted) == []


def test_a_slot_whose_worker_hangs_is_indexed_by_the_caller(
    slotted: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A worker stuck for whatever reason must not hang scaffold: past the deadline it is killed and
    # this process does its slot.
    parse = files_module.parse_file
    woke = tmp_path / "worker-woke"
    slept: list[bool] = []  # the worker's own copy, once forked

    def hangs_in_a_worker(root: Path, stubs: object, entry: FileEntry) -> object:
        if os.getpid() != PARENT and not slept:
            slept.append(True)
            time.sleep(30)
            woke.write_text("the worker went on", encoding="utf-8")
        return parse(root, stubs, entry)  # type: ignore[arg-type]

    monkeypatch.setattr(files_module, "parse_file", hangs_in_a_worker)
    monkeypatch.setattr(index_module, "WORKER_MIN_WAIT_SECONDS", 0.5)
    started = time.monotonic()
    library = load_library(slotted)
    assert time.monotonic() - started < 25  # well before the worker would have woken
    _indexed_whole(slotted, library)
    assert _running_workers() == [] and _scratch_folders(slotted) == []
    assert not woke.exists()


def test_a_worker_ended_after_its_slot_was_written_is_not_copied_in(
    slotted: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Killed after its database says the slot is all there: a scratch database has no journal, so a
    # kill during its commit can leave the mark with pages half written. Only an exit of 0 counts.
    transaction = SectionIndex.transaction
    woke = tmp_path / "worker-woke"

    @contextlib.contextmanager
    def then_stuck(self: SectionIndex) -> Iterator[None]:
        with transaction(self):
            yield
        if os.getpid() != PARENT:
            time.sleep(30)
            woke.write_text("the worker went on", encoding="utf-8")

    taken: list[Path] = []
    take = SectionIndex._take_slot

    def spy(self: SectionIndex, path: Path, table: str, after: contextlib.ExitStack) -> bool:
        taken.append(path)
        return take(self, path, table, after)

    monkeypatch.setattr(SectionIndex, "transaction", then_stuck)
    monkeypatch.setattr(SectionIndex, "_take_slot", spy)
    monkeypatch.setattr(index_module, "WORKER_MIN_WAIT_SECONDS", 0.5)
    library = load_library(slotted)
    assert taken == [] and not woke.exists()
    _indexed_whole(slotted, library)
    assert _running_workers() == [] and _scratch_folders(slotted) == []


def test_a_slot_that_cannot_be_copied_is_indexed_by_the_caller(slotted: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # As in SQLite's defensive mode, where a full-text table's own tables cannot be written.
    monkeypatch.setattr(index_module, "_FTS_SHADOWS", ("data", "idx", "docsize", "config", "missing"))
    library = load_library(slotted)
    files, sections, counts = _rows(slotted)
    assert len(files) == MARKDOWN_FILES and len({(row[1], row[3]) for row in sections}) == len(sections)
    assert all(counts.values()) and sum(counts.values()) == len(sections)
    _jobs_found(library)


def test_a_cache_folder_that_takes_no_scratch_builds_in_one_process(
    slotted: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*args: object, **kwargs: object) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("tempfile.mkdtemp", full)
    library = load_library(slotted)
    files, sections, counts = _rows(slotted)
    assert sorted(counts) == ["fts", "fts1"] and sum(counts.values()) == len(sections)
    _jobs_found(library)


def test_an_interrupted_build_leaves_no_workers_no_scratch_and_the_index_as_it_was(
    slotted: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_library(slotted)
    before = _rows(slotted)
    _edited_in_place(slotted)
    parse = files_module.parse_file
    seen = []

    def interrupted(root: Path, stubs: object, entry: FileEntry) -> object:
        if os.getpid() == PARENT:
            seen.append(entry)
            if len(seen) == 5:
                raise KeyboardInterrupt
        return parse(root, stubs, entry)  # type: ignore[arg-type]

    monkeypatch.setattr(files_module, "parse_file", interrupted)
    with pytest.raises(KeyboardInterrupt):
        load_library(slotted)
    assert _running_workers() == []
    assert _scratch_folders(slotted) == []
    assert _rows(slotted) == before


def test_scratch_left_by_a_killed_build_goes_with_the_next_update(slotted: Path) -> None:
    load_library(slotted)
    path = index_path(slotted)
    left = path.parent / f".{path.name}.build-x1y2"
    left.mkdir()
    (left / "1.sqlite3").write_bytes(b"half a database")
    other = path.parent / ".0123456789abcdef.sqlite3.build-z9"  # another home's build, maybe running
    other.mkdir()
    edited = slotted / "runbooks" / "job-03.md"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nDrain it first.\n", encoding="utf-8")
    touch_later(edited)
    load_library(slotted)  # an update of one file, not a build
    assert not left.exists()
    assert other.exists()


def test_changes_after_a_build_in_slots_are_indexed_in_place(slotted: Path) -> None:
    load_library(slotted)
    _, sections, _ = _rows(slotted)
    top = max(int(str(row[0])) for row in sections)
    changed = slotted / "runbooks" / "job-11.md"
    changed.write_text("# Job 11\n\n## Steps\n\nDrain the airship hangar first.\n", encoding="utf-8")
    touch_later(changed)
    (slotted / "runbooks" / "job-12.md").unlink()
    (slotted / "runbooks" / "new.md").write_text("# New\n\nThe airship checklist.\n", encoding="utf-8")
    library = load_library(slotted)
    assert sorted(s.path for s, _ in library.rank("airship", ["runbooks"], 5)) == [
        "runbooks/job-11.md",
        "runbooks/new.md",
    ]
    assert library.rank("job11", ["runbooks"], 5) == []
    assert library.rank("job12", ["runbooks"], 5) == []
    _, after, _ = _rows(slotted)
    new_ids = [int(str(row[0])) for row in after if row[1] in ("runbooks/job-11.md", "runbooks/new.md")]
    assert min(new_ids) > top, "an id of the build was given again"
    gone = sum(1 for row in sections if row[1] == "runbooks/job-12.md")
    assert "runbooks/job-12.md" not in {row[1] for row in after}
    assert len(after) == len(sections) - gone + 1  # job-11 kept its two sections; new.md has one


def test_when_most_of_the_home_changed_it_is_built_again_in_slots(
    slotted: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_library(slotted)
    files, sections, _ = _rows(slotted)
    _edited_in_place(slotted)
    compared: list[str] = []
    real_digest = files_module.document_digest

    def spy(root: Path, path: str, seen: FileEntry | None = None) -> str | None:
        compared.append(path)
        return real_digest(root, path, seen)

    monkeypatch.setattr(files_module, "document_digest", spy)
    library = load_library(slotted)
    # Each file of the same size is compared with what the index holds until half the home has
    # changed: then it is built again whole, and the rest are not read twice.
    assert len(compared) == (len(files) + 1) // 2
    again_files, again_sections, counts = _rows(slotted)
    assert [row[0] for row in again_files] == [row[0] for row in files]
    assert [row[1:] for row in again_sections] == [row[1:] for row in sections]
    assert min(int(str(row[0])) for row in again_sections) > max(int(str(row[0])) for row in sections), (
        "not built again"
    )
    assert all(counts.values()) and sum(counts.values()) == len(sections), "the first build's rows stayed"
    _jobs_found(library)


def test_a_checkout_beside_an_index_of_fewer_tables_than_a_build_makes_builds_it_again(
    slotted: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A home that grew past the size to split a few files at a time stays in one table. Every stamp
    # changed and no byte (a fresh checkout beside a cache restored in CI) makes it the index a fresh
    # machine builds; on an index as a build left it, the same checkout only changes stamps.
    monkeypatch.setattr(index_module, "FILES_PER_SLOT", 1000)
    load_library(slotted)
    assert _rows(slotted)[2].keys() == {"fts"}
    monkeypatch.setattr(index_module, "FILES_PER_SLOT", 1)
    for _ in range(2):
        for path in slotted.rglob("*.md"):
            touch_later(path)
        library = load_library(slotted)
        assert _rows(slotted)[2].keys() == {"fts", "fts1"}
        _jobs_found(library)


def test_a_reader_open_while_another_process_builds_in_slots_sees_every_table(
    slotted: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Built in one table first (a home just under the size to split), then rebuilt in two by another
    # process while this one holds its index open: this one must search both, and not cache a ranking
    # read while the other wrote.
    monkeypatch.setattr(index_module, "FILES_PER_SLOT", 1000)
    reader = load_library(slotted)
    assert reader._index._fts_tables() == ["fts"]
    code = (
        "from pathlib import Path\n"
        "from generator.context import documents, index, parallel\n"
        "index.FILES_PER_SLOT = 1\n"
        "parallel.workers = lambda: 1\n"
        f"documents.load_library(Path({str(slotted)!r}))\n"
    )
    _edited_in_place(slotted)
    subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=True, timeout=120)
    assert _rows(slotted)[2].keys() == {"fts", "fts1"}
    _jobs_found(reader)


@pytest.mark.parametrize("step", ["_rank", "_remember"])
def test_a_ranking_read_while_another_process_wrote_is_not_kept(
    slotted: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    # Written while the ranking was read (`_rank`), or once it was read and before it was kept
    # (`_remember`): asked outside the write transaction, the check missed the second, and the ranking of
    # the index before that update was served until some file changed.
    library = load_library(slotted)
    original = getattr(SectionIndex, step)

    def written_first(index: SectionIndex, *args: Any) -> Any:
        with sqlite3.connect(index_path(slotted)) as other:
            other.execute("INSERT OR REPLACE INTO meta VALUES ('elsewhere', 'x')")
        return original(index, *args)

    def kept() -> int:
        with sqlite3.connect(index_path(slotted)) as db:
            return int(db.execute("SELECT count(*) FROM queries").fetchone()[0])

    monkeypatch.setattr(SectionIndex, step, written_first)
    assert library.rank("job3 queue", ["runbooks"], 1)[0][0].path == "runbooks/job-03.md"
    assert kept() == 0
    monkeypatch.setattr(SectionIndex, step, original)
    library.rank("job4 queue", ["runbooks"], 1)
    assert kept() == 1


def _reference(slotted: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Rows, list[tuple[Section, float]]]:
    """The index and a ranking as this process alone builds them (then the index is removed)."""
    with monkeypatch.context() as alone:
        alone.setattr(parallel, "workers", lambda: 0)
        library = load_library(slotted)
        ranking = library.rank("restart queue worker zeppelin", ["runbooks", "decisions"], 20)
        rows = _rows(slotted)
    del library
    index_path(slotted).unlink()
    return rows, ranking


def test_a_worker_database_that_fails_to_attach_leaves_the_counts_whole(
    slotted: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A failed ATTACH resets the connection's schema: FTS5 lost the counts of the rows this process had
    # inserted, and the update stored wrong ones (BM25 then ranked by them, or returned NULL).
    rows, ranking = _reference(slotted, monkeypatch)
    ready = index_module._slot_ready

    def gone_after_the_check(path: Path) -> bool:
        assert ready(path)
        shutil.rmtree(path.parent)
        return True

    monkeypatch.setattr(index_module, "_slot_ready", gone_after_the_check)
    library = load_library(slotted)
    assert _rows(slotted) == rows
    assert library.rank("restart queue worker zeppelin", ["runbooks", "decisions"], 20) == ranking


def test_a_damaged_worker_database_is_not_attached(slotted: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows, ranking = _reference(slotted, monkeypatch)
    wait = parallel.Forked.wait

    def then_damaged(workers: parallel.Forked, timeout: float | None = None) -> set[int]:
        failed = wait(workers, timeout)
        for scratch in _scratch_folders(slotted):
            for database in scratch.glob("*.sqlite3"):
                database.write_bytes(database.read_bytes()[: database.stat().st_size // 2])
        return failed

    monkeypatch.setattr(parallel.Forked, "wait", then_damaged)
    library = load_library(slotted)
    assert _rows(slotted) == rows
    assert library.rank("restart queue worker zeppelin", ["runbooks", "decisions"], 20) == ranking


def test_a_failed_attach_does_not_cost_full_text_counts_written_before_it(tmp_path: Path) -> None:
    # The mechanism `_take_slot` guards: rows inserted into a table before an ATTACH that fails, and
    # more after it. Without the savepoint first, FTS5 counted only those after (25 of 63 rows).
    extra: dict[str, str | bytes] = {
        f"context/runbooks/job-{number:02d}.md": f"# Job {number}\n\nRestart the job{number} queue.\n"
        for number in range(40)
    }
    make_home(tmp_path, extra)
    root = tmp_path / "context"
    entries, _ = scan_files(root)
    stubs = StubPatterns.load(root)
    index = SectionIndex.open(tmp_path / "index.sqlite3")
    index._create_fts("fts1")
    gone = tmp_path / "gone" / "1.sqlite3"
    with contextlib.ExitStack() as after, index.transaction():
        index._add(root, stubs, entries[:30], 1, 1, "fts")
        with pytest.MonkeyPatch.context() as ready:
            ready.setattr(index_module, "_slot_ready", lambda path: True)
            assert not index._take_slot(gone, "fts1", after)
        index._add(root, stubs, entries[30:], 1000, 1, "fts")
    with sqlite3.connect(tmp_path / "index.sqlite3") as db:
        block = db.execute("SELECT block FROM fts_data WHERE id = 1").fetchone()[0]
        rows = db.execute("SELECT count(*) FROM fts_docsize").fetchone()[0]
    total = 0
    for byte in block:
        total = total << 7 | byte & 0x7F
        if byte < 0x80:
            break
    assert total == rows


# Run in a fresh interpreter: turning SQLite's memory statistics off is for the whole process, and
# this one holds connections. `sqlite3_memory_used` counts only while they are on.
_MEMORY_PROBE = """
import ctypes, sqlite3, sys, threading
import _sqlite3
from generator.context import beside
if sys.argv[1] == "thread":
    stop = threading.Event()
    threading.Thread(target=stop.wait).start()
if sys.argv[1] == "connection":
    held = sqlite3.connect(":memory:")
done = beside.allow_parallel_reads()
if sys.argv[1] == "thread":
    stop.set()
db = sqlite3.connect(":memory:")
db.execute("CREATE VIRTUAL TABLE t USING fts5(body)")
db.executemany("INSERT INTO t VALUES (?)", [("words to rank " * 50,)] * 200)
rows = db.execute("SELECT bm25(t) FROM t WHERE t MATCH 'rank' LIMIT 3").fetchall()
try:
    library = ctypes.CDLL(_sqlite3.__file__)
    library.sqlite3_memory_used.restype = ctypes.c_int64
    used = library.sqlite3_memory_used()
except (OSError, AttributeError):
    used = "unreachable"
print(done, len(rows), used)
"""


def _probe(mode: str) -> list[str]:
    found = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, mode], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    )
    done, rows, used = found.stdout.split()
    if used == "unreachable" and not sys.platform.startswith("linux"):
        pytest.skip("SQLite's library cannot be reached through ctypes here (only speed is lost)")
    return [done, rows, used]


def test_sqlite_stops_counting_its_memory_so_that_two_connections_rank_side_by_side() -> None:
    done, rows, used = _probe("alone")
    assert (done, rows) == ("True", "3") and used == "0"  # off, and SQLite works as before


@pytest.mark.parametrize("mode", ["thread", "connection"])
def test_sqlite_keeps_counting_when_another_thread_runs_or_a_connection_is_open(mode: str) -> None:
    # Either may be using SQLite: shutting it down under them would be unsafe.
    done, rows, used = _probe(mode)
    assert (done, rows) == ("False", "3") and int(used) > 0


def test_the_commands_that_rank_ask_for_it() -> None:
    from generator.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["context", "a task"]).parallel_reads
    assert parser.parse_args(["mcp"]).parallel_reads
    assert not getattr(parser.parse_args(["list"]), "parallel_reads", False)


def test_the_commands_that_rank_turn_the_counting_off_when_run_as_the_program(tmp_path: Path) -> None:
    # Only as the program: a caller passing argv to `main` (a test) may hold connections of its own.
    script = (
        "import sys\n"
        "from generator.context import beside\n"
        "calls = []\n"
        "beside.allow_parallel_reads = lambda: calls.append(True)\n"
        "from generator.cli import main\n"
        "code = main()\n"
        "main(['context', 'add an endpoint'])\n"
        "print(code, len(calls))\n"
    )
    env = {
        **os.environ,
        "SCAFFOLD_HOME": str(make_home(tmp_path / "home")),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "HOME": str(tmp_path),
    }
    said = []
    for argv in (["context", "add an endpoint"], ["list"]):
        found = subprocess.run(
            [sys.executable, "-c", script, *argv], capture_output=True, text=True, check=True, cwd=REPO_ROOT, env=env
        )
        said.append(found.stdout.splitlines()[-1])
        env.pop("SCAFFOLD_HOME", None)  # `list` shows the bundled templates: this home has none
    assert said == ["0 1", "0 0"]  # `list` ranks nothing

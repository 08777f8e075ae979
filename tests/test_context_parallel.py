"""Building the index in slots, one process each: the same index as one process builds, safely."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from generator.context import documents, parallel
from generator.context.documents import index_path, load_library
from tests.helpers import REPO_ROOT
from tests.test_context_fixtures import make_home

PARENT = os.getpid()
# The documents of `make_home` and the 54 jobs the `slotted` home adds.
MARKDOWN_FILES = 65


def needs_fork() -> None:
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("needs fork")


def _gone(pid: int) -> bool:
    """Whether process `pid` has ended (a zombie nobody reaped counts as ended)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    except OSError:
        return True
    return "\nState:\tZ" in status


def _wait_until(condition: object, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
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
    before = threading.active_count()
    workers = parallel.Forked(lambda slot: time.sleep(60), [1, 2])
    started = time.monotonic()
    workers.close()
    assert time.monotonic() - started < 10
    assert [child for child in multiprocessing.active_children() if child.is_alive()] == []
    assert threading.active_count() == before


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


def test_small_work_and_threads_stay_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
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
    """A home of 60 documents that builds in three slots (two workers), even on a one-core machine."""
    needs_fork()
    monkeypatch.setattr(documents, "FILES_PER_SLOT", 1)
    monkeypatch.setattr(parallel, "workers", lambda: 2)
    extra: dict[str, str | bytes] = {
        f"context/runbooks/job-{number:02d}.md": f"# Job {number}\n\n## Steps\n\nRestart the job{number} queue worker.\n"
        for number in range(54)
    }
    make_home(tmp_path, extra)
    return tmp_path / "context"


def _rows(context: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]], dict[str, int]]:
    """The files rows, the sections rows less their ids, and how many full-text rows each table holds."""
    with sqlite3.connect(index_path(context)) as db:
        files = db.execute("SELECT * FROM files ORDER BY path").fetchall()
        sections = db.execute("SELECT * FROM sections ORDER BY path, ordinal").fetchall()
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL%'")]
        counts = {table: db.execute(f"SELECT count(*) FROM {table}_docsize").fetchone()[0] for table in tables}
        for table in tables:
            db.execute(f"INSERT INTO {table}({table}) VALUES ('integrity-check')")
    return files, [row[1:] for row in sections], counts


def _scratch_folders(context: Path) -> list[Path]:
    return list(index_path(context).parent.glob(".*.build-*"))


def test_an_index_built_in_slots_holds_what_one_process_builds(slotted: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (slotted / "runbooks" / "bad.md").write_bytes(b"# Bad\n\xff\xfe\n")
    built = load_library(slotted)
    files, sections, counts = _rows(slotted)
    assert sorted(counts) == ["fts", "fts1", "fts2"]
    assert all(counts.values()), "a slot indexed nothing"
    assert sum(counts.values()) == len(sections)
    assert _scratch_folders(slotted) == []

    # Every slot's table is searched: each job is found, whichever process indexed it.
    for number in range(0, 54, 7):
        [(section, _)] = built.rank(f"job{number} queue", ["runbooks"], 1)
        assert section.path == f"runbooks/job-{number:02d}.md"
    found = built.words_in([f"runbooks/job-{number:02d}.md" for number in range(54)], ["restart", "job5"])
    assert all(words >= {"restart"} for words in found.values())
    assert found["runbooks/job-05.md"] == {"restart", "job5"}
    warnings = built.warnings
    del built  # its connection, before the database goes

    index_path(slotted).unlink()
    monkeypatch.setattr(parallel, "workers", lambda: 0)
    again = load_library(slotted)
    assert _rows(slotted)[:2] == (files, sections)
    assert again.warnings == warnings
    assert any("bad.md" in warning for warning in warnings)


def test_a_slot_whose_worker_fails_is_indexed_by_the_caller(slotted: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parse = documents._parse_file

    def breaks_in_a_worker(root: Path, stubs: object, entry: documents.FileEntry) -> object:
        if os.getpid() != PARENT:
            raise RuntimeError("worker broke")
        return parse(root, stubs, entry)  # type: ignore[arg-type]

    monkeypatch.setattr(documents, "_parse_file", breaks_in_a_worker)
    library = load_library(slotted)
    files, sections, counts = _rows(slotted)
    assert counts["fts"] == len(sections) and len(files) == MARKDOWN_FILES
    assert library.rank("job33 queue", ["runbooks"], 1)[0][0].path == "runbooks/job-33.md"
    assert _scratch_folders(slotted) == []


def test_a_slot_that_cannot_be_copied_is_indexed_by_the_caller(slotted: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # As in SQLite's defensive mode, where a full-text table's own tables cannot be written.
    monkeypatch.setattr(documents, "_FTS_SHADOWS", ("data", "idx", "docsize", "config", "missing"))
    library = load_library(slotted)
    files, sections, counts = _rows(slotted)
    assert len(files) == MARKDOWN_FILES and len({(row[0], row[2]) for row in sections}) == len(sections)
    assert counts["fts"] == len(sections)
    assert library.rank("job40 queue", ["runbooks"], 1)[0][0].path == "runbooks/job-40.md"


def test_an_interrupted_build_leaves_no_workers_no_scratch_and_the_index_as_it_was(
    slotted: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_library(slotted)
    before = _rows(slotted)
    for path in slotted.rglob("*.md"):
        path.touch()
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    parse = documents._parse_file
    seen = []

    def interrupted(root: Path, stubs: object, entry: documents.FileEntry) -> object:
        if os.getpid() == PARENT:
            seen.append(entry)
            if len(seen) == 5:
                raise KeyboardInterrupt
        return parse(root, stubs, entry)  # type: ignore[arg-type]

    monkeypatch.setattr(documents, "_parse_file", interrupted)
    with pytest.raises(KeyboardInterrupt):
        load_library(slotted)
    assert [child for child in multiprocessing.active_children() if child.is_alive()] == []
    assert _scratch_folders(slotted) == []
    assert _rows(slotted) == before


def test_scratch_left_by_a_killed_build_goes_with_the_next_build(slotted: Path) -> None:
    path = index_path(slotted)
    path.parent.mkdir(parents=True)
    left = path.parent / f".{path.name}.build-x1y2"
    left.mkdir()
    (left / "1.sqlite3").write_bytes(b"half a database")
    other = path.parent / ".0123456789abcdef.sqlite3.build-z9"  # another home's build, maybe running
    other.mkdir()
    load_library(slotted)
    assert not left.exists()
    assert other.exists()


def test_changes_after_a_build_in_slots_are_indexed_in_place(slotted: Path) -> None:
    load_library(slotted)
    _, sections, _ = _rows(slotted)
    with sqlite3.connect(index_path(slotted)) as db:
        top = db.execute("SELECT max(id) FROM sections").fetchone()[0]
    changed = slotted / "runbooks" / "job-11.md"  # indexed by a worker: every third file is the caller's
    changed.write_text("# Job 11\n\n## Steps\n\nDrain the zeppelin hangar first.\n", encoding="utf-8")
    os.utime(changed, ns=(changed.stat().st_atime_ns, changed.stat().st_mtime_ns + 10**9))
    (slotted / "runbooks" / "job-12.md").unlink()
    (slotted / "runbooks" / "new.md").write_text("# New\n\nThe zeppelin checklist.\n", encoding="utf-8")
    library = load_library(slotted)
    assert sorted(s.path for s, _ in library.rank("zeppelin", ["runbooks"], 5)) == [
        "runbooks/job-11.md",
        "runbooks/new.md",
    ]
    assert library.rank("job11", ["runbooks"], 5) == []
    assert library.rank("job12", ["runbooks"], 5) == []
    with sqlite3.connect(index_path(slotted)) as db:
        query = "SELECT id FROM sections WHERE path IN ('runbooks/job-11.md', 'runbooks/new.md')"
        new_ids = [row[0] for row in db.execute(query)]
    assert min(new_ids) > top, "an id of the build was given again"
    paths = [row[0] for row in _rows(slotted)[1]]
    gone = sum(1 for row in sections if row[0] == "runbooks/job-12.md")
    assert "runbooks/job-12.md" not in paths
    assert len(paths) == len(sections) - gone + 1  # job-11 kept its two sections; new.md has one


def test_when_most_of_the_home_changed_it_is_built_again_in_slots(slotted: Path) -> None:
    load_library(slotted)
    files, sections, _ = _rows(slotted)
    for path in slotted.rglob("*.md"):
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    library = load_library(slotted)
    again_files, again_sections, counts = _rows(slotted)
    assert [row[0] for row in again_files] == [row[0] for row in files]
    assert again_sections == sections
    assert sum(counts.values()) == len(sections), "the rows of the first build were not dropped"
    assert library.rank("job7 queue", ["runbooks"], 1)[0][0].path == "runbooks/job-07.md"


def test_a_cache_folder_that_takes_no_scratch_builds_in_one_process(
    slotted: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*args: object, **kwargs: object) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("tempfile.mkdtemp", full)
    library = load_library(slotted)
    files, sections, counts = _rows(slotted)
    assert counts == {"fts": len(sections)} and len(files) == MARKDOWN_FILES
    assert library.rank("job40 queue", ["runbooks"], 1)[0][0].path == "runbooks/job-40.md"

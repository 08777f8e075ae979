"""The fill step under faults: every run ends with a valid project, a clear report and the documented exit code.

Faults come from the fake Messages API (`tests/fakeapi.py`) driven through the real SDK: HTTP errors, resets,
timeouts, truncated, malformed or refused answers, streams cut off or broken by an `error` event; each is given on
every request (the ladder runs out: exit 3, the render untouched) and only on the first (the repair call fills:
exit 0). Then interrupts and disk trouble while the fills are written (`generator/fill/apply.py`: temporary files
first, then renames): in process, through the transaction's fault hook, and with real signals sent to a `scaffold fill`
subprocess mid-stream.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from generator.cli import main
from generator.errors import ExitCode, ExternalToolError
from generator.fill.apply import Swap
from generator.fill.record import RECORD_FILE
from generator.fill.regions import find_regions
from generator.plumbing.transaction import fault_hook
from tests.fakeapi import FakeAnthropic, Reply
from tests.fillfakes import KEY, TAG, answer, commits, outside_regions, region_keys, valid_reply, worktree
from tests.helpers import GIT_IDENTITY, SERVICE_REGIONS, default_sigint, run, terminate_self

SONNET = "claude-sonnet-5-5"
TMP_MARK = ".scaffold-tmp"
BACKUP_MARK = ".scaffold-bak"
NO_SPACE = "No space left on device"
REGION_FILES = [
    "AGENTS.md",
    "pyproject.toml",
    "src/payments/domain.py",
    "src/payments/resources.py",
    "src/payments/routes.py",
    "src/payments/settings.py",
    "tests/test_domain.py",
    "tests/test_routes.py",
]
# The start of an answer for the first region, cut off inside its body.
CUT_JSON = '{"src/payments/domain.py#domain": "from dataclasses import dataclass\\n\\n\\n@datac'


# --- what every run must leave behind ---------------------------------------------------------------------------


def temp_files(root: Path) -> list[Path]:
    """Temporary files and backups the writer makes; none may outlive a run."""
    return [path for path in root.rglob("*") if TMP_MARK in path.name or BACKUP_MARK in path.name]


def git_status(project: Path) -> str:
    return run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=project).stdout


def assert_valid(project: Path) -> None:
    """Every region file parses into its regions, every Python file compiles, git sees no change, no temp file."""
    assert sorted({region.path for region in find_regions(project)}) == REGION_FILES
    assert len(find_regions(project)) == SERVICE_REGIONS
    for path in project.rglob("*.py"):
        if ".git" not in path.relative_to(project).parts:
            compile(path.read_bytes(), str(path), "exec")  # compile(), not py_compile: no __pycache__ written
    assert git_status(project) == ""
    assert temp_files(project.parent) == []


def assert_untouched(project: Path, render: dict[str, bytes], render_log: list[str]) -> None:
    """The project is the render, file for file and commit for commit: no record, no temp file, nothing staged."""
    assert worktree(project) == render
    assert not (project / RECORD_FILE).exists()
    assert commits(project) == render_log
    assert git_status(project) == ""
    assert temp_files(project.parent) == []


def assert_clean_stderr(err: str) -> None:
    assert "Traceback" not in err and "internal error" not in err, err


def scaffold_lines(err: str) -> list[str]:
    """The CLI's own messages on stderr (the rest are the `fill: ...` progress lines)."""
    return [line for line in err.splitlines() if not line.startswith("fill: ")]


# --- 1. fault injection on the fake API --------------------------------------------------------------------------

# fault -> (the reply, what the report says about it when streaming, and when not)
FAULTS: dict[str, tuple[Callable[[], Reply], str, str]] = {
    "429": (lambda: Reply.error(429), "the API answered 429: rate_limit_error", "the API answered 429"),
    "529": (lambda: Reply.error(529), "the API answered 529: overloaded_error", "the API answered 529"),
    "500": (lambda: Reply.error(500), "the API answered 500: api_error", "the API answered 500"),
    "reset": (
        Reply.reset,
        "the connection to the API failed: [Errno 104] Connection reset",
        "the connection to the API failed",
    ),
    "timeout": (lambda: Reply.hang(5), "no answer within 0.3 s ($SCAFFOLD_AI_TIMEOUT)", "no answer within 0.3 s"),
    "truncated": (
        lambda: Reply.message(CUT_JSON, stop_reason="max_tokens"),
        "the answer was cut off at the output limit (max_tokens)",
        "cut off at the output limit",
    ),
    "malformed-json": (
        lambda: Reply.message('{"src/payments/domain.py#domain": "x = 1\\n",}'),
        "the answer is not valid JSON",
        "the answer is not valid JSON",
    ),
    "not-an-object": (lambda: Reply.message('["x = 1"]'), "the answer is not a JSON object", "not a JSON object"),
    "empty-object": (lambda: Reply.message("{}"), "the answer left this region out", "left this region out"),
    "refusal": (
        lambda: Reply.message("", stop_reason="refusal"),
        "the model declined to answer (refusal)",
        "declined to answer",
    ),
    # Non-streaming, the fake cuts the JSON body short of its Content-Length.
    "stream-cut": (
        lambda: Reply.malformed_stream(CUT_JSON),
        "the connection broke off mid-answer: RemoteProtocolError",
        "peer closed connection without sending complete message body",
    ),
    # Non-streaming, the fake answers the matching HTTP error (529).
    "stream-error": (
        lambda: Reply.stream_error(CUT_JSON[:30]),
        "the answer broke off: overloaded_error: Overloaded",
        "the API answered 529: overloaded_error: Overloaded",
    ),
}
# Faults also tried without streaming (a different path through the SDK), and answers the JSON schema should rule out,
# tried only on every request (the repair path after an unusable answer is the same as for malformed JSON).
BOTH_WAYS = ("reset", "timeout", "stream-cut", "stream-error")
SCHEMA_BREAKING = ("not-an-object", "empty-object")
CASES = [
    pytest.param(fault, stream, always, id=f"{fault}-{'stream' if stream == '1' else 'nostream'}-{mode}")
    for fault in FAULTS
    for stream in ("1", "0")
    for always, mode in ((True, "always"), (False, "first-only"))
    if (stream == "1" or fault in BOTH_WAYS) and (always or fault not in SCHEMA_BREAKING)
]


@pytest.mark.parametrize(("fault", "stream", "always"), CASES)
def test_fault_ends_in_a_valid_project(
    project: Path,
    fake: FakeAnthropic,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fault: str,
    stream: str,
    always: bool,
) -> None:
    make, streamed_reason, plain_reason = FAULTS[fault]
    reason = streamed_reason if stream == "1" else plain_reason
    monkeypatch.setenv("SCAFFOLD_AI_STREAM", stream)
    if fault == "timeout":
        monkeypatch.setenv("SCAFFOLD_AI_TIMEOUT", "0.3")
    if always:
        fake.responder = lambda request: make()
    else:
        fake.queue(make())
        fake.responder = valid_reply(project)
    keys = region_keys(project)
    render, render_outside, render_log = worktree(project), outside_regions(project), commits(project)

    code = main(["fill", str(project)])

    out, err = capsys.readouterr()
    assert_clean_stderr(err)
    assert_valid(project)
    assert all(request.streaming is (stream == "1") for request in fake.requests)
    report = [line for line in out.splitlines() if line.startswith(("  filled ", "  fallback "))]
    if always:
        assert code == ExitCode.FILLS_FELL_BACK, out + err
        # SCAFFOLD_AI_RETRIES=0: one request per rung of the ladder (first, repair, escalation).
        assert len(fake.requests) == 3
        assert worktree(project) == render
        assert commits(project) == render_log
        assert [line.split()[1] for line in report] == keys
        assert all(line.startswith("  fallback  ") and reason in line for line in report), (reason, report)
        assert f"0 of {SERVICE_REGIONS} regions filled" in out and "exit code 3" in out
    else:
        assert code == ExitCode.OK, out + err
        assert len(fake.requests) == 2
        # The repair call tells the model what went wrong with the first.
        assert reason in fake.requests[1].body["messages"][0]["content"]
        assert report == [f"  filled    {key}  ({SONNET})" for key in keys]
        assert outside_regions(project) == render_outside
        assert all(TAG in region.body for region in find_regions(project))
        assert (project / RECORD_FILE).is_file()
        assert commits(project)[1:] == render_log and commits(project)[0].startswith(
            f"Fill {SERVICE_REGIONS} template regions"
        )


@pytest.mark.parametrize(
    ("fault", "ladder_calls"),
    [("reset", 1), ("stream-cut", 2), ("stream-error", 2)],
)
def test_sdk_retries_absorb_transport_faults_but_not_broken_streams(
    project: Path,
    fake: FakeAnthropic,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fault: str,
    ladder_calls: int,
) -> None:
    """With one SDK retry, a fault before the answer starts is retried by the SDK; one mid-stream goes to repair."""
    monkeypatch.setenv("SCAFFOLD_AI_RETRIES", "1")
    fake.queue(FAULTS[fault][0]())
    fake.responder = valid_reply(project)

    assert main(["fill", str(project)]) == ExitCode.OK

    out = capsys.readouterr().out
    assert len(fake.requests) == 2
    assert f"{SONNET}: {ladder_calls} call{'s' * (ladder_calls > 1)}," in out
    # A retry by the SDK sends the same request again; a repair call is a different message.
    same = fake.requests[0].body == fake.requests[1].body
    assert same is (ladder_calls == 1)
    assert_valid(project)


# --- 2. an interrupt while the fills are written, in process ------------------------------------------------------


def counting_temps(monkeypatch: pytest.MonkeyPatch, fail: Callable[[int], BaseException | None]) -> list[Path]:
    """Make the writer's n-th temporary file raise fail(n) (when not None) instead of being written.

    Through the transaction's public fault hook (checkpoint `fill.temp`), active until the test ends.
    """
    calls: list[Path] = []

    def hook(point: str, details: Mapping[str, Any]) -> None:
        if point == "fill.temp":
            calls.append(details["target"])
            error = fail(len(calls))
            if error is not None:
                raise error

    enter_hook(hook)
    return calls


_hooks = contextlib.ExitStack()


@pytest.fixture(autouse=True)
def _remove_fault_hooks() -> Iterator[None]:
    yield
    _hooks.close()


def enter_hook(hook: Callable[[str, Mapping[str, Any]], None]) -> None:
    """Install a fault hook for the rest of the test."""
    _hooks.enter_context(fault_hook(hook))


def interrupt_at_rename(monkeypatch: pytest.MonkeyPatch, number: int) -> list[Path]:
    """Ctrl-C as the writer renames its `number`-th temporary file over its target, whose new text is complete.

    Returns the targets of the renames tried so far.
    """
    renames: list[Path] = []

    def hook(point: str, details: Mapping[str, Any]) -> None:
        if point == "fill.rename":
            renames.append(details["target"])
            if len(renames) == number:
                assert details["temp"].read_bytes() != details["target"].read_bytes(), (
                    "the temp file holds the new text"
                )
                raise KeyboardInterrupt

    enter_hook(hook)
    return renames


@pytest.mark.parametrize("failing", [1, 2, 6], ids=["first-file", "second-file", "record-file"])
def test_interrupt_while_writing_temporary_files_changes_nothing(
    project: Path,
    fake: FakeAnthropic,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    failing: int,
) -> None:
    fake.responder = valid_reply(project)
    calls = counting_temps(monkeypatch, lambda n: KeyboardInterrupt() if n == failing else None)
    render, render_log = worktree(project), commits(project)

    # --no-verify: running the checks with the fills in place writes temporary files of its own.
    assert main(["fill", str(project), "--no-verify"]) == ExitCode.INTERRUPTED

    err = capsys.readouterr().err
    assert "interrupted" in err and "Traceback" not in err
    # The region files, then the record: no target is touched before every temporary file exists.
    order = [project / path for path in REGION_FILES] + [project / RECORD_FILE]
    assert calls == order[:failing]
    assert_untouched(project, render, render_log)


def test_interrupt_inside_an_atomic_write_leaves_no_temp_file(
    project: Path, fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The interrupt lands after the second file's temp copy is complete, just before its rename."""
    fake.responder = valid_reply(project)
    renames = interrupt_at_rename(monkeypatch, 2)
    render = worktree(project)

    assert main(["fill", str(project)]) == ExitCode.INTERRUPTED

    assert "interrupted" in capsys.readouterr().err
    assert renames[:2] == [project / REGION_FILES[0], project / REGION_FILES[1]]
    assert worktree(project) == render
    assert temp_files(project.parent) == []
    assert git_status(project) == ""


@pytest.mark.parametrize("command", ["fill", "new-service"])
def test_interrupt_while_committing_the_fills_lands_after_the_commit(
    project: Path,
    fake: FakeAnthropic,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    """SIGTERM just before `git commit`: the fills land written and committed, and the message says so."""
    if command == "new-service":
        project = project.parent / "fresh" / "payments"
    fake.responder = valid_reply(project)
    enter_hook(lambda point, details: terminate_self() if point == "fill.commit" else None)
    args = (
        ["fill", str(project)]
        if command == "fill"
        else ["new-service", "payments", "--defaults", "--dest", str(project)]
    )

    assert main(args) == ExitCode.INTERRUPTED

    lines = scaffold_lines(capsys.readouterr().err)
    assert len(lines) == 1 and lines[0].startswith("scaffold: interrupted; "), lines
    if command == "fill":
        assert "it landed after the fills were written" in lines[0] and RECORD_FILE in lines[0]
    else:
        assert "was created and is complete; nothing is left to fill" in lines[0]
    assert commits(project)[0].startswith(f"Fill {SERVICE_REGIONS} template regions")
    assert all(TAG in region.body for region in find_regions(project))
    assert git_status(project) == "" and temp_files(project.parent) == []


# --- 3. real signals while the model streams ----------------------------------------------------------------------


def signal_while_streaming(fake: FakeAnthropic, projects: dict[signal.Signals, Path]) -> dict[signal.Signals, Any]:
    """Run `scaffold fill` on each project, side by side, and send each its signal once it is being answered.

    Returns, per signal, the exit code, stdout, stderr and how long the run took to end after the signal.
    """
    first = next(iter(projects.values()))
    body = answer(first, region_keys(first))  # the projects are copies: one answer fits all
    assert len(body) / 20 * 0.05 > 12, "the stream must last well beyond the moment of the signal"
    fake.responder = lambda request: Reply.message(body, chunk_delay=0.05, chunk_size=20)
    env = {**os.environ, **fake.env(KEY), "SCAFFOLD_AI_RETRIES": "0"}
    processes = {
        signum: subprocess.Popen(
            [sys.executable, "-m", "generator", "fill", str(project)],
            cwd=project.parent,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=default_sigint,
        )
        for signum, project in projects.items()
    }
    results: dict[signal.Signals, Any] = {}
    try:
        deadline = time.monotonic() + 60
        while len(fake.requests) < len(processes):
            for process in processes.values():
                assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "scaffold fill sent no request"
            time.sleep(0.02)
        time.sleep(0.3)  # a few deltas are out: the SDK is reading the streams
        for signum, process in processes.items():
            assert process.poll() is None
            process.send_signal(signum)
        sent = time.monotonic()
        for signum, process in processes.items():
            out, err = process.communicate(timeout=30)
            results[signum] = (process.returncode, out, err, time.monotonic() - sent)
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.communicate()
    return results


@pytest.mark.slow  # two `scaffold fill` processes, each importing the SDK: about 5 s
def test_signals_while_streaming_leave_the_render(rendered: Path, tmp_path: Path, fake: FakeAnthropic) -> None:
    projects = {signum: tmp_path / signum.name / "payments" for signum in (signal.SIGINT, signal.SIGTERM)}
    for project in projects.values():
        shutil.copytree(rendered, project, symlinks=True)
    render, render_log = worktree(rendered), commits(rendered)

    results = signal_while_streaming(fake, projects)

    assert len(fake.requests) == 2 and all(request.streaming for request in fake.requests)
    for signum, (code, out, err, took) in results.items():
        project = projects[signum]
        assert code == ExitCode.INTERRUPTED, (signum, out, err)
        assert "interrupted" in err and "Traceback" not in err, err
        assert took < 10, f"{signum.name} took {took:.1f} s to end the run: it waited for the stream"
        assert "AI fill:" not in out
        assert worktree(project) == render
        assert commits(project) == render_log
        assert git_status(project) == ""
    assert temp_files(tmp_path) == []


# --- 4. permissions ---------------------------------------------------------------------------------------------


def test_read_only_region_file_is_filled_and_stays_read_only(
    project: Path, fake: FakeAnthropic, capsys: pytest.CaptureFixture[str]
) -> None:
    """The rename needs only the folder to be writable; the writer copies the file's mode to its replacement."""
    domain = project / REGION_FILES[0]
    domain.chmod(0o444)  # git records no change: it tracks only the executable bit
    fake.responder = valid_reply(project)

    assert main(["fill", str(project)]) == ExitCode.OK

    assert f"{SERVICE_REGIONS} of {SERVICE_REGIONS} regions filled" in capsys.readouterr().out
    assert domain.stat().st_mode & 0o7777 == 0o444
    assert TAG in domain.read_text()
    assert_valid(project)


def test_read_only_folder_fails_clearly_and_rolls_back(
    project: Path, fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """tests/ holds the third and fourth region files: their temporary files cannot be made, so nothing changes."""
    fake.responder = valid_reply(project)
    render, render_log = worktree(project), commits(project)
    folder = project / "tests"
    folder.chmod(0o555)
    try:
        probe = folder / ".probe"
        try:
            probe.touch()
        except PermissionError:
            pass
        else:  # root, or CAP_DAC_OVERRIDE: the folder's mode stops nothing, so refuse as the OS would
            probe.unlink()
            denied = PermissionError(errno.EACCES, "Permission denied", str(folder / "x"))
            counting_temps(monkeypatch, lambda n: denied if n >= 3 else None)
        code = main(["fill", str(project)])
    finally:
        folder.chmod(0o755)

    err = capsys.readouterr().err
    assert code == ExitCode.EXTERNAL
    assert len(scaffold_lines(err)) == 1 and "Permission denied" in scaffold_lines(err)[0], err
    assert "Traceback" not in err
    assert worktree(project) == render
    assert commits(project) == render_log
    assert temp_files(project.parent) == []


# --- 5. a full disk while the fills are written -------------------------------------------------------------------


_REAL_FDOPEN = os.fdopen


def broken_fdopen(error: BaseException) -> Callable[..., Any]:
    """An `os.fdopen` for the writer's temporary file whose write lands half the text, then raises `error`."""

    class Handle:
        def __init__(self, fd: int, *args: Any, **kwargs: Any) -> None:
            self._handle = _REAL_FDOPEN(fd, *args, **kwargs)

        def __enter__(self) -> Handle:
            return self

        def __exit__(self, *exc: object) -> None:
            self._handle.close()

        def write(self, text: str) -> int:
            self._handle.write(text[: len(text) // 2])
            self._handle.flush()
            raise error

    return Handle


def full_disk(monkeypatch: pytest.MonkeyPatch, full: Callable[[int], bool]) -> list[Path]:
    """The writer's n-th temporary file hits a full disk half-way when full(n) (and every later one stays full)."""
    calls: list[Path] = []
    real_fdopen = os.fdopen

    def hook(point: str, details: Mapping[str, Any]) -> None:
        if point == "fill.temp":
            calls.append(details["target"])
            if full(len(calls)):
                monkeypatch.setattr(os, "fdopen", broken_fdopen(OSError(errno.ENOSPC, NO_SPACE)))
            else:
                monkeypatch.setattr(os, "fdopen", real_fdopen)

    enter_hook(hook)
    return calls


@pytest.mark.parametrize("error", [OSError(errno.ENOSPC, NO_SPACE), KeyboardInterrupt()], ids=["ENOSPC", "SIGINT"])
def test_swap_keeps_the_old_files_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException
) -> None:
    first, second = tmp_path / "a.py", tmp_path / "b.py"
    first.write_text("a = 1\n")
    second.write_text("b = 1\r\n")
    second.chmod(0o640)

    with monkeypatch.context() as patch:
        patch.setattr(os, "fdopen", broken_fdopen(error))
        expected = ExternalToolError if isinstance(error, OSError) else type(error)
        with pytest.raises(expected):
            Swap(tmp_path, {"a.py": "a = 2\n", "b.py": "b = 2\r\n"}).apply()
    assert first.read_text() == "a = 1\n" and second.read_bytes() == b"b = 1\r\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a.py", "b.py"]

    swap = Swap(tmp_path, {"a.py": "a = 2\n", "b.py": "b = 2\r\n", "new/c.py": "c = 2\n"})
    swap.apply()
    assert second.read_bytes() == b"b = 2\r\n" and second.stat().st_mode & 0o7777 == 0o640
    swap.undo()
    assert first.read_text() == "a = 1\n" and second.read_bytes() == b"b = 1\r\n"
    assert second.stat().st_mode & 0o7777 == 0o640
    assert not (tmp_path / "new" / "c.py").exists()
    assert temp_files(tmp_path) == []


@pytest.mark.parametrize("stays_full", [False, True], ids=["space-comes-back", "disk-stays-full"])
def test_disk_full_during_the_write_changes_nothing_and_exits_5(
    project: Path,
    fake: FakeAnthropic,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    stays_full: bool,
) -> None:
    """The third temporary file hits a full disk: no target was touched yet, and undoing needs no space."""
    fake.responder = valid_reply(project)
    calls = full_disk(monkeypatch, (lambda n: n >= 3) if stays_full else (lambda n: n == 3))
    render, render_log = worktree(project), commits(project)

    code = main(["fill", str(project)])

    err = capsys.readouterr().err
    assert code == ExitCode.EXTERNAL
    assert len(scaffold_lines(err)) == 1 and NO_SPACE in err and "nothing was changed" in err, err
    assert "Traceback" not in err and "internal error" not in err
    assert [path.relative_to(project).as_posix() for path in calls] == REGION_FILES[:3]
    assert_untouched(project, render, render_log)


def test_disk_full_during_new_keeps_the_rendered_project(
    tmp_path: Path, fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "ledger"
    fake.responder = valid_reply(dest)
    full_disk(monkeypatch, lambda n: n >= 2)

    assert main(["new-service", "ledger", "--defaults", "--dest", str(dest)]) == ExitCode.FILLS_FELL_BACK

    err = capsys.readouterr().err
    assert "AI fill failed" in err and NO_SPACE in err and "internal error" not in err
    assert len(commits(dest)) == 1 and git_status(dest) == ""
    assert temp_files(tmp_path) == []


# --- line endings: a checkout with CRLF files (core.autocrlf=true) ------------------------------------------------


def crlf_domain(project: Path) -> Path:
    domain = project / REGION_FILES[0]
    domain.write_bytes(domain.read_bytes().replace(b"\n", b"\r\n"))
    run(["git", *GIT_IDENTITY, "commit", "-q", "-am", "CRLF line endings"], cwd=project)
    return domain


def test_rollback_restores_a_crlf_file_byte_for_byte(
    project: Path, fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    crlf_domain(project)
    fake.responder = valid_reply(project)
    interrupt_at_rename(monkeypatch, 2)  # the CRLF file is already replaced: it must come back byte for byte
    render = worktree(project)

    assert main(["fill", str(project)]) == ExitCode.INTERRUPTED

    assert worktree(project) == render


def test_fill_keeps_crlf_line_endings_outside_regions(project: Path, fake: FakeAnthropic) -> None:
    domain = crlf_domain(project)
    fake.responder = valid_reply(project)

    assert main(["fill", str(project)]) == ExitCode.OK

    data = domain.read_bytes()
    assert TAG.encode() in data
    assert data.count(b"\n") == data.count(b"\r\n")


def test_a_commit_that_fails_leaves_nothing_written_or_staged(
    project: Path, fake: FakeAnthropic, capsys: pytest.CaptureFixture[str]
) -> None:
    """Disk full (here: git's index locked) at the fill commit: exit 5, the render as it was, nothing staged."""
    fake.responder = valid_reply(project)
    render, render_log = worktree(project), commits(project)
    lock = project / ".git" / "index.lock"

    def lock_the_index(point: str, details: Mapping[str, Any]) -> None:
        if point == "fill.rename" and details["target"] == project / RECORD_FILE:
            lock.write_text("")  # every git add and commit now fails, as on a full disk

    enter_hook(lock_the_index)
    try:
        assert main(["fill", str(project)]) == ExitCode.EXTERNAL
    finally:
        lock.unlink()

    err = capsys.readouterr().err
    assert "the fills could not be committed" in err and "nothing was changed" in err
    assert_untouched(project, render, render_log)

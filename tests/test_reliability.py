"""Faults and hostile input lose nothing: property tests, trust, full disks, broken answers files."""

from __future__ import annotations

import errno
import functools
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.cli import main
from generator.errors import AnswerError, RegionError, UsageError
from generator.fill.regions import ID_PATTERN, parse_regions, splice
from generator.template.questionnaire import check_name, parse_data_items
from generator.template.source import load_repo_config
from tests.fillfakes import commits
from tests.helpers import (
    REPO_ROOT,
    SERVICE_REGIONS,
    build_file_tree,
    default_sigint,
    init_template_repo,
    run,
    scaffold_interrupted,
    sigterm_at,
    terminate_self,
    tree_snapshot,
)

MARKER_LINES = st.sampled_from(
    [
        "# scaffold:fill a A",
        "# scaffold:end a",
        "# scaffold:fill b",
        "# scaffold:end b",
        "// scaffold:fill c C",
        "// scaffold:end c",
        "<!-- scaffold:fill d D -->",
        "<!-- scaffold:end d -->",
        "# | more",
        "# scaffold:fill Bad",
        "    # scaffold:end a",
        "x = 1",
        "",
    ]
)

# One line of text with no line break of any kind (str.splitlines also splits on \x0b, \x85, \u2028, ...).
ONE_LINE = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=20)
PLAIN_LINES = ONE_LINE.filter(lambda line: "scaffold:" not in line)


@st.composite
def region_block(draw: st.DrawFn, region_id: str) -> list[str]:
    """A well-formed region: a fill marker (optionally with an instruction and `| more` lines), a body, an end marker."""
    comment = draw(st.sampled_from(["#", "//", "--", "<!--"]))
    indent = draw(st.sampled_from(["", "    ", "\t"]))
    close = " -->" if comment == "<!--" else ""
    instruction = draw(st.one_of(st.just(""), PLAIN_LINES.map(lambda text: " " + text)))
    more = [f"{indent}{comment} | {text}{close}" for text in draw(st.lists(PLAIN_LINES, max_size=2))]
    body = draw(st.lists(PLAIN_LINES, max_size=4))
    return [
        f"{indent}{comment} scaffold:fill {region_id}{instruction}{close}",
        *more,
        *body,
        f"{indent}{comment} scaffold:end {region_id}{close}",
    ]


@st.composite
def well_formed_lines(draw: st.DrawFn) -> list[str]:
    """Plain lines around regions with unique ids: text parse_regions must accept."""
    ids = draw(
        st.lists(st.from_regex(ID_PATTERN, fullmatch=True).filter(lambda i: len(i) <= 12), max_size=4, unique=True)
    )
    lines = draw(st.lists(PLAIN_LINES, max_size=3))
    for region_id in ids:
        lines += draw(region_block(region_id)) + draw(st.lists(PLAIN_LINES, max_size=3))
    return lines


@given(st.one_of(st.lists(st.one_of(MARKER_LINES, st.text(max_size=30)), max_size=30), well_formed_lines()))
def test_region_parser_returns_regions_or_a_located_error(lines: list[str]) -> None:
    text = "\n".join(lines)
    try:
        regions = parse_regions(text, "f.py")
    except RegionError as error:
        assert str(error).startswith("f.py:")
        return
    assert splice(text, "f.py", {region.id: region.body for region in regions}) == text
    for region in regions:
        assert region.start_line < region.body_line <= region.end_line


DATA_ITEMS = st.builds(
    lambda key, value: f"{key}={value}", st.from_regex(r"[A-Za-z_][A-Za-z0-9_]*", fullmatch=True), st.text(max_size=20)
)


@given(
    st.one_of(
        st.lists(st.one_of(st.text(max_size=20), DATA_ITEMS), max_size=6), st.lists(DATA_ITEMS, min_size=1, max_size=6)
    )
)
def test_data_flags_parse_or_fail_with_answer_error(items: list[str]) -> None:
    try:
        data = parse_data_items(items)
    except AnswerError as error:
        assert "--data" in str(error)
        return
    assert all(key.isidentifier() for key in data)
    # Values are kept as text, exactly as given after the first '='; keys are stripped; later flags win.
    assert data == {key.strip(): value for key, _, value in (item.partition("=") for item in items)}


# The naming rule that the shipped copier.yml's project_name validator states; scaffold must apply exactly it.
NAME_RULE = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")
SHIPPED = load_repo_config(REPO_ROOT)


@given(st.one_of(st.text(max_size=80), st.from_regex(NAME_RULE, fullmatch=True)))
def test_names_are_valid_or_refused(name: str) -> None:
    try:
        checked = check_name(name, SHIPPED)
    except UsageError as error:
        assert "\n" not in str(error)
        return
    assert checked == name
    assert NAME_RULE.fullmatch(checked) and len(checked) <= 64
    assert "/" not in checked and "." not in checked


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(max_size=40).filter(lambda n: not NAME_RULE.fullmatch(n)))
def test_cli_refuses_bad_names_without_writing(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    monkeypatch.chdir(work)
    before = tree_snapshot(tmp_path)
    assert main(["new-service", "--defaults", "--no-git", "--", name]) == 2
    err = capsys.readouterr().err
    assert err.startswith("scaffold: error: ") and err.count("\n") == 1
    assert tree_snapshot(tmp_path) == before


def test_templates_with_tasks_need_trust(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = init_template_repo(tmp_path / "tpl", {"copier.yml": _with_task()})
    monkeypatch.chdir(tmp_path)
    assert main(["new", "mini", "one", "--defaults", "--templates", str(repo)]) == 2
    assert "pass --trust" in capsys.readouterr().err
    assert not (tmp_path / "one").exists()
    assert main(["new", "mini", "two", "--defaults", "--templates", str(repo), "--trust"]) == 0
    assert (tmp_path / "two" / "task-ran").is_file()


def _with_task() -> str:
    return """\
        _subdirectory: "templates/{{ template }}"
        _tasks:
          - "touch task-ran"
        template:
          type: str
          choices: [mini]
        project_name:
          type: str
        ---
        !include templates/*/questions.yml
        """


def test_disk_full_during_render_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    real_write = Path.write_bytes
    written: list[Path] = []

    def full_disk(self: Path, data: bytes) -> int:  # Copier writes each rendered file this way
        written.append(self)
        if len(written) > 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return real_write(self, data)

    monkeypatch.setattr(Path, "write_bytes", full_disk)
    before = tree_snapshot(tmp_path)
    assert main(["new-service", "svc", "--defaults"]) == 5
    err = capsys.readouterr().err
    assert "No space left on device" in err and err.count("\n") == 1
    assert tree_snapshot(tmp_path) == before


def test_non_utf8_answers_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build_file_tree(tmp_path / "p", {".copier-answers.yml": b"_src_path: \xff\xfe\n"})
    run(["git", "init", "-q"], cwd=tmp_path / "p")
    assert main(["update", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err
    assert "cannot read" in err and ".copier-answers.yml" in err and err.count("\n") == 1


def _staged(work: Path, inside: str) -> bool:
    """The render is under way: the staging folder beside the destination holds `inside` ("" for itself)."""
    return any((stage / "svc" / inside).exists() for stage in work.glob(".svc.scaffold-*"))


def test_sigint_during_render_leaves_no_partial_project(tmp_path: Path) -> None:
    """SIGINT at each stage of a render, found by what is on disk (not by tuned delays): started, Copier
    writing, Copier done, git committing; every run leaves nothing, or the whole project (and says so)."""
    outcomes = set()
    stages = ["", "src", ".copier-answers.yml", ".git"]
    for index, inside in enumerate(stages):
        work = tmp_path / f"run{index}"
        work.mkdir()
        staged = functools.partial(_staged, work, inside)
        code, err = scaffold_interrupted(["new-service", "svc", "--defaults"], work, 0, signal.SIGINT, when=staged)
        outcomes.add(code)
        if code == 0:
            assert (work / "svc" / ".git").is_dir()
            continue
        assert code in (130, -signal.SIGINT), err
        if "svc was created and is complete" in err:  # the interrupt landed once the project was in place
            assert_complete(work / "svc")
            assert [path.name for path in work.iterdir()] == ["svc"]
        else:
            assert list(work.iterdir()) == [], "a partial project or staging folder was left behind"
    assert outcomes - {0}, "no run was interrupted"


def assert_complete(project: Path) -> None:
    """The render, committed whole: every file of the service template, nothing uncommitted."""
    assert (project / ".copier-answers.yml").is_file() and (project / "pyproject.toml").is_file()
    log = commits(project)
    assert len(log) == 1 and log[0].startswith("Render the service template"), log  # the render is the one commit
    assert run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=project).stdout == ""


def send_sigterm_after(monkeypatch: pytest.MonkeyPatch, owner: object, name: str, call: int = 1) -> None:
    """`owner.name` sends this process SIGTERM once its call number `call` has returned."""
    real = getattr(owner, name)
    calls = 0

    def wrapper(*args: object, **kwargs: object) -> object:
        nonlocal calls
        result = real(*args, **kwargs)
        calls += 1
        if calls == call:
            terminate_self()
        return result

    monkeypatch.setattr(owner, name, wrapper)


@pytest.mark.parametrize("where", ["after-the-move", "mid-merge", "during-the-move", "while-reporting"])
def test_interrupt_once_the_project_is_in_place_keeps_it_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    """A signal that lands once the render is moved into place never removes it (nor the folders made for it),
    never leaves a merge half done, and the one line says the project exists and how to fill it."""
    dest = tmp_path / "made" / "by" / "scaffold" / "svc"
    flags = []
    point = {"after-the-move": "render.moved", "during-the-move": "render.move", "while-reporting": "cli.report"}
    if where == "mid-merge":
        build_file_tree(dest, {"NOTES.md": "mine\n", "README.md": "replaced by the template\n"})
        flags = ["--force", "--no-git"]
        send_sigterm_after(monkeypatch, Path, "replace", call=2)

    with sigterm_at(point.get(where, "none")):
        code = main(["new-service", "svc", "--defaults", "--dest", str(dest), *flags])

    err = capsys.readouterr().err
    assert code == 130
    assert err.count("\n") == 1 and err.startswith(f"scaffold: interrupted; {dest} was created and is complete; ")
    assert f"its {SERVICE_REGIONS} regions keep the template's fallbacks until 'scaffold fill {dest}'" in err
    assert [path.name for path in dest.parent.iterdir()] == ["svc"], "a staging folder was left behind"
    if where == "mid-merge":
        assert (dest / "NOTES.md").read_text() == "mine\n"
        rendered = tree_snapshot(dest)
        assert "README.md" in rendered and b"replaced by" not in rendered["README.md"]
        assert {"pyproject.toml", "src/svc/domain.py", "tests/test_domain.py"} <= set(rendered)
    else:
        assert_complete(dest)


def test_interrupted_pretend_does_not_claim_a_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--pretend renders into a throwaway folder: an interrupt after that move has created nothing to report."""
    before = tree_snapshot(tmp_path)

    with sigterm_at("render.moved"):
        assert main(["new-service", "svc", "--defaults", "--pretend", "--dest", str(tmp_path / "svc")]) == 130

    assert capsys.readouterr().err == "scaffold: interrupted; nothing partial was left behind\n"
    assert tree_snapshot(tmp_path) == before


def test_a_second_interrupt_while_reporting_the_first_keeps_the_news(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C in the fill step, then again while scaffold works out which regions are filled: still 'created'."""
    import generator.fill.plan as fill_plan

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(fill_plan, "make_plan", interrupted)
    dest = tmp_path / "svc"

    assert main(["new-service", "svc", "--defaults", "--dest", str(dest)]) == 130

    assert capsys.readouterr().err == (
        f"scaffold: interrupted; {dest} was created and is complete; "
        f"'scaffold fill {dest}' fills any regions not filled yet\n"
    )
    assert_complete(dest)


SECOND_SIGNAL = """
import os, signal, sys
import generator.cli as cli
import generator.cli.report as report

def first(argv):  # the run is interrupted (or fails) early; a second Ctrl-C lands while that is reported
    raise {first}

def reported(*args):
    os.kill(os.getpid(), signal.SIGINT)
    return real(*args)

cli._undecodable = first
real = {real}
{patch}
sys.argv = ["scaffold", "context", "a task"]  # never parsed: `first` comes before
sys.exit(cli.main())
"""


def _feeling_ctrl_c(script: str) -> subprocess.CompletedProcess[str]:
    """`script` run in a Python of its own that feels SIGINT (see `default_sigint`)."""
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, preexec_fn=default_sigint
    )


@pytest.mark.parametrize(
    ("first", "real", "patch", "code", "line"),
    [
        ("KeyboardInterrupt", "report.interrupted", "report.interrupted = reported", 130, "scaffold: interrupted; "),
        ("cli.ScaffoldError('no such thing')", "cli.one_line", "cli.one_line = reported", 2, "scaffold: error: "),
    ],
)
def test_a_second_interrupt_while_the_first_is_reported_is_no_traceback(
    first: str, real: str, patch: str, code: int, line: str
) -> None:
    script = SECOND_SIGNAL.format(first=first, real=real, patch=patch)
    result = _feeling_ctrl_c(script)
    assert (result.returncode, result.stderr.count("\n")) == (code, 1), result.stderr
    assert result.stderr.startswith(line), result.stderr


# A signal whose KeyboardInterrupt a library swallowed, or replaced with its own error on the way out
# (Copier's git pipes closed under it: EBADF, which scaffold words as "cannot read or write"): the run
# was still interrupted, and says so. 1 of 200 random interrupts of `new-service` ended in exit 5.
ERROR_AFTER_A_SIGNAL = """
import os, signal, sys
import generator.cli as cli
from generator.errors import ExternalToolError

def swallowed(argv):
    try:
        os.kill(os.getpid(), signal.SIGTERM)
    except KeyboardInterrupt:
        pass
    raise ExternalToolError("cannot read or write: Bad file descriptor")

cli._undecodable = swallowed
sys.argv = ["scaffold", "list"]
sys.exit(cli.main())
"""


def test_an_error_that_a_signal_caused_is_reported_as_the_interrupt() -> None:
    result = _feeling_ctrl_c(ERROR_AFTER_A_SIGNAL)
    assert (result.returncode, result.stderr) == (130, "scaffold: interrupted; nothing partial was left behind\n")


BLOCKED_WITH_A_THREAD = """
import os, signal, sys, threading, time
from generator.plumbing.transaction import block_signals, install_handlers

install_handlers()
threading.Thread(target=time.sleep, args=(5,), daemon=True).start()  # started before: not blocking them
block_signals()
os.kill(os.getpid(), signal.SIGINT)  # the kernel hands it to the thread
time.sleep(0.2)
print("reported", file=sys.stderr)
"""


def test_blocked_signals_do_not_land_through_another_thread() -> None:
    result = _feeling_ctrl_c(BLOCKED_WITH_A_THREAD)
    assert (result.returncode, result.stderr) == (0, "reported\n")


# Python's own SIGINT handler (a library's, or a program using scaffold's API without its handlers) raises
# as the held block unblocks: the block must still count itself out, or scaffold's handlers, installed
# later, would note every Ctrl-C as held and never raise it.
AFTER_A_FOREIGN_HANDLER = """
import os, signal, time
from generator.plumbing.transaction import install_handlers, signals_held
signal.signal(signal.SIGINT, signal.default_int_handler)
try:
    with signals_held():
        os.kill(os.getpid(), signal.SIGINT)
except KeyboardInterrupt:
    print("raised at the end of the block")
install_handlers()
try:
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(5)
    print("held for good")
except KeyboardInterrupt:
    print("raised again")
"""


def test_a_held_block_that_a_foreign_handler_interrupts_holds_nothing_after() -> None:
    result = _feeling_ctrl_c(AFTER_A_FOREIGN_HANDLER)
    assert (result.returncode, result.stdout) == (0, "raised at the end of the block\nraised again\n"), result.stderr


def test_a_signal_after_the_command_finished_does_not_undo_its_exit(tmp_path: Path) -> None:
    """The command printed its result; a SIGINT while the interpreter exits must not end it by signal."""
    import subprocess
    import sys

    script = (
        "import os, signal, sys\n"
        "sys.argv = ['scaffold', 'list']\n"
        "from generator.cli import main\n"
        "code = main()\n"
        "os.kill(os.getpid(), signal.SIGINT)\n"
        "sys.exit(code)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Templates from" in result.stdout and "Traceback" not in result.stderr


def test_a_destination_that_appears_while_rendering_is_never_merged_into(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The user creates demo/README.md while scaffold renders demo: their file stays, scaffold exits 2."""
    from generator.plumbing.transaction import fault_hook

    dest = tmp_path / "demo"

    def user_writes(point: str, details: object) -> None:
        if point == "render.commit":  # rendered in the staging folder, not yet moved
            build_file_tree(dest, {"README.md": "my own notes\n"})

    with fault_hook(user_writes):
        assert main(["new-service", "demo", "--defaults", "--no-ai", "--dest", str(dest)]) == 2

    assert "appeared (or filled up) while the project was rendered" in capsys.readouterr().err
    assert [path.name for path in tmp_path.iterdir()] == ["demo"], "a staging folder was left behind"
    assert (dest / "README.md").read_text() == "my own notes\n" and len(list(dest.iterdir())) == 1


def test_two_runs_on_one_destination_leave_one_whole_project(tmp_path: Path) -> None:
    import subprocess
    import sys

    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "generator", "new-service", "same", "--defaults", "--no-ai"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outcomes = sorted((process.wait(timeout=300), process.communicate()[1]) for process in runs)
    assert [code for code, _ in outcomes] == [0, 2], outcomes
    assert "appeared" in outcomes[1][1] or "already exists" in outcomes[1][1]
    assert_complete(tmp_path / "same")
    assert [path.name for path in tmp_path.iterdir()] == ["same"]


@pytest.mark.parametrize("value", ["[1, 2]", "null", "{a: 1}"])
def test_a_non_text_description_is_blamed_on_the_answer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    data = tmp_path / "answers.yml"
    data.write_text(f"description: {value}\n")
    assert main(["new-service", "svc", "--defaults", "--data-file", str(data), "--dest", str(tmp_path / "svc")]) == 2
    err = capsys.readouterr().err
    assert "answer for 'description' must be text" in err and "template source" not in err
    assert not (tmp_path / "svc").exists()


def test_git_killed_by_a_signal_is_the_machines_trouble(tmp_path: Path) -> None:
    import shutil
    import subprocess
    import sys

    real = shutil.which("git")
    wrapper = tmp_path / "bin" / "git"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\nfor a in "$@"; do [ "$a" = clone ] && kill -9 $$; done\nexec {real} "$@"\n')
    wrapper.chmod(0o755)
    repo = init_template_repo(tmp_path / "tpl", {})
    env = {**os.environ, "PATH": f"{wrapper.parent}:{os.environ['PATH']}"}

    result = subprocess.run(
        [sys.executable, "-m", "generator", "new", "mini", "x", "--defaults", "--templates", str(repo)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 5, result.stderr
    assert "killed by signal 9" in result.stderr and not (tmp_path / "x").exists()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_an_interrupt_swallowed_by_python_still_lands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """SIGTERM inside a weakref callback: Python discards the KeyboardInterrupt raised there; scaffold must not
    carry on as if nothing happened (it did: it went on to commit and exit 0)."""
    import weakref

    from generator.plumbing.transaction import fault_hook

    class Box:
        pass

    def hook(point: str, details: object) -> None:
        if point == "render.commit":
            box = Box()
            weakref.finalize(box, terminate_self)
            del box  # the finalizer runs now; the handler's KeyboardInterrupt is raised inside it, and lost

    dest = tmp_path / "svc"
    with fault_hook(hook):
        code = main(["new-service", "svc", "--defaults", "--no-ai", "--dest", str(dest)])

    err = capsys.readouterr().err
    assert code == 130, err
    assert (
        err.endswith("scaffold: interrupted; nothing partial was left behind\n") or "was created and is complete" in err
    )
    if dest.exists():
        assert_complete(dest)


# Where scaffold's own code runs; a traceback through none of them is Python starting up (runpy, the
# package's first imports), a window of milliseconds before any handler can be installed.
_STAGES = ("cli", "template", "fill", "context", "plumbing", "pipeline", "settings", "results")


@pytest.mark.slow  # 200 runs of scaffold, two at a time: a few minutes
def test_200_runs_interrupted_at_random_times_leave_nothing_partial(tmp_path: Path) -> None:
    """SIGINT or SIGTERM at a random moment of `scaffold new-service`: every run ends finished, or with 130 and
    one line saying nothing partial was left behind (and nothing is there) or that the project is complete."""
    import random
    from concurrent.futures import ThreadPoolExecutor

    chooser = random.Random(20261202)
    plans = [
        (index, chooser.uniform(0.0, 2.5), chooser.choice([signal.SIGINT, signal.SIGTERM])) for index in range(200)
    ]

    def one(plan: tuple[int, float, signal.Signals]) -> tuple[int, int, str]:
        index, delay, signum = plan
        work = tmp_path / f"run{index}"
        work.mkdir()
        code, err = scaffold_interrupted(["new-service", "svc", "--defaults", "--no-ai"], work, delay, signum)
        return index, code, err

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(one, plans))
    codes: dict[int, int] = {}
    for index, code, err in outcomes:
        work = tmp_path / f"run{index}"
        codes[code] = codes.get(code, 0) + 1
        left = [path.name for path in work.iterdir()]
        if code == 0 or "was created and is complete" in err:
            assert code in (0, 130), err
            assert left == ["svc"], (index, left)
            assert_complete(work / "svc")
        elif "scaffold:" not in err and not any(f"generator/{part}" in err for part in _STAGES):
            # Before scaffold's code ran (Python starting, importing the package): nothing was made.
            assert left == [], (index, err)
        else:
            assert code == 130, (index, code, err)
            assert err == "scaffold: interrupted; nothing partial was left behind\n", (index, err)
            assert left == [], (index, left)
    assert codes.get(130, 0) >= 50, codes  # most runs were really interrupted


def test_a_destination_that_cannot_be_created_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new-service", "x", "--defaults", "--no-ai", "--dest", "/proc/scaffold-test/x"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("scaffold: error: cannot create /proc/scaffold-test/x") and err.count("\n") == 1


def test_an_argument_the_terminal_could_not_decode_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    assert main(["init", str(home)]) == 0
    capsys.readouterr()
    before = sorted(path.name for path in (home / "context" / "decisions").iterdir())
    title = b"\xff\xfe".decode("utf-8", "surrogateescape")  # what Python makes of such bytes in argv

    assert main(["new-decision", title, "--home", str(home)]) == 2

    assert "is not valid text in your terminal's encoding" in capsys.readouterr().err
    assert sorted(path.name for path in (home / "context" / "decisions").iterdir()) == before


def test_an_unwritable_data_folder_is_named_with_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from generator import settings
    from generator.errors import ExternalToolError
    from generator.template import source

    package_data = tmp_path / "package"
    package_data.mkdir()
    (package_data / source.BUNDLE_NAME).write_bytes(b"a bundle")
    monkeypatch.setattr(settings, "DATA_DIR", package_data)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be\n")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker))

    with pytest.raises(ExternalToolError, match=r"cannot place the bundled templates in .*XDG_DATA_HOME"):
        source.ensure_bundle()
    assert not any(path.name.endswith(".partial") for path in tmp_path.rglob("*"))


@pytest.mark.parametrize("name", ["class", "import", "def", "os", "test", "json"])
def test_python_keywords_and_stdlib_names_are_refused_with_a_suggestion(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    assert main(["new-service", name, "--defaults", "--no-ai", "--dest", str(tmp_path / name)]) == 2
    err = capsys.readouterr().err
    assert "Python keyword or standard-library module name" in err and f"'{name}-app'" in err
    assert not (tmp_path / name).exists()


def test_a_terraform_module_may_be_called_os(tmp_path: Path) -> None:
    assert main(["new-infra", "os", "--defaults", "--no-ai", "--dest", str(tmp_path / "os")]) == 0


def test_a_force_merge_into_a_folder_it_cannot_write_stops_before_moving_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "x"
    build_file_tree(dest, {"tests/keep.txt": "mine\n", "NOTES.md": "mine\n"})
    real_access = os.access
    # Root may write anywhere: answer as a non-root user would for the read-only tests/ folder.
    monkeypatch.setattr(
        os, "access", lambda path, mode: False if Path(path) == dest / "tests" else real_access(path, mode)
    )

    assert main(["new-service", "x", "--defaults", "--no-ai", "--no-git", "--force", "--dest", str(dest)]) == 2

    assert f"cannot write into {dest / 'tests'}" in capsys.readouterr().err
    assert sorted(path.relative_to(dest).as_posix() for path in dest.rglob("*")) == [
        "NOTES.md",
        "tests",
        "tests/keep.txt",
    ]


def test_a_file_size_limit_while_placing_the_bundle_leaves_no_partial_file(tmp_path: Path) -> None:
    # `ulimit -f`: Python ignores SIGXFSZ, so the copy fails with EFBIG half-way; nothing partial may stay.
    package_data = tmp_path / "package"
    package_data.mkdir()
    data_home = tmp_path / "data"
    script = f"""
import resource, sys
from pathlib import Path
from generator import settings
from generator.errors import ExternalToolError
from generator.template import source
settings.DATA_DIR = Path({str(package_data)!r})
(settings.DATA_DIR / source.BUNDLE_NAME).write_bytes(b"x" * 300_000)
resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))
try:
    source.ensure_bundle()
except ExternalToolError as error:
    print(error)
    sys.exit(5)
"""
    env = {**os.environ, "XDG_DATA_HOME": str(data_home)}
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=REPO_ROOT)

    assert run.returncode == 5, run.stderr
    assert "cannot place the bundled templates in" in run.stdout and "File too large" in run.stdout
    assert [path.name for path in data_home.rglob("*") if path.is_file()] == []


@pytest.fixture
def home_is_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HOME points at a file, and no XDG variable points elsewhere: no per-user folder can be made."""
    blocker = tmp_path / "home-file"
    blocker.write_text("not a folder\n")
    monkeypatch.setenv("HOME", str(blocker))
    for variable in ("XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(variable, raising=False)
    return blocker


def test_a_home_that_is_a_file_still_gives_context(home_is_a_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The index is a cache: when its folder cannot be made, scaffold works in memory instead of failing.
    assert main(["context", "add a health check endpoint", "--home", str(REPO_ROOT)]) == 0
    assert "health" in capsys.readouterr().out.lower()


def test_a_home_that_cannot_be_made_is_one_line_with_exit_5(
    home_is_a_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init"]) == 5

    err = capsys.readouterr().err
    assert err.startswith("scaffold: error: cannot create ") and str(home_is_a_file) in err and err.count("\n") == 1
    assert "Not a directory; check that HOME (or XDG_DATA_HOME) is a folder you can write" in err


def test_a_machine_error_nobody_anticipated_is_one_line_with_exit_5(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from generator.plumbing import gitutil

    wanted = tmp_path / "team-home"

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(wanted / ".git"))

    monkeypatch.setattr(gitutil, "git", refuse)  # no code path of init expects this one
    assert main(["init", str(wanted)]) == 5

    err = capsys.readouterr().err
    assert err.startswith(f"scaffold: error: cannot use {wanted}") and err.count("\n") == 1
    assert "Permission denied" in err and "internal error" not in err
    assert not wanted.exists()  # what init had made is gone


def test_a_machine_errors_advice_fits_its_cause() -> None:
    # A home that could not be read (`scaffold context`) was told to check it could write, and the disk's room.
    from generator.errors import machine_trouble

    def advice(number: int, strerror: str) -> str | None:
        return machine_trouble(OSError(number, strerror, "/srv/kb/context"))

    assert advice(errno.EACCES, "Permission denied") == (
        "cannot use /srv/kb/context: Permission denied; check its permissions and those of the folders above it"
    )
    assert advice(errno.ENOSPC, "No space left on device") == (
        "cannot use /srv/kb/context: No space left on device; free some space on that disk (or raise your quota "
        "or file size limit)"
    )
    assert "read-only file system; use a folder on one you can write" in str(advice(errno.EROFS, "Read-only"))
    assert "check that the folders on that path exist and are folders" in str(advice(errno.ENOTDIR, "Not a dir"))
    assert "a folder is where scaffold needs a file; move that folder away" in str(advice(errno.EISDIR, "Is a dir"))
    assert advice(errno.ENOENT, "No such file or directory") is None  # more likely scaffold's bug


def test_copiers_temporary_folders_go_even_when_interrupted() -> None:
    import tempfile

    from generator.template.render import copier_errors

    before = tempfile.gettempdir()
    made: list[Path] = []
    with pytest.raises(KeyboardInterrupt), copier_errors("a source"):
        # What Copier does for a clone (`copier._vcs.clone`): a folder in the default temp folder.
        made.append(Path(tempfile.mkdtemp(prefix="copier._vcs.clone.")))
        raise KeyboardInterrupt

    assert made and not made[0].exists() and made[0].parent.name.startswith("scaffold-copier-")
    assert tempfile.gettempdir() == before

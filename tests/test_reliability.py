"""Faults and hostile input lose nothing: property tests, trust, full disks, broken answers files."""

from __future__ import annotations

import errno
import signal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.cli import main
from generator.errors import AnswerError, RegionError, UsageError
from generator.fill.regions import ID_PATTERN, parse_regions, splice
from generator.template.questionnaire import NAME_PATTERN, check_name, parse_data_items
from tests.fillfakes import commits
from tests.helpers import (
    build_file_tree,
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


@given(st.one_of(st.text(max_size=80), st.from_regex(NAME_PATTERN, fullmatch=True)))
def test_names_are_valid_or_refused(name: str) -> None:
    try:
        checked = check_name(name)
    except UsageError as error:
        assert "\n" not in str(error)
        return
    assert checked == name
    assert NAME_PATTERN.fullmatch(checked) and len(checked) <= 64
    assert "/" not in checked and "." not in checked


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(max_size=40).filter(lambda n: not NAME_PATTERN.fullmatch(n)))
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


def test_sigint_during_render_leaves_no_partial_project(tmp_path: Path) -> None:
    outcomes = set()
    for index, delay in enumerate((0.4, 0.8, 1.2)):
        work = tmp_path / f"run{index}"
        work.mkdir()
        code, err = scaffold_interrupted(["new-service", "svc", "--defaults"], work, delay, signal.SIGINT)
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
    assert outcomes - {0}, "no run was interrupted; adjust the delays"


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
    assert f"its 5 regions keep the template's fallbacks until 'scaffold fill {dest}'" in err
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

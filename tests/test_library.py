"""The library API (generator.new_project, fill_project, update_project, check_project), without the CLI.

Each test calls the core as a Python program would, and checks that it returns results, prints
nothing, and makes what the matching `scaffold` command makes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest
import yaml

import generator
from generator.cli import main
from generator.errors import ExitCode, Interrupted, UnknownTemplateError
from generator.plumbing.transaction import fault_hook
from generator.results import FillResult, NewResult, UpdateResult
from tests.fakeapi import FakeAnthropic
from tests.fillfakes import valid_reply
from tests.helpers import (
    GIT_IDENTITY,
    GREET_TEMPLATE,
    SERVICE_REGIONS,
    init_template_repo,
    release_template,
    run,
    tree_snapshot,
)


def without_git(tree: dict[str, bytes]) -> dict[str, bytes]:
    """The files, less git's and the answers' `_commit` (a dirty checkout renders a new snapshot each time)."""
    files = {path: data for path, data in tree.items() if not path.startswith(".git/")}
    answers = yaml.safe_load(files.pop(".copier-answers.yml"))
    answers.pop("_commit")
    files[".copier-answers.yml"] = yaml.safe_dump(answers).encode()
    return files


def test_new_project_makes_what_the_cli_makes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    result = generator.new_project("service", "demo", dest=tmp_path / "lib" / "demo", defaults=True)
    assert capsys.readouterr() == ("", ""), "the core never prints"
    assert main(["new-service", "demo", "--defaults", "--no-ai", "--dest", str(tmp_path / "cli" / "demo")]) == 0

    assert isinstance(result, NewResult)
    assert result.path == tmp_path / "lib" / "demo"
    assert result.rendered.template == "service" and result.rendered.commit
    assert result.fill is None and result.pending == SERVICE_REGIONS
    assert without_git(tree_snapshot(result.path)) == without_git(tree_snapshot(tmp_path / "cli" / "demo"))
    log = run(["git", "log", "--format=%s"], cwd=result.path).stdout.splitlines()
    assert len(log) == 1 and log[0].startswith("Render the service template")


def test_new_project_errors_are_exceptions_and_write_nothing(tmp_path: Path) -> None:
    with pytest.raises(UnknownTemplateError, match="unknown template 'servce'"):
        generator.new_project("servce", "demo", dest=tmp_path / "demo", defaults=True)
    assert not (tmp_path / "demo").exists()


def test_an_interrupt_after_the_move_says_what_exists(tmp_path: Path) -> None:
    def interrupt(point: str, details: Mapping[str, object]) -> None:
        if point == "render.moved":
            raise KeyboardInterrupt

    with fault_hook(interrupt), pytest.raises(Interrupted) as caught:
        generator.new_project("service", "svc", dest=tmp_path / "svc", defaults=True)
    done = caught.value.done
    assert isinstance(done, NewResult) and done.path == tmp_path / "svc" and done.pending == SERVICE_REGIONS
    assert (tmp_path / "svc" / ".copier-answers.yml").is_file()


def test_fill_project_and_check_project(project: Path, fake: FakeAnthropic, capsys: pytest.CaptureFixture[str]) -> None:
    fake.responder = valid_reply(project)
    before = generator.check_project(project)
    assert len(before.unfilled) == SERVICE_REGIONS and not before.behind and before.template == "service"

    run_ = generator.fill_project(project)

    assert capsys.readouterr() == ("", "")
    assert isinstance(run_.result, FillResult) and not run_.result.fell_back and run_.result.commit
    assert generator.check_project(project).unfilled == ()
    again = generator.fill_project(project)
    assert again.result is None and again.skipped == "no-regions"


def test_preview_fill_needs_no_key(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    preview = generator.preview_fill(project)
    assert preview is not None and len(preview.todo) == SERVICE_REGIONS and preview.estimate.cache_write > 0


@pytest.fixture
def released(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A project made by the library from release 1.0.0 of a small template repository, committed."""
    includes = (Path(__file__).parent.parent / "includes" / "regions.jinja").read_text()
    repo = init_template_repo(
        tmp_path / "templates",
        {"includes/regions.jinja": includes, "templates/mini/app.py.jinja": GREET_TEMPLATE},
    )
    monkeypatch.chdir(tmp_path)
    result = generator.new_project("mini", "demo", defaults=True, templates=repo)
    return repo, result.path


def test_check_then_update_then_check(released: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    repo, demo = released
    assert generator.check_project(demo).behind is False
    release_template(repo, {"templates/mini/CHANGELOG.md": "new in 1.1.0\n"}, "1.1.0")

    behind = generator.check_project(demo)
    assert behind.behind and (behind.version, behind.newest) == ("1.0.0", "1.1.0")

    updated = generator.update_project(demo)
    assert isinstance(updated, UpdateResult)
    assert (updated.old_version, updated.new_version, updated.conflicts) == ("1.0.0", "1.1.0", [])
    assert capsys.readouterr() == ("", "")
    run(["git", *GIT_IDENTITY, "commit", "-q", "-am", "update"], cwd=demo)
    run(["git", "add", "-A"], cwd=demo)
    run(["git", *GIT_IDENTITY, "commit", "-q", "--allow-empty", "-m", "update (new files)"], cwd=demo)
    assert generator.check_project(demo).behind is False
    assert yaml.safe_load((demo / ".copier-answers.yml").read_text())["_commit"] == "1.1.0"


def test_scaffold_check_exit_codes_and_json(released: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    repo, demo = released
    capsys.readouterr()
    assert main(["check", str(demo)]) == ExitCode.OK
    assert "up to date" in capsys.readouterr().out

    release_template(repo, {"templates/mini/CHANGELOG.md": "new\n"}, "1.1.0")
    assert main(["check", str(demo), "--json"]) == ExitCode.BEHIND
    (report,) = json.loads(capsys.readouterr().out)
    assert (report["version"], report["newest"], report["behind"]) == ("1.0.0", "1.1.0", True)


def test_scaffold_check_names_an_unreachable_source(
    released: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    repo, demo = released
    repo.rename(repo.with_name("moved"))
    capsys.readouterr()
    assert main(["check", str(demo)]) == ExitCode.EXTERNAL
    assert "source unreachable" in capsys.readouterr().out


@pytest.mark.parametrize(("word", "docker"), [("n", False), ("Off", False), ("yes", True), ("1", True)])
def test_one_reading_of_yes_and_no_for_answers_and_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, word: str, docker: bool
) -> None:
    result = generator.new_project(
        "service", "svc", dest=tmp_path / "svc", defaults=True, data={"include_docker": word}
    )
    assert (result.path / "Dockerfile").exists() is docker
    monkeypatch.setenv("SCAFFOLD_AI_STREAM", word)
    assert generator.Settings.load().stream() is docker


def test_a_word_that_is_neither_yes_nor_no_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from generator.errors import AnswerError, UsageError

    with pytest.raises(AnswerError, match="must be true or false"):
        generator.new_project("service", "svc", dest=tmp_path / "svc", defaults=True, data={"include_docker": "maybe"})
    monkeypatch.setenv("SCAFFOLD_AI_STREAM", "maybe")
    with pytest.raises(UsageError, match=r"\$SCAFFOLD_AI_STREAM must be true or false"):
        generator.Settings.load().stream()


def test_check_recursive_finds_every_project(
    released: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo, demo = released
    nested = tmp_path / "team" / "services"
    nested.mkdir(parents=True)
    generator.new_project("mini", "two", dest=nested / "two", defaults=True, templates=repo)
    release_template(repo, {"templates/mini/CHANGELOG.md": "new\n"}, "1.1.0")
    capsys.readouterr()

    assert main(["check", "--recursive", str(tmp_path), "--json"]) == ExitCode.BEHIND

    reports = json.loads(capsys.readouterr().out)
    assert sorted(Path(report["path"]).name for report in reports) == ["demo", "two"]
    assert all(report["behind"] for report in reports)
    assert generator.pipeline.find_projects(tmp_path / "templates") == []


def test_a_calls_own_model_wins_over_the_settings_given(project: Path) -> None:
    preview = generator.preview_fill(project, model="claude-opus-5-5", settings=generator.Settings.load())
    assert preview is not None and preview.model == "claude-opus-5-5"


def test_pretend_refuses_a_destination_the_real_run_would_refuse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "keep.txt").write_text("mine\n")
    assert main(["new-service", "demo", "--defaults", "--pretend"]) == ExitCode.USAGE
    assert "already exists and is not empty" in capsys.readouterr().err


def test_a_home_from_the_environment_is_named_as_such(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SCAFFOLD_HOME", str(tmp_path / "no-home-here"))
    assert main(["fill", str(project), "--pretend"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "SCAFFOLD_HOME" in err and "--home" not in err


def test_an_api_key_with_white_space_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    from generator.errors import UsageError

    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-api03-abcdefghijklmnop\n")
    assert generator.Settings.load().key == "sk-ant-api03-abcdefghijklmnop"
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-api03 abcdefghijklmnop")
    with pytest.raises(UsageError, match=r"^the API key in \$ANTHROPIC_API_KEY contains white space") as caught:
        _ = generator.Settings.load().key
    assert "abcdefgh" not in str(caught.value)


def test_the_library_asks_before_spending_when_told_to(project: Path, fake: FakeAnthropic, tmp_path: Path) -> None:
    from generator.results import FillOffer, Progress, Rendered

    class Declines:
        asked = 0

        def rendered(self, rendered: Rendered) -> None:
            pass

        def progress(self, event: Progress) -> None:
            pass

        def tokens(self, count: int) -> None:
            pass

        def confirm_fill(self, offer: FillOffer) -> bool:
            Declines.asked += 1
            return False

    result = generator.new_project(
        "service",
        "c",
        dest=tmp_path / "c",
        defaults=True,
        fill=generator.FillRequest(confirm=True),
        reporter=Declines(),
    )
    assert Declines.asked == 1 and result.fill is None and result.fill_skipped == "declined"
    assert fake.requests == []


def test_check_of_many_paths_reports_every_one(
    released: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, demo = released
    capsys.readouterr()
    assert main(["check", str(demo), str(tmp_path / "templates"), "--json"]) == ExitCode.USAGE
    good, bad = json.loads(capsys.readouterr().out)
    assert good["behind"] is False and good["exit_code"] == 0
    assert bad["path"] == str(tmp_path / "templates") and "not generated" in bad["error"] and bad["exit_code"] == 2

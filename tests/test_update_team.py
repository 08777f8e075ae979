"""Updates a team can trust: only new questions asked, pinned template, portable sources, stranded versions."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pexpect
import pytest
import yaml

from generator.cli import main
from generator.errors import ExitCode
from generator.fill.fallbacks import render_fallbacks
from tests.helpers import (
    GIT_IDENTITY,
    GREET_TEMPLATE,
    build_file_tree,
    init_template_repo,
    release_template,
    run,
)

QUESTIONS_V2 = """\
greeting:
  type: str
  default: hello
  when: "{{ template == 'mini' }}"
farewell:
  type: str
  help: How should the project say goodbye?
  default: bye
  when: "{{ template == 'mini' }}"
"""


def answers(project: Path) -> dict[str, object]:
    data = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert isinstance(data, dict)
    return data


def mini_template(root: Path, tag: str | None = "1.0.0") -> Path:
    """A template repository at `root` with the `mini` template, released as `tag` (None: untagged)."""
    includes = (Path(__file__).parent.parent / "includes" / "regions.jinja").read_text()
    spec = {"includes/regions.jinja": includes, "templates/mini/app.py.jinja": GREET_TEMPLATE}
    return init_template_repo(root, spec, tag=tag)


@pytest.fixture
def made(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    repo = mini_template(tmp_path / "templates")
    monkeypatch.chdir(tmp_path)
    assert main(["new", "mini", "demo", "--defaults", "-d", "greeting=hi", "--templates", str(repo)]) == 0
    capsys.readouterr()
    return repo, tmp_path / "demo"


def test_update_in_a_terminal_asks_only_the_new_question(made: tuple[Path, Path], tmp_path: Path) -> None:
    repo, demo = made
    release_template(repo, {"templates/mini/questions.yml": QUESTIONS_V2}, "1.1.0")
    env = {**os.environ, "HOME": str(tmp_path), "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
    child = pexpect.spawn(
        sys.executable, ["-m", "generator", "update", str(demo)], env=env, encoding="utf-8", timeout=60
    )
    asked: list[str] = []
    while child.expect([r"🎤[^\n]*?([A-Z][^\x1b\r\n]*)", pexpect.EOF]) == 0:
        text = child.match.group(1).strip()
        if text not in asked:
            asked.append(text)
            child.send("ciao\r")
    child.close()
    assert child.exitstatus == 0, child.before
    assert len(asked) == 1 and "How should the project say goodbye?" in asked[0], asked
    recorded = answers(demo)
    assert (recorded["farewell"], recorded["greeting"], recorded["template"]) == ("ciao", "hi", "mini")
    assert recorded["_commit"] == "1.1.0"


def test_update_without_a_terminal_gives_new_questions_their_defaults(
    made: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    repo, demo = made
    release_template(repo, {"templates/mini/questions.yml": QUESTIONS_V2}, "1.1.0")
    assert main(["update", str(demo)]) == 0
    out = capsys.readouterr().out
    assert "from template version 1.0.0 to 1.1.0" in out and "changed" in out
    assert answers(demo)["farewell"] == "bye" and answers(demo)["greeting"] == "hi"


def test_an_edited_template_answer_is_refused(made: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    repo, demo = made
    path = demo / ".copier-answers.yml"
    path.write_text(path.read_text().replace("template: mini", "template: other"))
    run(["git", *GIT_IDENTITY, "commit", "-q", "-am", "oops"], cwd=demo)
    before = path.read_text()

    assert main(["update", str(demo)]) == ExitCode.USAGE

    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "generated from 'mini'" in err and "template: mini" in err
    assert path.read_text() == before


def test_template_and_project_name_cannot_change_by_answer(
    made: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, demo = made
    assert main(["update", str(demo), "-d", "project_name=other"]) == ExitCode.USAGE
    assert "project_name cannot change in an update" in capsys.readouterr().err


def test_a_source_or_version_the_project_records_already_is_not_recorded_again(
    made: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    # The repair run twice (or given what the file holds) must update, not fail on an empty commit.
    repo, demo = made
    release_template(repo, {"templates/mini/CHANGELOG.md": "new\n"}, "1.1.0")
    recorded = answers(demo)
    head = run(["git", "rev-parse", "HEAD"], cwd=demo).stdout

    args = ["update", str(demo), "--source", str(recorded["_src_path"]), "--from", str(recorded["_commit"])]
    assert main(args) == 0, capsys.readouterr().err
    assert run(["git", "rev-parse", "HEAD"], cwd=demo).stdout == head  # no commit of its own
    assert answers(demo)["_commit"] == "1.1.0" and (demo / "CHANGELOG.md").is_file()


def test_a_new_source_with_credentials_in_its_url_is_refused_before_anything_is_recorded(
    made: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    # The answers file, and the commit that records the new source, would hold the token.
    _, demo = made
    token = "ghp_" + "Zq7" * 12
    head = run(["git", "rev-parse", "HEAD"], cwd=demo).stdout

    assert main(["update", str(demo), "--source", f"https://ci:{token}@git.example.com/home.git"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "--source https://ci@git.example.com/home.git has a token or password" in err and token not in err
    assert run(["git", "rev-parse", "HEAD"], cwd=demo).stdout == head
    assert not run(["git", "status", "--porcelain"], cwd=demo).stdout


def test_a_repair_that_is_no_release_or_no_template_is_refused_and_a_failed_update_takes_it_back(
    made: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, demo = made
    release_template(repo, {"templates/mini/CHANGELOG.md": "new\n"}, "1.1.0")
    head = run(["git", "rev-parse", "HEAD"], cwd=demo).stdout

    def unchanged() -> None:
        assert run(["git", "rev-parse", "HEAD"], cwd=demo).stdout == head
        assert not run(["git", "status", "--porcelain"], cwd=demo).stdout

    for flag in ("--source", "--from"):
        assert main(["update", str(demo), flag, ""]) == ExitCode.USAGE
        assert f"{flag} is empty; give it a value, or leave it out" in capsys.readouterr().err
    # A branch or HEAD is no release: ls-remote matched them as the end of a ref's name, and Copier then
    # merged from the newest version, dropping every template change in between without a word.
    for name in ("HEAD", "main"):
        assert main(["update", str(demo), "--from", name]) == ExitCode.USAGE
        assert f"--from {name}: {repo} has no such release" in capsys.readouterr().err
        unchanged()
    # Another repository with a tag of that name: no template repository, or not this project's template.
    other = tmp_path / "other"
    run(["git", "init", "-q", "-b", "main", str(other)])
    run(["git", *GIT_IDENTITY, "commit", "-q", "--allow-empty", "-m", "one"], cwd=other)
    run(["git", "tag", "1.0.0"], cwd=other)
    assert main(["update", str(demo), "--source", str(other)]) == ExitCode.USAGE
    assert f"--source {other} is no template repository (no copier.yml" in capsys.readouterr().err
    unchanged()
    stranger = init_template_repo(tmp_path / "stranger", {"templates/other/x.txt": "x\n"}, tag=None)
    shutil.rmtree(stranger / "templates" / "mini")
    run(["git", *GIT_IDENTITY, "commit", "-q", "-am", "another team's"], cwd=stranger)
    run(["git", "tag", "1.0.0"], cwd=stranger)
    assert main(["update", str(demo), "--source", str(stranger)]) == ExitCode.USAGE
    assert "has no template 'mini' (it has: other); nothing was recorded" in capsys.readouterr().err
    unchanged()
    # A repair whose update then fails is taken back with it: no commit recording it is left.
    from copier import errors as copier_errors_module

    def failing(*args: Any, **kwargs: Any) -> None:
        raise copier_errors_module.CopierError("the template broke")

    # An answer refused is refused before the repair is recorded.
    assert main(["update", str(demo), "--from", "1.1.0", "-d", "nosuch=1"]) == ExitCode.USAGE
    capsys.readouterr()
    unchanged()
    monkeypatch.setattr("copier.run_update", failing)
    assert main(["update", str(demo), "--from", "1.1.0"]) != 0
    assert "the template broke" in capsys.readouterr().err
    unchanged()


def test_check_names_a_source_recorded_with_credentials_without_showing_them(
    made: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    # Recorded so by scaffold before it left them out: the project's history holds them already.
    _, demo = made
    token = "ghp_" + "Zq7" * 12
    path = demo / ".copier-answers.yml"
    recorded = yaml.safe_load(path.read_text())["_src_path"]
    path.write_text(
        path.read_text().replace(f"_src_path: {recorded}", f"_src_path: https://ci:{token}@127.0.0.1:9/t.git")
    )
    run(["git", *GIT_IDENTITY, "commit", "-q", "-am", "recorded with a token"], cwd=demo)

    assert main(["check", str(demo)]) == ExitCode.EXTERNAL  # port 9 refuses at once
    out = capsys.readouterr().out
    assert token not in out and "from https://ci@127.0.0.1:9/t.git" in out
    assert "scaffold update --source https://ci@127.0.0.1:9/t.git" in out
    assert main(["check", "--json", str(demo)]) == ExitCode.EXTERNAL
    [entry] = json.loads(capsys.readouterr().out)
    assert entry["credentials_recorded"] is True and token not in json.dumps(entry)
    # An update cannot read it either, and says so rather than send the user to --from.
    assert main(["update", str(demo)]) != 0
    err = capsys.readouterr().err
    assert "cannot read the template source https://ci@127.0.0.1:9/t.git" in err and token not in err


def test_a_source_recorded_with_copiers_git_plus_prefix_is_checked_and_updated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # `git+https://...` is how Copier is told a URL is git's; git itself reads `git+https` as a helper's name.
    repo = mini_template(tmp_path / "templates")
    monkeypatch.chdir(tmp_path)
    assert main(["new", "mini", "demo", "--defaults", "--templates", f"git+file://{repo}"]) == 0
    demo = tmp_path / "demo"
    assert answers(demo)["_src_path"] == f"git+file://{repo}"
    # Copier needs the `git+` here (the URL does not end in .git): the fill's baseline renders with it.
    assert render_fallbacks(demo, answers(demo)) == {"app.py#greet": '\n    return "hello"\n'}
    release_template(repo, {"templates/mini/CHANGELOG.md": "new\n"}, "1.1.0")
    capsys.readouterr()

    main(["check", "--json", str(demo)])  # behind, and its region unfilled: not 0
    [entry] = json.loads(capsys.readouterr().out)
    assert entry["unreachable"] is None and entry["newest"] == "1.1.0" and entry["behind"], entry
    assert main(["update", str(demo)]) == 0, capsys.readouterr().err
    assert answers(demo)["_commit"] == "1.1.0" and (demo / "CHANGELOG.md").is_file()


def test_a_version_missing_at_the_source_says_how_out(
    made: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    repo, demo = made
    path = demo / ".copier-answers.yml"
    path.write_text(path.read_text().replace("_commit: 1.0.0", "_commit: 0.2.0.post1+dirty"))
    run(["git", *GIT_IDENTITY, "commit", "-q", "-am", "stranded"], cwd=demo)
    release_template(repo, {"templates/mini/CHANGELOG.md": "new\n"}, "1.1.0")

    assert main(["update", str(demo)]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "records template version 0.2.0.post1+dirty" in err and "scaffold update --from VERSION" in err

    assert main(["update", str(demo), "--from", "1.0.0"]) == 0
    assert answers(demo)["_commit"] == "1.1.0" and (demo / "CHANGELOG.md").is_file()


def test_a_home_with_a_remote_updates_on_a_teammates_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Made from a home with an origin remote; a teammate clones the home elsewhere, the first copy is gone."""
    home = mini_template(tmp_path / "me" / "home")
    shared = tmp_path / "server" / "team-home.git"
    run(["git", "clone", "-q", "--bare", str(home), str(shared)])
    run(["git", "remote", "add", "origin", str(shared)], cwd=home)
    run(["git", "fetch", "-q", "origin"], cwd=home)
    monkeypatch.chdir(tmp_path)
    assert main(["new", "mini", "demo", "--defaults", "--templates", str(home)]) == 0
    assert answers(tmp_path / "demo")["_src_path"] == str(shared)

    # The teammate's machine: the first home is gone; a release reaches the shared repository.
    shutil.rmtree(tmp_path / "me")
    teammate = tmp_path / "teammate" / "elsewhere"
    run(["git", "clone", "-q", str(shared), str(teammate)])
    release_template(teammate, {"templates/mini/CHANGELOG.md": "new in 1.1.0\n"}, "1.1.0")
    run(["git", "push", "-q", "origin", "main", "--tags"], cwd=teammate)
    clone = tmp_path / "teammate" / "demo"
    run(["git", "clone", "-q", str(tmp_path / "demo"), str(clone)])
    capsys.readouterr()

    assert main(["update", str(clone)]) == 0
    assert answers(clone)["_commit"] == "1.1.0" and (clone / "CHANGELOG.md").is_file()

    copier = Path(sys.executable).with_name("copier")
    second = tmp_path / "teammate" / "demo2"
    run(["git", "clone", "-q", str(tmp_path / "demo"), str(second)])
    run([copier, "update", "--defaults"], cwd=second)
    assert answers(second)["_commit"] == "1.1.0"


def test_a_home_whose_remote_lacks_the_tag_rendered_is_recorded_by_path_and_said_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The branch pushed, not its tag: Copier records the tag, which teammates could not fetch from there."""
    home = mini_template(tmp_path / "me" / "home")
    shared = tmp_path / "server" / "team-home.git"
    run(["git", "init", "-q", "--bare", "-b", "main", str(shared)])
    run(["git", "remote", "add", "origin", str(shared)], cwd=home)
    run(["git", "push", "-q", "origin", "main"], cwd=home)  # as `git push -u origin main` does: no tags
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()

    assert main(["new", "mini", "demo", "--defaults", "--templates", str(home)]) == 0

    assert answers(tmp_path / "demo")["_src_path"] == str(home.resolve())
    out = " ".join(capsys.readouterr().out.split())
    assert (
        f"its remote {shared} has no 1.0.0 (not pushed?), so teammates and CI could not update from there. "
        f"In the home, push it: git push origin 1.0.0; then run 'scaffold update --source {shared}' in the project."
    ) in out

    run(["git", "push", "-q", "origin", "--tags"], cwd=home)
    assert main(["new", "mini", "demo2", "--defaults", "--templates", str(home)]) == 0
    assert answers(tmp_path / "demo2")["_src_path"] == str(shared)
    assert "local path" not in capsys.readouterr().out


def test_a_home_with_unpushed_commits_past_its_pushed_tag_records_the_remote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Copier renders the newest tag, not the home's HEAD: a decision committed and not pushed yet
    (HEAD is `1.0.0-1-gHASH`) changes nothing of what the project needs from the remote."""
    home = mini_template(tmp_path / "me" / "home")
    shared = tmp_path / "server" / "team-home.git"
    run(["git", "clone", "-q", "--bare", str(home), str(shared)])
    run(["git", "remote", "add", "origin", str(shared)], cwd=home)
    (home / "context").mkdir()
    (home / "context" / "0009-decision.md").write_text("# Not pushed yet\n")
    run(["git", "add", "-A"], cwd=home)
    run(["git", *GIT_IDENTITY, "commit", "-q", "-m", "a decision"], cwd=home)
    monkeypatch.chdir(tmp_path)

    assert main(["new", "mini", "demo", "--defaults", "--templates", str(home)]) == 0

    assert answers(tmp_path / "demo") == {**answers(tmp_path / "demo"), "_src_path": str(shared), "_commit": "1.0.0"}
    assert "local path" not in capsys.readouterr().out


def test_list_shows_the_tag_new_projects_get_and_a_head_past_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Copier renders the newest release tag: `list` showed `git describe` of HEAD, which no project gets."""
    home = mini_template(tmp_path / "home")
    release_template(home, {"templates/mini/CHANGELOG.md": "a pre-release\n"}, "1.1.0rc1")
    build_file_tree(home, {"templates/mini/NOTES.md": "not released yet\n"})
    run(["git", "add", "-A"], cwd=home)
    run(["git", *GIT_IDENTITY, "commit", "-q", "-m", "untagged"], cwd=home)
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()

    assert main(["list", "--templates", str(home)]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    head = r"1\.1\.0rc1-1-g[0-9a-f]+"  # a pre-release and a commit past it: neither is what new projects get
    assert re.search(rf", version 1\.0\.0 \(the newest release, which new projects get; HEAD is at {head}\):$", first)

    assert main(["new", "mini", "demo", "--defaults", "--templates", str(home)]) == 0
    assert answers(tmp_path / "demo")["_commit"] == "1.0.0" and not (tmp_path / "demo" / "NOTES.md").exists()
    run(["git", "tag", "1.1.0"], cwd=home)
    run(["git", *GIT_IDENTITY, "tag", "-a", "-m", "deployed", "deployed-2024-06"], cwd=home)
    capsys.readouterr()
    # HEAD is the release, whatever other tag `git describe` prefers for it (an annotated one).
    assert main(["list", "--templates", str(home)]) == 0
    assert capsys.readouterr().out.splitlines()[0].endswith(", version 1.1.0:")


@pytest.mark.parametrize("case", ["unreachable", "tag moved", "no tags, commit not pushed", "relative remote"])
def test_a_home_remote_is_recorded_only_when_it_serves_the_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    """What `scaffold new` records, and says, for a home's `origin` in the ways it can fail a teammate (adversary)."""
    home = mini_template(tmp_path / "me" / "home", tag=None if case == "no tags, commit not pushed" else "1.0.0")
    shared = tmp_path / "server" / "team-home.git"
    run(["git", "clone", "-q", "--bare", str(home), str(shared)])
    if case == "relative remote":
        run(["git", "remote", "add", "origin", "../../server/team-home.git"], cwd=home)
    else:
        run(["git", "remote", "add", "origin", str(shared)], cwd=home)
    run(["git", "fetch", "-q", "origin"], cwd=home)
    if case == "unreachable":
        shared.rename(tmp_path / "server" / "gone.git")
    elif case == "tag moved":
        release_template(home, {"templates/mini/NOTES.md": "later\n"}, "1.0.0-ignored")
        run(["git", "tag", "-f", "1.0.0"], cwd=home)
    elif case == "no tags, commit not pushed":
        release_template(home, {"templates/mini/NOTES.md": "later\n"}, "not-a-version")
        run(["git", "tag", "-d", "not-a-version"], cwd=home)  # the tracking branch is stale: the remote was never asked
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()

    assert main(["new", "mini", "demo", "--defaults", "--templates", str(home)]) == 0

    recorded = answers(tmp_path / "demo")["_src_path"]
    out = " ".join(capsys.readouterr().out.split())
    if case == "relative remote":  # recorded where it is, not as a path that means something else from a project
        assert recorded == str(shared.resolve()) and "local path" not in out
        return
    assert recorded == str(home.resolve())
    said = {
        "unreachable": "could not be asked for it (git ls-remote",
        "tag moved": "has another 1.0.0 (moved since it was pushed), so teammates and CI could not update from there. "
        "In the home, tag a new release instead (or git push --force origin 1.0.0)",
        "no tags, commit not pushed": "has no branch holding ",
    }[case]
    assert f"its remote {shared} {said}" in out, out


def test_source_repoints_a_project_whose_home_moved(
    made: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo, demo = made
    moved = repo.rename(tmp_path / "moved-home")
    release_template(moved, {"templates/mini/CHANGELOG.md": "new\n"}, "1.1.0")
    # The machine's state, not the command's input: exit 5, as check says it.
    assert main(["update", str(demo)]) == ExitCode.EXTERNAL
    # Git's own words say only that the path is no repository; the line ends with the way out.
    hint = "if it moved, point the project at its new place: scaffold update --source URL_OR_PATH"
    assert capsys.readouterr().err.rstrip().endswith(hint)
    assert main(["check", str(demo)]) == ExitCode.EXTERNAL
    assert hint in capsys.readouterr().out

    # A mistyped repair is the user's input (exit 2), and nothing of it is recorded or committed.
    head = run(["git", "rev-parse", "HEAD"], cwd=demo).stdout
    typo = tmp_path / "moved-hmoe"
    assert main(["update", str(demo), "--source", str(typo)]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert f"cannot read --source {typo}: " in err and err.rstrip().endswith("; nothing was recorded")
    assert hint not in err
    assert main(["update", str(demo), "--source", str(moved), "--from", "1.0.9"]) == ExitCode.USAGE
    assert f"--from 1.0.9: {moved} has no such release" in capsys.readouterr().err
    assert run(["git", "rev-parse", "HEAD"], cwd=demo).stdout == head
    assert not run(["git", "status", "--porcelain"], cwd=demo).stdout

    # A project that records no version is checked too: a mistyped source is still not recorded.
    path = demo / ".copier-answers.yml"
    path.write_text("".join(line for line in path.read_text().splitlines(True) if not line.startswith("_commit:")))
    run(["git", *GIT_IDENTITY, "commit", "-q", "-am", "no version"], cwd=demo)
    head = run(["git", "rev-parse", "HEAD"], cwd=demo).stdout
    assert main(["update", str(demo), "--source", str(typo)]) == ExitCode.USAGE
    assert f"cannot read --source {typo}: " in capsys.readouterr().err
    assert run(["git", "rev-parse", "HEAD"], cwd=demo).stdout == head
    run(["git", *GIT_IDENTITY, "revert", "--no-edit", "HEAD"], cwd=demo)

    assert main(["update", str(demo), "--source", str(moved)]) == 0

    assert answers(demo)["_src_path"] == str(moved) and answers(demo)["_commit"] == "1.1.0"
    log = run(["git", "log", "--format=%s"], cwd=demo).stdout
    assert "Record the template's source" in log


@pytest.mark.parametrize(
    "args",
    [
        ["new-service", "svc", "--defaults"],
        ["new-service", "svc", "--defaults", "--no-git"],
        ["update", "demo"],
        ["check", "demo"],
        ["init", "home"],
    ],
    ids=["new", "new-no-git", "update", "check", "init"],
)
def test_missing_git_is_one_message_everywhere(
    made: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
) -> None:
    empty = tmp_path / "no-git-here"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    capsys.readouterr()

    assert main(args) == ExitCode.EXTERNAL

    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "scaffold needs git 2.27 or newer on PATH" in err, err
    assert "--no-git" not in err and "template source" not in err
    assert not (tmp_path / "svc").exists() and not (tmp_path / "home").exists()


@pytest.mark.parametrize("command", ["update", "check"])
def test_an_answers_file_cannot_smuggle_git_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """`_src_path: --upload-pack=...` would make `git ls-remote` run a command: refused before git sees it."""
    evil = tmp_path / "evil"
    evil.mkdir()
    marker = tmp_path / "PWNED"
    (evil / ".copier-answers.yml").write_text(
        f"_src_path: '--upload-pack=sh -c \"touch {marker}\" #'\n_commit: .\ntemplate: service\n"
    )
    run(["git", "init", "-q"], cwd=evil)
    run(["git", "add", "-A"], cwd=evil)
    run(["git", *GIT_IDENTITY, "commit", "-q", "-m", "init"], cwd=evil)
    monkeypatch.chdir(evil)

    assert main([command]) == ExitCode.USAGE

    assert not marker.exists()
    assert "is not a template source or version" in capsys.readouterr().err


def test_an_interrupted_update_in_a_larger_repository_keeps_work_outside_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from generator.plumbing.transaction import fault_hook

    repo = mini_template(tmp_path / "templates")
    mono = tmp_path / "mono"
    mono.mkdir()
    run(["git", "init", "-q", "-b", "main"], cwd=mono)
    (mono / "notes.txt").write_text("committed\n")
    monkeypatch.chdir(mono)
    assert main(["new", "mini", "svc", "--defaults", "--templates", str(repo)]) == 0
    run(["git", "add", "-A"], cwd=mono)
    run(["git", *GIT_IDENTITY, "commit", "-q", "-m", "monorepo"], cwd=mono)
    release_template(repo, {"templates/mini/CHANGELOG.md": "new\n"}, "1.1.0")

    def edit_elsewhere_then_interrupt(point: str, details: object) -> None:
        if point == "update.merged":
            (mono / "notes.txt").write_text("my edit, made while the update ran\n")
            raise KeyboardInterrupt

    with fault_hook(edit_elsewhere_then_interrupt):
        code = main(["update", "svc"])

    assert code == 130
    assert (mono / "notes.txt").read_text() == "my edit, made while the update ran\n"
    assert not (mono / "svc" / "CHANGELOG.md").exists()

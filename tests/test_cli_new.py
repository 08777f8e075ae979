"""`scaffold new-*` end to end with real Copier and git: what is written, and what is refused."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.cli import main
from generator.plumbing.transaction import fault_hook
from tests.conftest import Cli
from tests.helpers import GIT_IDENTITY, REPO_ROOT, build_file_tree, init_template_repo, run, tree_snapshot


def test_new_service_renders_commits_and_records_answers(cli: Cli, tmp_path: Path) -> None:
    code, out, err = cli("new-service", "payments", "--defaults", "-d", "port=9090", "-d", "owner=payments-team")
    assert code == 0, err
    project = tmp_path / "work" / "payments"
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["template"] == "service"
    assert answers["project_name"] == "payments"
    assert answers["port"] == 9090
    assert answers["owner"] == "payments-team"
    assert answers["_src_path"] == str(REPO_ROOT)
    assert answers["_commit"]
    log = run(["git", "log", "--format=%an <%ae>|%s"], cwd=project).stdout.splitlines()
    assert log == ["scaffold <scaffold@localhost>|Render the service template (" + log[0].split("(", 1)[1]]
    assert run(["git", "status", "--porcelain"], cwd=project).stdout == ""
    assert "Created" in out and "Committed the render" in out
    assert not [p for p in (tmp_path / "work").iterdir() if p.name.startswith(".")], "staging folder left behind"


def test_dest_no_git_and_data_file(cli: Cli, tmp_path: Path) -> None:
    data = tmp_path / "answers.json"
    data.write_text(json.dumps({"description": "Reconciles payouts nightly.", "include_docker": False}))
    code, _, err = cli(
        "new-service", "payouts", "--dest", "../elsewhere/payouts", "--defaults", "--data-file", str(data), "--no-git"
    )
    assert code == 0, err
    project = tmp_path / "elsewhere" / "payouts"
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["description"] == "Reconciles payouts nightly."
    assert answers["include_docker"] is False
    assert not (project / ".git").exists()


def test_inside_an_existing_repository_no_nested_git(cli: Cli, tmp_path: Path) -> None:
    run(["git", "init", "-q"], cwd=tmp_path / "work")
    code, out, err = cli("new-service", "inner", "--defaults")
    assert code == 0, err
    assert not (tmp_path / "work" / "inner" / ".git").exists()
    assert "inside the git repository" in out


def test_force_renders_into_non_empty_folder_and_keeps_other_files(cli: Cli, tmp_path: Path) -> None:
    dest = tmp_path / "work" / "svc"
    build_file_tree(dest, {"NOTES.md": "mine\n"})
    code, _, err = cli("new-service", "svc", "--defaults", "--force", "--no-git")
    assert code == 0, err
    assert (dest / "NOTES.md").read_text() == "mine\n"
    assert (dest / ".copier-answers.yml").is_file()


def test_empty_existing_destination_is_fine(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "work" / "svc").mkdir()
    code, _, err = cli("new-service", "svc", "--defaults")
    assert code == 0, err
    assert (tmp_path / "work" / "svc" / ".git").is_dir()


def test_custom_template_source_by_flag_and_environment(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = init_template_repo(tmp_path / "team-templates", {})
    code, _, err = cli("new", "mini", "one", "--defaults", "--templates", str(repo), "-d", "greeting=hi")
    assert code == 0, err
    assert (tmp_path / "work" / "one" / "README.md").read_text() == "# one\n\nhi\n"
    monkeypatch.setenv("SCAFFOLD_TEMPLATES", str(repo))
    code, out, err = cli("list")
    assert code == 0, err
    assert "mini" in out and "a minimal template" in out and "1.0.0" in out
    code, _, err = cli("new", "mini", "two", "--defaults")
    assert code == 0, err
    answers = yaml.safe_load((tmp_path / "work" / "two" / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "1.0.0"
    assert answers["_src_path"] == str(repo)


def test_list_shows_the_four_templates_and_questions(cli: Cli) -> None:
    code, out, err = cli("list", "--questions", "service")
    assert code == 0, err
    for name in ("service", "api", "infra", "script"):
        assert f"scaffold new-{name}" in out
    assert "port (int)" in out and "project_name" in out


def test_interrupt_after_render_leaves_nothing(cli: Cli, tmp_path: Path) -> None:
    def interrupted(point: str, details: Mapping[str, object]) -> None:
        if point == "render.commit":  # rendered in the staging folder, about to commit
            raise KeyboardInterrupt

    before = tree_snapshot(tmp_path)
    with fault_hook(interrupted):
        code, _, err = cli("new-service", "svc", "--defaults")
    assert code == 130
    assert err == "scaffold: interrupted; nothing partial was left behind\n"
    assert tree_snapshot(tmp_path) == before


def test_template_without_an_answers_file_is_refused_clearly(cli: Cli, tmp_path: Path) -> None:
    repo = init_template_repo(tmp_path / "tpl", {})
    run(["git", "rm", "-q", "templates/mini/{{_copier_conf.answers_file}}.jinja"], cwd=repo)
    run(["git", *GIT_IDENTITY, "commit", "-q", "-m", "no answers file"], cwd=repo)
    run(["git", "tag", "1.1.0"], cwd=repo)  # Copier renders the newest tag
    before = tree_snapshot(tmp_path / "work")
    code, _, err = cli("new", "mini", "x", "--defaults", "--templates", str(repo))
    assert code == 2 and err.count("\n") == 1
    assert "the mini template writes no .copier-answers.yml" in err
    assert "templates/mini/{{_copier_conf.answers_file}}.jinja" in err and ".scaffold-" not in err
    assert tree_snapshot(tmp_path / "work") == before


def test_template_render_failure_leaves_nothing(cli: Cli, tmp_path: Path) -> None:
    repo = init_template_repo(
        tmp_path / "broken", {"templates/mini/zz-broken.txt.jinja": "{{ project_name | no_such_filter }}\n"}
    )
    before = tree_snapshot(tmp_path / "work")
    code, _, err = cli("new", "mini", "x", "--defaults", "--templates", str(repo), "--dest", "deep/er/x")
    assert code in (2, 5)
    assert err.startswith("scaffold: error: ") and err.count("\n") == 1
    assert tree_snapshot(tmp_path / "work") == before


BAD_NAMES = ["../x", "/abs", "a b", "", "x" * 300, "café", "Payments", "-x", "a--b", "."]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_names_are_refused_and_nothing_is_written(cli: Cli, tmp_path: Path, name: str) -> None:
    before = tree_snapshot(tmp_path)
    code, out, err = cli("new-service", "--defaults", "--", name)
    assert code == 2
    assert out == ""
    assert err.startswith("scaffold: error: ") and err.count("\n") == 1, err
    assert "project name" in err
    assert tree_snapshot(tmp_path) == before


def _work_tree(tmp_path: Path) -> dict[str, bytes]:
    return tree_snapshot(tmp_path / "work")


BAD_INPUTS: list[tuple[list[str], str]] = [
    (["new-service", "svc", "--defaults", "-d", "port"], "malformed --data 'port': expected KEY=VALUE"),
    (["new-service", "svc", "--defaults", "-d", "=x"], "malformed --data '=x'"),
    (["new-service", "svc", "--defaults", "-d", "colour=red"], "unknown answer 'colour' for template 'service'"),
    (["new-service", "svc", "--defaults", "-d", "port=abc"], "answer for 'port' must be an integer, got 'abc'"),
    (["new-service", "svc", "--defaults", "-d", "port=80"], "invalid answer for 'port': must be between 1024"),
    (["new-service", "svc", "--defaults", "-d", "python_version=2.7"], "must be one of: 3.11, 3.12, 3.13, 3.14"),
    (["new-service", "svc", "--defaults", "-d", "include_docker=maybe"], "must be true or false"),
    (["new-service", "svc", "--defaults", "-d", "description="], "invalid answer for 'description': must not be empty"),
    (["new-service", "svc", "--defaults", "-d", "project_name=other"], "contradicts NAME 'svc'"),
    (["new-service", "svc", "--defaults", "--data-file", "missing.yml"], "--data-file missing.yml does not exist"),
    (["new", "nope", "svc", "--defaults"], "unknown template 'nope'; available: service, api, infra, script"),
    (
        ["new-service", "svc", "--defaults", "--templates", "/no/such/dir"],
        "template source '/no/such/dir' (from --templates) does not exist",
    ),
    (["new-service", "svc"], "no terminal to ask description, owner"),
    (["new-service"], "the following arguments are required: NAME"),
    (["new-api", "shop", "--defaults", "-d", "resources=Orders!"], "invalid answer for 'resources'"),
    (["new-api", "shop", "--defaults", "-d", "resources="], "rejected: (empty)"),
    (["new-api", "shop", "--defaults", "-d", "auth=basic"], "must be one of: none, api-key, jwt"),
    (["new-infra", "net", "--defaults", "-d", "cloud=foo"], "answer for 'cloud' must be one of: aws, gcp, azure"),
    (
        ["new-infra", "net", "--defaults", "-d", "cloud=gcp", "-d", "module_kind=container"],
        "only available for cloud=aws",
    ),
    (["new-infra", "net", "--defaults", "-d", "port=8080"], "unknown answer 'port' for template 'infra'"),
    (["new-script", "x", "--defaults", "-d", "language=ruby"], "must be one of: python, bash"),
    (["frobnicate"], "unknown command 'frobnicate'"),
]


@pytest.mark.parametrize(("args", "message"), BAD_INPUTS, ids=[" ".join(a) for a, _ in BAD_INPUTS])
def test_bad_input_one_line_exit_2_nothing_written(cli: Cli, tmp_path: Path, args: list[str], message: str) -> None:
    before = _work_tree(tmp_path)
    code, out, err = cli(*args)
    assert code == 2
    assert err.startswith("scaffold: error: ") and err.count("\n") == 1, err
    assert message in err
    assert _work_tree(tmp_path) == before


def test_existing_non_empty_destination_is_refused(cli: Cli, tmp_path: Path) -> None:
    build_file_tree(tmp_path / "work" / "svc", {"keep.txt": "precious\n"})
    before = _work_tree(tmp_path)
    code, _, err = cli("new-service", "svc", "--defaults")
    assert code == 2
    assert "already exists and is not empty" in err and "--force" in err
    assert _work_tree(tmp_path) == before


def test_destination_that_is_a_link_to_nothing_is_refused_not_created_at_its_target(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "work").mkdir(exist_ok=True)
    (tmp_path / "work" / "svc").symlink_to(tmp_path / "elsewhere")
    code, _, err = cli("new-service", "svc", "--defaults")
    assert code == 2 and "is a symlink to" in err and "which does not exist" in err
    assert not (tmp_path / "elsewhere").exists()


def test_destination_that_is_a_file_is_refused(cli: Cli, tmp_path: Path) -> None:
    build_file_tree(tmp_path / "work", {"svc": "a file\n"})
    before = _work_tree(tmp_path)
    code, _, err = cli("new-service", "svc", "--defaults", "--force")
    assert code == 2 and "is not a folder" in err
    assert _work_tree(tmp_path) == before


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"README.md": "not a template\n"}, "has no copier.yml at its root"),
        ({"copier.yml": "template: [unclosed\n", "templates/x/a.txt": "x"}, "cannot read"),
    ],
)
def test_broken_template_sources(cli: Cli, tmp_path: Path, files: dict[str, str], message: str) -> None:
    build_file_tree(tmp_path / "src", files)
    before = _work_tree(tmp_path)
    code, _, err = cli("new-service", "svc", "--defaults", "--templates", str(tmp_path / "src"))
    assert code == 2
    assert message in err and err.count("\n") == 1
    assert _work_tree(tmp_path) == before


def test_unreachable_git_url(cli: Cli, tmp_path: Path) -> None:
    before = _work_tree(tmp_path)
    code, _, err = cli("list", "--templates", f"file://{tmp_path}/nowhere.git")
    assert code == 2
    assert "cannot fetch templates from" in err
    assert _work_tree(tmp_path) == before


def test_malformed_data_files(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "work" / "bad.yml").write_text("a: [1,\n")
    (tmp_path / "work" / "list.yml").write_text("- a\n- b\n")
    code, _, err = cli("new-service", "svc", "--defaults", "--data-file", "bad.yml")
    assert code == 2 and "is not valid YAML" in err
    code, _, err = cli("new-service", "svc", "--defaults", "--data-file", "list.yml")
    assert code == 2 and "must hold one mapping" in err
    assert not (tmp_path / "work" / "svc").exists()


def test_debug_shows_tracebacks(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCAFFOLD_DEBUG", "1")
    with pytest.raises(Exception, match="project name"):
        cli("new-service", "Bad Name")


def test_unreadable_parent_is_refused(cli: Cli, tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root can write anywhere")
    locked = tmp_path / "work" / "locked"
    locked.mkdir(mode=0o500)
    code, _, err = cli("new-service", "svc", "--defaults", "--dest", str(locked / "svc"))
    assert code == 2 and "cannot write to" in err


def test_unwritable_parent_is_refused_even_for_root(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above, for any user (root included): the parent is made unwritable by faking os.access for it alone."""
    locked = (tmp_path / "work" / "locked").resolve()
    locked.mkdir(mode=0o500)
    real_access = os.access

    def access(path: Any, mode: int, **kwargs: Any) -> bool:
        if os.fspath(path) == str(locked):
            return False
        return real_access(path, mode, **kwargs)

    monkeypatch.setattr("generator.template.render.os.access", access)
    before = tree_snapshot(tmp_path)
    code, _, err = cli("new-service", "svc", "--defaults", "--dest", str(locked / "svc"))
    assert code == 2, err
    assert f"cannot write to {locked}" in err and err.count("\n") == 1
    assert tree_snapshot(tmp_path) == before


def test_dest_with_dot_dot_is_the_real_folder_and_is_refused_when_not_empty(cli: Cli, tmp_path: Path) -> None:
    work = tmp_path / "work"
    build_file_tree(work, {"README.md": "MY README\n", "Makefile": "mine\n"})
    before = tree_snapshot(tmp_path)
    for dest in ("newdir/..", ".", ".."):
        code, _, err = cli("new-service", "demo", "--defaults", "--dest", dest)
        assert code == 2, err
        assert "not empty" in err or "cannot be a project folder" in err
    assert tree_snapshot(tmp_path) == before


def test_force_never_writes_through_symlinks(cli: Cli, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    proj = tmp_path / "work" / "proj"
    build_file_tree(proj, {"keep": "mine\n"})
    (proj / "src").symlink_to(outside)
    before = tree_snapshot(tmp_path)
    code, _, err = cli("new-service", "demo", "--defaults", "--dest", str(proj), "--force")
    assert code == 2 and "symbolic link" in err
    assert tree_snapshot(tmp_path) == before
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize(
    "clash", [{"README.md/x": "a folder where a file goes\n"}, {"src": "a file where a folder goes\n"}]
)
def test_force_with_file_folder_clash_changes_nothing(cli: Cli, tmp_path: Path, clash: dict[str, str]) -> None:
    proj = tmp_path / "work" / "proj"
    build_file_tree(proj, clash)
    before = tree_snapshot(tmp_path)
    code, _, err = cli("new-service", "demo", "--defaults", "--dest", str(proj), "--force", "--no-git")
    assert code == 2 and "move it away first" in err
    assert tree_snapshot(tmp_path) == before


def test_dest_that_is_a_link_to_an_empty_folder(cli: Cli, tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "work" / "link").symlink_to(real)
    code, _, err = cli("new-service", "demo", "--defaults", "--dest", "link")
    assert code == 0, err
    assert (real / ".copier-answers.yml").is_file()


def test_data_file_values_are_cast_like_flags(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "work" / "ok.yml").write_text("python_version: 3.12\nport: 8080\ninclude_docker: no\n")
    code, _, err = cli("new-service", "svc", "--defaults", "--data-file", "ok.yml", "--no-git")
    assert code == 0, err
    answers = yaml.safe_load((tmp_path / "work" / "svc" / ".copier-answers.yml").read_text())
    assert (answers["python_version"], answers["port"], answers["include_docker"]) == ("3.12", 8080, False)
    (tmp_path / "work" / "bad.yml").write_text("port: 8080.5\n")
    code, _, err = cli("new-service", "other", "--defaults", "--data-file", "bad.yml")
    assert code == 2 and "must be an integer, got 8080.5" in err


def test_list_unknown_questions_template_prints_nothing(cli: Cli) -> None:
    code, out, err = cli("list", "--questions", "nope")
    assert code == 2 and out == "" and "unknown template 'nope'" in err


def test_unreachable_git_url_names_gits_reason(cli: Cli, tmp_path: Path) -> None:
    code, _, err = cli("new-service", "svc", "--defaults", "--templates", f"file://{tmp_path}/missing.git")
    assert code == 2
    assert "fatal:" in err and err.count("\n") == 1


@pytest.mark.parametrize("form", ["bare", "bundle", "file-url", "git+file-url", "git+path"])
def test_git_sources_without_a_work_tree(cli: Cli, tmp_path: Path, form: str) -> None:
    repo = init_template_repo(tmp_path / "tpl", {})
    if form == "bundle":
        source = tmp_path / "tpl.bundle"
        run(["git", "bundle", "create", "-q", source, "--all"], cwd=repo)
    else:
        source = tmp_path / "tpl.git"
        run(["git", "clone", "-q", "--bare", repo, source])
    # Copier takes `git+` before any URL (`git+https://...`); scaffold's own clone must too.
    url = {"file-url": f"file://{source}", "git+file-url": f"git+file://{source}", "git+path": f"git+{source}"}.get(
        form, str(source)
    )
    code, _, err = cli("new", "mini", "one", "--defaults", "--templates", url)
    assert code == 0, err
    answers = yaml.safe_load((tmp_path / "work" / "one" / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "1.0.0"


def test_a_closed_pipe_is_not_an_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """`scaffold context ... | head -1`: the reader stops early; scaffold must not print a traceback or fail."""
    import io
    import os

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone: every write now fails with EPIPE
    stdout = io.TextIOWrapper(open(write_end, "wb"), write_through=True)  # noqa: SIM115
    monkeypatch.setattr("sys.stdout", stdout)
    try:
        assert main(["context", "add a /refunds endpoint to the billing API"]) == 0
    finally:
        stdout.close()

"""Reading a template source's copier.yml without Copier: `!include` as Copier allows it, git errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from generator.cli import main
from generator.errors import TemplateSourceError
from generator.plumbing import gitutil
from generator.template import source as source_module
from generator.template.render import copier_errors, git_location, read_answers, source_location
from generator.template.source import TemplateSource, load_repo_config, portable_source
from tests.helpers import build_file_tree, init_template_repo, run

Cli = Callable[..., tuple[int, str, str]]

COPIER_YML = """\
    _subdirectory: "templates/{{ template }}"
    template:
      type: str
      choices: [mini]
    project_name:
      type: str
    ---
    !include %s
    """


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def _repo(tmp_path: Path, include: str) -> Path:
    return init_template_repo(tmp_path / "repo", {"copier.yml": COPIER_YML % include})


def test_glob_includes_inside_the_repository_are_read(tmp_path: Path) -> None:
    repo = init_template_repo(
        tmp_path / "repo",
        {
            "copier.yml": COPIER_YML % "shared/*.yml",
            "shared/a.yml": "owner:\n  type: str\n  default: team-a\n",
            "shared/b.yml": "!include shared/nested/*.yml\n",
            "shared/nested/c.yml": "port:\n  type: int\n  default: 8000\n",
        },
    )
    questions = load_repo_config(repo).questions("mini")
    assert questions["owner"].default == "team-a"
    assert questions["port"].default == 8000


@pytest.mark.parametrize("include", ["/etc/passwd", "/etc/*.conf"])
def test_an_absolute_include_is_refused(tmp_path: Path, cli: Cli, include: str) -> None:
    repo = _repo(tmp_path, include)
    with pytest.raises(TemplateSourceError) as caught:
        load_repo_config(repo)
    assert str(caught.value) == (
        f"{repo / 'copier.yml'}: '!include {include}' is an absolute path; "
        f"include files by their path relative to {repo}"
    )
    code, _, err = cli("list", "--templates", str(repo))
    assert code == 2 and "is an absolute path" in err and err.count("\n") == 1


@pytest.mark.parametrize("include", ["../outside.yml", "../*.yml", "linked.yml"])
def test_an_include_outside_the_repository_is_refused(tmp_path: Path, cli: Cli, include: str) -> None:
    build_file_tree(tmp_path, {"outside.yml": "secret:\n  default: from outside\n"})
    repo = _repo(tmp_path, include)
    (repo / "linked.yml").symlink_to(tmp_path / "outside.yml")
    with pytest.raises(TemplateSourceError) as caught:
        load_repo_config(repo)
    message = str(caught.value)
    assert message.startswith(f"{repo / 'copier.yml'}: '!include {include}' reaches {tmp_path / 'outside.yml'}, ")
    assert message.endswith(f"outside the template repository {repo}; move the file into the repository")
    code, out, err = cli("list", "--templates", str(repo))
    assert code == 2 and "outside the template repository" in err and err.count("\n") == 1
    assert "from outside" not in out + err


def test_an_include_in_an_included_file_is_checked_too(tmp_path: Path) -> None:
    build_file_tree(tmp_path, {"outside.yml": "secret:\n  default: from outside\n"})
    repo = init_template_repo(
        tmp_path / "repo", {"copier.yml": COPIER_YML % "shared.yml", "shared.yml": "!include ../outside.yml\n"}
    )
    with pytest.raises(TemplateSourceError, match=r"shared\.yml: '!include \.\./outside\.yml' reaches "):
        load_repo_config(repo)


def test_a_failed_clone_names_gits_cause(tmp_path: Path) -> None:
    source = TemplateSource(url=f"file://{tmp_path}/nowhere.git", origin="flag", root=None, version=None)
    with pytest.raises(TemplateSourceError) as caught, source.readable():
        pass
    message = str(caught.value)
    assert message.startswith(f"cannot fetch templates from file://{tmp_path}/nowhere.git: fatal: ")
    assert "\n" not in message


TOKEN = "ghp_" + "Zq7" * 12
URLS_WITH_CREDENTIALS = {
    f"https://x-access-token:{TOKEN}@github.com/org/home.git": "https://github.com/org/home.git",
    f"https://{TOKEN}@github.com/org/home.git": "https://github.com/org/home.git",
    f"HTTPS://deploy:{TOKEN}@git.example.com/home.git": "HTTPS://deploy@git.example.com/home.git",
    f"git+https://{TOKEN}@github.com/org/home.git": "git+https://github.com/org/home.git",
    f"https://oauth2:{TOKEN}@gitlab.example.com/home.git": "https://gitlab.example.com/home.git",
    "https://deploy:p@ss@git.example.com/home.git": "https://deploy@git.example.com/home.git",
    # Quotes are characters of a password like any other (git reads them so).
    "https://ci:Pa'ss12\"3@git.example.com/home.git": "https://ci@git.example.com/home.git",
    "git+https://ci:Pa'ss123@git.example.com/home.git": "git+https://ci@git.example.com/home.git",
    f"ssh://deploy:{TOKEN}@git.example.com/home.git": "ssh://deploy@git.example.com/home.git",
    f"fatal: unable to access 'https://ci:{TOKEN}@git.example.com/home.git/': Could not resolve host": (
        "fatal: unable to access 'https://ci@git.example.com/home.git/': Could not resolve host"
    ),
}
# A login is no secret (Azure DevOps' clone URLs carry one), and a path may hold an `@`.
URLS_KEPT = [
    "https://contoso@dev.azure.com/contoso/_git/team-home",
    "git+ssh://git@github.com/org/home.git",
    "ssh://git@github.com/org/home.git",
    "git@github.com:org/home.git",
    "https://github.com/org/home.git",
    "https://git.example.com/@scope/home.git",
    "/home/me/src/team@home",
    "cannot read 'https://git.example.com/home.git' (user@example.com asked)",
]


def test_credentials_are_taken_out_of_urls_and_nothing_else() -> None:
    for text, expected in URLS_WITH_CREDENTIALS.items():
        assert gitutil.without_credentials(text) == expected, text
    for text in URLS_KEPT:
        assert gitutil.without_credentials(text) == text


def test_a_source_is_recorded_without_the_credentials_of_its_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every project made from it would commit them: given as --templates, or a knowledge home's
    # origin remote (a home cloned with a token in its URL, as CI jobs do).
    given = f"https://ci:{TOKEN}@git.example.com/platform/team-home.git"
    assert portable_source(given, follow_remote=False) == "https://ci@git.example.com/platform/team-home.git"
    home = init_template_repo(tmp_path / "home", {"copier.yml": COPIER_YML % "shared.yml", "shared.yml": "{}\n"})
    run(["git", "remote", "add", "origin", given], cwd=home)
    monkeypatch.setattr(source_module, "_remote_lacks", lambda remote, local, version: None)  # no network here
    recorded = portable_source(str(home), follow_remote=True, version="v1.0.0")
    assert recorded == "https://ci@git.example.com/platform/team-home.git"
    # What `scaffold new` says it left out: the home's remote, not only a URL given to it.
    made_from = TemplateSource(str(home), "flag", home, "v1.0.0").recorded("v1.0.0")
    assert made_from.source == recorded and made_from.credentials_left_out
    assert not TemplateSource(str(home / "nowhere"), "flag", None, None).recorded(None).credentials_left_out


def test_a_source_that_cannot_be_fetched_is_named_without_its_credentials(cli: Cli) -> None:
    # Port 9 on this machine refuses at once: git's own error quotes the URL it was given.
    url = f"https://ci:{TOKEN}@127.0.0.1:9/team-home.git"
    with pytest.raises(TemplateSourceError) as caught, TemplateSource(url, "flag", None, None).readable():
        pass
    assert TOKEN not in str(caught.value) and "https://ci@127.0.0.1:9/team-home.git" in str(caught.value)
    code, out, err = cli("new", "mini", "demo", "--defaults", "--templates", url)
    assert code != 0 and TOKEN not in out + err and "127.0.0.1:9" in err


def test_copiers_and_gits_errors_name_the_source_without_credentials() -> None:
    # Their words may quote the URL: git's command line when it printed nothing, Copier's own message.
    from copier.errors import CopierError
    from plumbum import ProcessExecutionError

    url = f"https://ci:{TOKEN}@127.0.0.1:9/team-home.git"
    failures: list[Exception] = [
        ProcessExecutionError(["git", "clone", "--", url, "/tmp/x"], 128, "", ""),
        ProcessExecutionError(["git", "ls-remote", url], 128, "", f"fatal: repository '{url}' not found"),
        CopierError(f"cannot clone {url}"),
        ValueError(f"{url} is no template"),
    ]
    for failure in failures:
        with pytest.raises(TemplateSourceError) as caught, copier_errors(url):
            raise failure
        assert TOKEN not in str(caught.value) and "https://ci@127.0.0.1:9/team-home.git" in str(caught.value)
    assert TOKEN not in gitutil.error_cause(f"hint: x\nfatal: could not read from {url}\n")


def test_a_project_made_from_a_url_with_a_token_says_it_records_the_url_without_it(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # git fetches the URL given (here rewritten to a local repository, as `insteadOf` lets a CI job
    # do); the project records it without the token, and the user is told why teammates need access.
    home = init_template_repo(tmp_path / "home", {"copier.yml": COPIER_YML % "shared.yml", "shared.yml": "{}\n"})
    from plumbum import local  # Copier runs git through plumbum, whose environment is copied at import

    url = f"https://ci:{TOKEN}@git.example.com/platform/team-home.git"
    rewrite = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": f"url.file://{home}.insteadOf", "GIT_CONFIG_VALUE_0": url}
    for name, value in rewrite.items():
        monkeypatch.setenv(name, value)
    with local.env(**rewrite):
        code, out, err = cli("new", "mini", "demo", "--defaults", "--templates", url)

    assert code == 0, err
    recorded = (tmp_path / "demo" / ".copier-answers.yml").read_text()
    assert TOKEN not in out + err + recorded
    assert "_src_path: https://ci@git.example.com/platform/team-home.git" in recorded
    assert "records its template source without the token or password in the URL" in out
    code, out, _ = cli("new", "mini", "plain", "--defaults", "--templates", str(home))
    assert code == 0 and "without the token" not in out


@pytest.mark.parametrize(
    ("recorded", "for_git"),
    [
        ("git+https://git.example.com/t", "https://git.example.com/t"),
        ("git+file:///srv/tpl", "file:///srv/tpl"),
        ("git+git@git.example.com:o/t.git", "git@git.example.com:o/t.git"),
        ("gh:o/t", "https://github.com/o/t.git"),
        ("gh:/o/t.git", "https://github.com/o/t.git"),  # Copier reads the slash so too
        ("gl:o/t", "https://gitlab.com/o/t.git"),
        ("https://git.example.com/t.git", "https://git.example.com/t.git"),
    ],
)
def test_a_recorded_source_is_given_to_git_as_git_reads_it_and_to_copier_as_recorded(
    tmp_path: Path, recorded: str, for_git: str
) -> None:
    # Copier takes `git+` and `gh:` itself, and needs `git+` before a URL that does not end in .git;
    # git reads `git+https` as the name of a remote helper.
    assert git_location(tmp_path, recorded) == for_git
    assert source_location(tmp_path, recorded) == recorded


def test_a_recorded_path_is_found_from_the_project_by_both(tmp_path: Path) -> None:
    for recorded in ("../home", "git+../home"):
        assert git_location(tmp_path / "demo", recorded) == str(tmp_path / "home")
    assert git_location(tmp_path, "git+/srv/tpl.git") == "/srv/tpl.git"
    assert source_location(tmp_path / "demo", "../home") == str(tmp_path / "home")


@pytest.mark.parametrize("value", ["--upload-pack=touch x", "git+--upload-pack=touch x://y"])
def test_an_answers_file_cannot_make_git_read_a_source_as_an_option(tmp_path: Path, value: str) -> None:
    from generator.errors import NotAProjectError

    (tmp_path / ".copier-answers.yml").write_text(f"_src_path: '{value}'\n_commit: 1.0.0\n")
    with pytest.raises(NotAProjectError, match="is not a template source or version"):
        read_answers(tmp_path)

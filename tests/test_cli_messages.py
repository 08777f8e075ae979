"""What the CLI says when input is wrong or when it lists questions: one line, no doubled prefix, the fix named."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.errors import AnswerError, UsageError
from generator.template import questionnaire, render
from generator.template.source import load_repo_config
from tests.conftest import Cli
from tests.helpers import REPO_ROOT, init_template_repo, tree_snapshot


@pytest.fixture
def no_render(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if Copier is asked to render: the input must be refused before that."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("render.generate was called; the input should have been refused before rendering")

    monkeypatch.setattr(render, "generate", refuse)


# --- item: "did you mean" -----------------------------------------------------------------------------------


def test_mistyped_command_suggests_the_closest(cli: Cli) -> None:
    code, out, err = cli("new-servise", "x")
    assert (code, out) == (2, "")
    assert (
        err == "scaffold: error: unknown command 'new-servise'; did you mean 'new-service'? (see 'scaffold --help')\n"
    )


def test_unknown_command_with_nothing_close_has_no_suggestion(cli: Cli) -> None:
    code, _, err = cli("frobnicate")
    assert code == 2
    assert err == "scaffold: error: unknown command 'frobnicate' (see 'scaffold --help')\n"


@pytest.mark.usefixtures("no_render")
def test_mistyped_template_suggests_the_closest(cli: Cli, tmp_path: Path) -> None:
    before = tree_snapshot(tmp_path)
    code, _, err = cli("new", "servise", "svc", "--defaults")
    assert code == 2
    assert "unknown template 'servise'; did you mean 'service'?" in err and err.count("\n") == 1
    assert tree_snapshot(tmp_path) == before
    code, out, err = cli("list", "--questions", "infr")
    assert (code, out) == (2, "")
    assert "unknown template 'infr'; did you mean 'infra'?" in err


@pytest.mark.usefixtures("no_render")
def test_mistyped_answer_key_suggests_the_closest(cli: Cli) -> None:
    code, _, err = cli("new-service", "svc", "--defaults", "-d", "prot=9000")
    assert code == 2
    assert "unknown answer 'prot' for template 'service'; did you mean 'port'?" in err
    code, _, err = cli("new-service", "svc", "--defaults", "-d", "colour=red")
    assert code == 2 and "did you mean" not in err


# --- item: one "scaffold: error:" prefix ----------------------------------------------------------------------


def test_sub_command_usage_error_names_the_command_once(cli: Cli) -> None:
    code, _, err = cli("new-service")
    assert code == 2
    assert err == (
        "scaffold: error: new-service: the following arguments are required: NAME (see 'scaffold new-service --help')\n"
    )


def test_a_mistyped_option_names_its_command_and_the_closest_option(cli: Cli) -> None:
    code, out, err = cli("context", "--kidn", "api", "add an endpoint")
    assert (code, out) == (2, "")
    assert err == (
        "scaffold: error: context: unrecognized arguments: --kidn add an endpoint; did you mean '--kind'? "
        "(see 'scaffold context --help')\n"
    )
    code, _, err = cli("list", "--bogus")
    assert code == 2 and err == "scaffold: error: list: unrecognized arguments: --bogus (see 'scaffold list --help')\n"
    # A task or a title typed without quotes: the command as it was meant.
    code, _, err = cli("new-decision", "Use", "Kafka", "for", "events")
    assert code == 2 and err == (
        "scaffold: error: new-decision: unrecognized arguments: Kafka for events; quote the title as one argument: "
        "'Use Kafka for events' (see 'scaffold new-decision --help')\n"
    )
    code, _, err = cli("new-service", "ledger", "extra")  # a name is one word: no such advice
    assert code == 2 and "quote" not in err


def test_an_error_quoting_a_secret_given_on_the_command_line_redacts_it(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "AKIA" + "ZXCVBNMASDFGHJKL"
    code, _, err = cli("context", "rotate", "the", "key", key)  # a task someone forgot to quote
    assert code == 2 and key not in err
    assert err == (
        "scaffold: error: context: unrecognized arguments: the key [REDACTED: AWS Access Key]; quote the task as "
        "one argument (see 'scaffold context --help')\n"
    )
    code, _, err = cli("context", "fix", "login", "password:", "correcthorsebatterystaple")
    assert (
        code == 2
        and "correcthorsebatterystaple" not in err
        and "unrecognized arguments: login password: [REDACTED" in err
        and err.endswith("; quote the task as one argument (see 'scaffold context --help')\n")
    )
    code, _, err = cli("context", "--budget", key, "x")
    assert code == 2 and key not in err and "is not a whole number of tokens" in err
    monkeypatch.setenv("SCAFFOLD_RERANK", key)
    code, _, err = cli("context", "x")
    assert code == 2 and key not in err and "$SCAFFOLD_RERANK must be true or false" in err


def test_an_error_is_still_one_line_when_its_redaction_fails(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from generator.context import redact

    def broken(messages: list[str]) -> list[str]:
        raise RuntimeError("a broken install")

    monkeypatch.setattr(redact, "redacted_messages", broken)
    code, _, err = cli("list", "--bogus")
    assert code == 2 and err == "scaffold: error: list: unrecognized arguments: --bogus (see 'scaffold list --help')\n"


@pytest.mark.parametrize("args", [["list", "--bogus"], ["--bogus"], ["new-api", "x", "--model"]], ids=" ".join)
def test_usage_errors_never_double_the_prefix(cli: Cli, args: list[str]) -> None:
    code, _, err = cli(*args)
    assert code == 2
    assert err.startswith("scaffold: error: ") and err.count("\n") == 1, err
    assert err.count("scaffold:") == 1 and "error: scaffold" not in err, err


# --- item: `list --questions` shows rendered defaults --------------------------------------------------------


def _question_lines(out: str) -> dict[str, str]:
    """`name (type): ...` lines of `scaffold list --questions`, by question name."""
    lines = [line.strip() for line in out.split("Questions of", 1)[1].splitlines()[1:]]
    return {line.split(" ", 1)[0]: line for line in lines if " (" in line.split(":", 1)[0]}


def test_list_questions_renders_defaults_like_copier(cli: Cli) -> None:
    code, out, err = cli("list", "--questions", "service")
    assert code == 0, err
    assert "{{" not in out and "{%" not in out
    lines = _question_lines(out)
    assert lines["description"] == "description (str): default 'NAME: an HTTP service generated by scaffold.'"
    assert lines["project_name"] == "project_name (str): the NAME argument"
    assert lines["port"] == "port (int): default 8000"
    code, out, err = cli("list", "--questions", "infra")
    assert code == 0, err
    lines = _question_lines(out)
    assert lines["description"].endswith("default 'NAME: a Terraform module generated by scaffold.'")
    assert lines["region"].endswith("default 'eu-west-1'")  # from cloud's default, aws


def test_list_questions_shows_raw_text_for_a_default_it_cannot_render(cli: Cli, tmp_path: Path) -> None:
    repo = init_template_repo(
        tmp_path / "tpl",
        {
            "templates/mini/questions.yml": """\
                greeting:
                  type: str
                  default: "{{ project_name | no_such_filter }}"
                  when: "{{ template == 'mini' }}"
                shout:
                  type: str
                  default: "{{ description | regex_replace('a', 'A') }}!"
                  when: "{{ template == 'mini' }}"
                """
        },
    )
    code, out, err = cli("list", "--questions", "mini", "--templates", str(repo))
    assert code == 0, err
    lines = _question_lines(out)
    assert lines["greeting"] == "greeting (str): default '{{ project_name | no_such_filter }}'"
    assert lines["shout"] == "shout (str): default 'A project!'"  # Copier's Ansible filters work


# --- item: the project-name rule lives in copier.yml ------------------------------------------------------


@pytest.mark.usefixtures("no_render")
def test_bad_name_is_refused_with_the_templates_message(cli: Cli, tmp_path: Path) -> None:
    before = tree_snapshot(tmp_path)
    code, out, err = cli("new-service", "Foo", "--defaults")
    assert (code, out) == (2, "")
    assert err == (
        "scaffold: error: invalid project name 'Foo': must start with a lowercase letter and use only a-z, 0-9 "
        "and single '-' or '_' between them\n"
    )
    assert tree_snapshot(tmp_path) == before


@pytest.mark.usefixtures("no_render")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["new-service", "svc", "--defaults", "-d", "port=80"], "invalid answer for 'port': must be between 1024"),
        (["new-service", "svc", "--defaults", "-d", "description= "], "invalid answer for 'description': must not"),
        (["new-service", "svc", "--defaults", "-d", "owner=a!b"], "invalid answer for 'owner': must be 1-64"),
        (["new-service", "a" * 65, "--defaults"], "must be at most 64 characters"),
        (["new-api", "shop", "--defaults", "-d", "resources=orders,Bad"], "rejected: Bad"),
        (
            ["new-infra", "net", "--defaults", "-d", "cloud=gcp", "-d", "module_kind=container"],
            "invalid answer for 'module_kind': container is only available for cloud=aws",
        ),
        (["new-infra", "net", "--defaults", "-d", "cloud=gcp", "-d", "region=eu-west-1"], "Google Cloud region"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else "",
)
def test_validators_refuse_answers_before_rendering(cli: Cli, args: list[str], message: str) -> None:
    code, _, err = cli(*args)
    assert code == 2
    assert err.startswith("scaffold: error: ") and err.count("\n") == 1, err
    assert message in err


def test_a_template_repository_sets_its_own_name_rule(cli: Cli, tmp_path: Path) -> None:
    """scaffold applies the template's validator, not a rule of its own: here capitals pass and short names fail."""
    copier_yml = """\
        _subdirectory: "templates/{{ template }}"
        template:
          type: str
          choices:
            "mini - a minimal template": mini
        project_name:
          type: str
          validator: "{% if project_name | length < 3 %}needs 3 characters or more{% endif %}"
        description:
          type: str
          default: a project
        ---
        !include templates/*/questions.yml
        """
    repo = init_template_repo(tmp_path / "tpl", {"copier.yml": copier_yml})
    code, _, err = cli("new", "mini", "ab", "--defaults", "--templates", str(repo))
    assert code == 2
    assert err == "scaffold: error: invalid project name 'ab': needs 3 characters or more\n"
    code, _, err = cli("new", "mini", "Team_Tools", "--defaults", "--templates", str(repo), "--no-git")
    assert code == 0, err


def test_check_name_without_a_template_checks_what_scaffold_needs() -> None:
    assert questionnaire.check_name("Anything_Goes") == "Anything_Goes"
    for name, fix in [
        ("", "give one like"),
        ("a/b", "--dest"),
        ("..", "--dest"),
        ("~me", "--dest"),
        ("a\nb", "control"),
    ]:
        with pytest.raises(UsageError, match=fix):
            questionnaire.check_name(name)


def test_check_name_with_a_template_repository_applies_its_validator() -> None:
    config = load_repo_config(REPO_ROOT)
    assert questionnaire.check_name("order-api", config) == "order-api"
    with pytest.raises(AnswerError, match=r"^invalid project name 'a--b': must start with a lowercase letter"):
        questionnaire.check_name("a--b", config)
    with pytest.raises(UsageError, match="--dest"):
        questionnaire.check_name("../x", config)


def test_validator_that_needs_an_unanswered_question_is_left_to_copier() -> None:
    """`region` depends on `cloud`: asked interactively, the cloud may not be the default, so scaffold cannot judge."""
    config = load_repo_config(REPO_ROOT)
    answers, _ = questionnaire.check_template_answers(config, "infra", {"project_name": "net", "region": "westeurope"})
    assert answers["region"] == "westeurope"
    with pytest.raises(AnswerError, match="must be an Azure location"):
        questionnaire.check_template_answers(
            config, "infra", {"project_name": "net", "cloud": "azure", "region": "West Europe"}
        )


def test_help_names_settings_as_every_message_does(capsys: pytest.CaptureFixture[str]) -> None:
    # Written out by hand (importing generator.settings would slow `scaffold --help`), so checked here.
    from generator.cli.fill import FILL_HELP
    from generator.settings import API_KEY, DEFAULT_ESCALATION_MODEL, DEFAULT_MODEL, ESCALATION_MODEL, MODEL

    fill_help = " ".join(FILL_HELP.split())
    for setting in (API_KEY, MODEL, ESCALATION_MODEL):
        assert setting.where_to_set() in fill_help, setting
    assert f"default {DEFAULT_MODEL})" in fill_help and f"default {DEFAULT_ESCALATION_MODEL})" in fill_help
    from generator.cli import main
    from generator.settings import HOME, TEMPLATES, VERIFY_COMMAND

    def shown(*args: str) -> str:
        with pytest.raises(SystemExit):
            main([*args, "--help"])
        return " ".join(capsys.readouterr().out.split())

    assert f"(needs {API_KEY.where_to_set()})" in shown("context")
    assert f"default: {HOME.where_to_set()}" in shown("context")
    fill_options = shown("fill")
    assert f"(default: {MODEL.where_to_set()}, else {DEFAULT_MODEL})" in fill_options
    assert f"(default: {VERIFY_COMMAND.where_to_set()})" in fill_options
    assert f"default: {TEMPLATES.where_to_set()}, else" in shown("new-service")

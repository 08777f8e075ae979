"""The questionnaire: check the name, gather answers from flags and files, decide how to ask.

Copier asks the questions (with questionary) when a terminal is attached; everything
given on the command line is checked here first, so bad input fails before anything
is rendered or written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from generator.errors import UNSHOWABLE, AnswerError, UsageError, describe_yaml_error, did_you_mean
from generator.settings import parse_switch

if TYPE_CHECKING:
    from generator.template.source import Question, RepoConfig

# The longest file name most file systems allow, in bytes: NAME becomes the project's folder.
MAX_FOLDER_NAME = 255
# Answers are a page of text; a file this large is a mistake (or an attack), not answers.
MAX_DATA_FILE_BYTES = 1_000_000
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_name(name: str, config: RepoConfig | None = None) -> str:
    """Return `name` if it can name a project, else raise with the fix.

    Without `config`, only what scaffold itself needs of a name: not empty, not a path, usable as a
    folder name. With `config`, also the naming rule, which is the template repository's:
    `project_name`'s validator in its copier.yml (the one Copier applies to plain `copier copy`).
    """
    shown = _shown(name)
    if not name:
        raise UsageError("the project name is empty; give one like 'payments' or 'order-api'")
    if "/" in name or "\\" in name or name in {".", ".."} or name.startswith("~"):
        raise UsageError(
            f"the project name {shown!r} looks like a path; give a plain name and use --dest PATH for the location"
        )
    if UNSHOWABLE.search(name):
        raise UsageError(f"the project name {shown!r} contains control characters; give a plain name")
    size = len(name.encode("utf-8", "surrogatepass"))
    if size > MAX_FOLDER_NAME:
        raise UsageError(f"the project name {shown!r} is {size} bytes, too long for a folder name; use a shorter one")
    if config is not None and (question := config.question("project_name")) is not None:
        # No template chosen yet: the rule for every template (computed values given, as Copier gives them).
        context = {**config.default_answers("", {"project_name": name}), "template": "", "project_name": name}
        check_validators(config, context, {"project_name": question})
    return name


def _shown(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def parse_data_items(items: Sequence[str]) -> dict[str, str]:
    """Parse repeated `-d KEY=VALUE` flags; later flags win."""
    data: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep:
            raise AnswerError(f"malformed --data {item!r}: expected KEY=VALUE (e.g. -d port=8080)")
        if not _KEY.fullmatch(key):
            raise AnswerError(f"malformed --data {item!r}: the key must be a question name such as 'port'")
        data[key] = value
    return data


def load_data_file(path: Path) -> dict[str, Any]:
    """Answers from a YAML or JSON file holding one mapping, at most `MAX_DATA_FILE_BYTES`, without YAML aliases.

    Aliases are refused rather than expanded: a few lines of nested aliases (a "billion laughs")
    expand to gigabytes, and answers never need them.
    """
    import yaml

    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_DATA_FILE_BYTES + 1)
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise AnswerError(f"--data-file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise AnswerError(f"cannot read --data-file {path}: {error}") from None
    if len(raw) > MAX_DATA_FILE_BYTES:
        raise AnswerError(
            f"--data-file {path} is larger than {MAX_DATA_FILE_BYTES:,} bytes; an answers file holds a few answers"
        )
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.load(text, Loader=_no_alias_loader())
    except _AliasFound as alias:
        raise AnswerError(
            f"--data-file {path} uses a YAML alias (*{alias.name}) at line {alias.line}; answers files may not "
            "use anchors and aliases: write the value out"
        ) from None
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        first = describe_yaml_error(error) if isinstance(error, yaml.YAMLError) else str(error)
        raise AnswerError(
            f"--data-file {path} is not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {first}"
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise AnswerError(f"--data-file {path} must hold one mapping of question names to answers")
    return data


class _AliasFound(Exception):
    """Raised by `_NoAliasLoader` at the first alias, before anything is expanded."""

    def __init__(self, name: str, line: int) -> None:
        super().__init__(name)
        self.name, self.line = name, line


def _no_alias_loader() -> type:
    import yaml

    class NoAliasLoader(yaml.SafeLoader):
        """yaml.safe_load's loader, refusing aliases where the composer would resolve one."""

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()  # type: ignore[no-untyped-call]
                raise _AliasFound(str(event.anchor), event.start_mark.line + 1)
            return super().compose_node(parent, index)

    return NoAliasLoader


def _cast(question: Question, value: Any) -> Any:
    """An answer from -d (always text) or a data file (any YAML scalar) as the question's type."""
    kind, name = question.type, question.name
    if kind in {"str", "yaml", "json"} and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)  # e.g. python_version: 3.12 written unquoted in YAML
    if kind == "str" and not isinstance(value, str):
        shown = "nothing (null)" if value is None else repr(value)
        raise AnswerError(f"answer for {name!r} must be text, got {shown}; quote it in the data file")
    if kind == "int":
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise AnswerError(f"answer for {name!r} must be an integer, got {value!r}")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise AnswerError(f"answer for {name!r} must be an integer, got {value!r}") from None
    if kind == "float":
        try:
            return float(value)
        except (TypeError, ValueError):
            raise AnswerError(f"answer for {name!r} must be a number, got {value!r}") from None
    if kind == "bool" and not isinstance(value, bool):
        switch = parse_switch(str(value))
        if switch is not None:
            return switch
        raise AnswerError(f"answer for {name!r} must be true or false (yes/no), got {value!r}")
    return value


def check_answers(answers: Mapping[str, Any], questions: Mapping[str, Question], template: str) -> dict[str, Any]:
    """Reject unknown keys and values outside a question's choices; cast typed answers."""
    checked: dict[str, Any] = {}
    for key, value in answers.items():
        question = questions.get(key)
        if question is None:
            names = [k for k in questions if k != "template"]
            hint = did_you_mean(key, names)
            known = f"its questions are: {', '.join(sorted(names))}"
            raise AnswerError(f"unknown answer {key!r} for template {template!r}; {hint + ' ' if hint else ''}{known}")
        cast = _cast(question, value)
        if question.choices and cast not in question.choices:
            options = ", ".join(str(c) for c in question.choices)
            raise AnswerError(f"answer for {key!r} must be one of: {options} (got {value!r})")
        checked[key] = cast
    return checked


def check_template_answers(
    config: RepoConfig, template: str, answers: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Question]]:
    """What `new` and `update` check before Copier runs: the template exists, and every answer
    names one of its questions, has that question's type and choices, and passes its validator.
    Returns the cast answers and the questions that apply."""
    from generator.template.source import check_template

    check_template(config, template)
    questions = config.questions(template, answers)
    checked = check_answers(answers, questions, template)
    # Validators may use computed values (`when: false`, never asked), as Copier's do: give them those.
    defaults = config.default_answers(template, checked)
    computed = {name: value for name, value in defaults.items() if name not in questions}
    check_validators(config, {**computed, "template": template, **checked}, questions)
    return checked, questions


def check_validators(config: RepoConfig, answers: Mapping[str, Any], questions: Mapping[str, Question]) -> None:
    """Refuse an answer given up front that its question's validator rejects, with the template's message.

    Copier runs the same validators, but only once it renders; here bad input fails first, in
    scaffold's words. A validator that needs an answer not given up front is left to Copier.
    """
    for name, question in questions.items():
        if name not in answers:
            continue
        message = config.rejection(question, answers)
        if message and name == "project_name":
            raise AnswerError(f"invalid project name {_shown(answers[name])!r}: {message}")
        if message:
            raise AnswerError(f"invalid answer for {name!r}: {message}")


def require_answers(answers: Mapping[str, Any], questions: Mapping[str, Question], template: str) -> None:
    """With no one to ask, every question must be answered up front (or `--defaults` said defaults are fine)."""
    missing = [name for name in questions if name not in answers and name != "template"]
    if missing:
        raise AnswerError(
            f"no terminal to ask {', '.join(missing)} on: pass --defaults to accept the template's defaults "
            f"and/or answer with -d KEY=VALUE or --data-file FILE (see 'scaffold new-{template} --help')"
        )


class Asker(Protocol):
    """Asks one question (a terminal UI, a test, an assistant): returns the answer as typed, or `default`.

    `problem` is why the previous answer was refused ("" the first time).
    """

    def __call__(self, question: Question, default: Any, problem: str) -> Any: ...


def ask_questions(
    config: RepoConfig,
    template: str,
    given: Mapping[str, Any],
    asker: Asker,
    *,
    wanted: Callable[[str], bool] = lambda name: True,
    defaults: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Ask, in the template's order, every question that applies, is not in `given` and is `wanted`.

    Each default is `defaults[name]` (an update offers the stored answer) else the template's,
    rendered with the answers so far. Every answer is cast and validated like `-d` answers; a
    refused one is asked again with the reason. `template` and `project_name` are never asked.
    """
    answers = dict(given)
    skipped: set[str] = {"template", "project_name"}
    while True:
        questions = config.questions(template, answers)
        pending = [q for name, q in questions.items() if name not in answers and name not in skipped]
        if not pending:
            return answers
        question = pending[0]
        if not wanted(question.name):
            skipped.add(question.name)
            continue
        context = config.default_answers(template, answers)
        default = (defaults or {}).get(question.name, context.get(question.name))
        answers[question.name] = _asked(config, template, question, {**context, **answers}, default, asker)


def _asked(
    config: RepoConfig, template: str, question: Question, context: Mapping[str, Any], default: Any, asker: Asker
) -> Any:
    problem = ""
    while True:
        value = asker(question, default, problem)
        try:
            cast = check_answers({question.name: value}, {question.name: question}, template)[question.name]
        except AnswerError as error:
            problem = str(error)
            continue
        problem = config.rejection(question, {**context, question.name: cast})
        if not problem:
            return cast

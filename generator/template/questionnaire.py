"""The questionnaire: check the name, gather answers from flags and files, decide how to ask.

Copier asks the questions (with questionary) when a terminal is attached; everything
given on the command line is checked here first, so bad input fails before anything
is rendered or written.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.errors import AnswerError, UsageError, describe_yaml_error
from generator.settings import parse_switch

if TYPE_CHECKING:
    from generator.template.source import Question, RepoConfig

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")
MAX_NAME = 64
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_name(name: str) -> str:
    """Return `name` if it is a valid project name, else raise with the rule and an example."""
    shown = name if len(name) <= 40 else name[:37] + "..."
    if not name:
        raise UsageError("the project name is empty; give one like 'payments' or 'order-api'")
    if len(name) > MAX_NAME:
        raise UsageError(f"the project name {shown!r} is {len(name)} characters; use at most {MAX_NAME}")
    if "/" in name or "\\" in name or name in {".", ".."}:
        raise UsageError(
            f"the project name {shown!r} looks like a path; give a plain name and use --dest PATH for the location"
        )
    if not NAME_PATTERN.fullmatch(name):
        raise UsageError(
            f"invalid project name {shown!r}: use lowercase a-z and 0-9, starting with a letter, with single '-' "
            "or '_' between parts (e.g. 'payments', 'order-api')"
        )
    return name


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
    """Answers from a YAML or JSON file holding one mapping."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AnswerError(f"--data-file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise AnswerError(f"cannot read --data-file {path}: {error}") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
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


def _cast(question: Question, value: Any) -> Any:
    """An answer from -d (always text) or a data file (any YAML scalar) as the question's type."""
    kind, name = question.type, question.name
    if kind in {"str", "yaml", "json"} and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)  # e.g. python_version: 3.12 written unquoted in YAML
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
            known = ", ".join(sorted(k for k in questions if k != "template"))
            raise AnswerError(f"unknown answer {key!r} for template {template!r}; its questions are: {known}")
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
    names one of its questions and has that question's type and choices. Returns the cast
    answers and the questions that apply."""
    from generator.template.source import check_template

    check_template(config, template)
    questions = config.questions(template, answers)
    return check_answers(answers, questions, template), questions


def has_terminal() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def must_use_defaults(
    defaults: bool, answers: Mapping[str, Any], questions: Mapping[str, Question], template: str
) -> bool:
    """Whether Copier should run without prompting; raise when it cannot prompt but must.

    Without a terminal scaffold never prompts: every question must be answered by
    `--data`/`--data-file`, or `--defaults` must say the template's defaults are fine.
    """
    if defaults:
        return True
    if has_terminal():
        return False
    missing = [name for name in questions if name not in answers and name != "template"]
    if not missing:
        return True
    raise AnswerError(
        f"no terminal to ask {', '.join(missing)} on: pass --defaults to accept the template's defaults "
        f"and/or answer with -d KEY=VALUE or --data-file FILE (see 'scaffold new-{template} --help')"
    )

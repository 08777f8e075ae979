"""Commands on projects: new-<template>, new, list, update."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.cli.fill import FILL_HELP, add_ai_flags, after_render, fill_state, shown
from generator.errors import AnswerError, ExitCode, Interrupted

if TYPE_CHECKING:
    from generator.template.render import RenderResult
    from generator.template.source import RepoConfig
    from generator.template.update import UpdateResult

BUILTIN = {
    "service": "a production-shaped Python HTTP service (FastAPI, health checks, JSON logs, Docker)",
    "api": "a contract-first HTTP API: CRUD resources, RFC 9457 errors, pagination, auth, OpenAPI file",
    "infra": "a Terraform module in the standard module structure, secure by default",
    "script": "an operational script: a Python package or a Bash script, with --dry-run and tests",
}

ANSWER_HELP = """\
answers:
  Without --defaults, scaffold asks each question in the terminal (Copier's prompts).
  -d/--data and --data-file answer questions up front; --defaults takes the template's
  default for everything else. With no terminal, every question must be answered that
  way. 'scaffold list --questions TEMPLATE' shows the questions.
"""


def _add_source_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--templates",
        metavar="SRC",
        help="template repository (folder or git URL) in scaffold's layout; default: $SCAFFOLD_TEMPLATES, "
        "the user config, your knowledge home, or the templates shipped with scaffold",
    )
    parser.add_argument(
        "--trust", action="store_true", help="allow templates that run tasks, migrations or Jinja extensions"
    )


def _add_answer_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--defaults", action="store_true", help="use the template's default for unanswered questions")
    parser.add_argument(
        "-d",
        "--data",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="answer a question (repeatable), e.g. -d port=8080",
    )
    parser.add_argument("--data-file", type=Path, metavar="FILE", help="answers from a YAML or JSON mapping")


def _add_new_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="project name: lowercase letters, digits, '-' or '_'")
    parser.add_argument("--dest", type=Path, metavar="PATH", help="where to create the project (default: ./NAME)")
    _add_answer_flags(parser)
    parser.add_argument(
        "--force", action="store_true", help="render into a non-empty destination, overwriting same-named files"
    )
    parser.add_argument(
        "--no-git", action="store_true", help="do not run 'git init' and commit the render (updates then need you to)"
    )
    _add_source_flags(parser)
    parser.add_argument("--no-ai", action="store_true", help="skip the AI fill step (regions keep their fallbacks)")
    add_ai_flags(parser)


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the project commands to the `scaffold` parser."""
    for template, summary in BUILTIN.items():
        parser = sub.add_parser(
            f"new-{template}",
            help=f"create {summary.split(':')[0]}",
            description=f"Create {summary}, from the '{template}' template.",
            epilog=ANSWER_HELP + "\n" + FILL_HELP,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _add_new_flags(parser)
        parser.set_defaults(handler=run_new, template=template)

    generic = sub.add_parser(
        "new",
        help="create a project from any template of the template repository",
        description="Create a project from TEMPLATE (one of 'scaffold list').",
        epilog=ANSWER_HELP + "\n" + FILL_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    generic.add_argument("template", metavar="TEMPLATE")
    _add_new_flags(generic)
    generic.set_defaults(handler=run_new)

    lister = sub.add_parser(
        "list", help="list the available templates", description="List the templates, their purpose and version."
    )
    lister.add_argument("--questions", metavar="TEMPLATE", help="also list TEMPLATE's questions and defaults")
    _add_source_flags(lister)
    lister.set_defaults(handler=run_list)

    updater = sub.add_parser(
        "update",
        help="update a generated project to the newest template version",
        description=(
            "Run Copier's update in PATH (default: the current folder): re-render with the newest template "
            "version and merge in your changes. The project must be a git work tree with no uncommitted "
            "changes. Conflicts are listed at the end (exit code 4)."
        ),
        epilog=ANSWER_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    updater.add_argument("path", nargs="?", type=Path, default=Path(), metavar="PATH")
    _add_answer_flags(updater)
    updater.add_argument(
        "--trust", action="store_true", help="allow templates that run tasks, migrations or Jinja extensions"
    )
    updater.set_defaults(handler=run_update)


def _gather_answers(args: argparse.Namespace) -> dict[str, Any]:
    from generator.template import questionnaire

    answers: dict[str, Any] = {}
    if args.data_file is not None:
        answers.update(questionnaire.load_data_file(args.data_file))
    answers.update(questionnaire.parse_data_items(args.data))
    return answers


def run_new(args: argparse.Namespace) -> int:
    from generator.template import questionnaire, render, source

    name = questionnaire.check_name(args.name)
    # resolve() folds "..": a destination is always named by its real, final folder.
    dest = (args.dest if args.dest is not None else Path(name)).expanduser().resolve()
    render.check_destination(dest, args.force)
    raw = _gather_answers(args)
    if raw.get("project_name", name) != name:
        raise AnswerError(
            f"-d project_name={raw['project_name']} contradicts NAME {name!r}; give the name once, as NAME"
        )
    raw.pop("template", None)
    src = source.resolve(args.templates)
    with src.readable() as root:
        config = source.load_repo_config(root)
        answers, questions = questionnaire.check_template_answers(config, args.template, {**raw, "project_name": name})
    defaults = questionnaire.must_use_defaults(args.defaults, answers, questions, args.template)
    request = render.RenderRequest(
        source=src,
        template=args.template,
        dest=dest,
        answers=answers,
        defaults=defaults,
        force=args.force,
        git=not args.no_git,
        trust=args.trust,
    )
    if args.pretend:
        return _pretend_new(request, args)
    result: RenderResult | None = None
    try:
        result = render.generate(request)
        return _created(result, args, result.template_version or src.url, ask=not defaults)
    except KeyboardInterrupt as interrupt:
        if result is None and not isinstance(interrupt, Interrupted):
            raise  # before the project was moved into place: nothing was left behind
        raise Interrupted(f"{shown(dest)} was created and is complete; {fill_state(dest)}") from None


def _created(result: RenderResult, args: argparse.Namespace, version: str, *, ask: bool) -> int:
    """Say what was made, then run the fill step."""
    print(f"Created {result.dest} from the {args.template} template ({version}), {result.files} files.")
    if result.commit:
        print(f"Committed the render as {result.commit[:12]}; 'copier update' (or 'scaffold update') works from here.")
    else:
        print(f"No git commit ({result.git_skipped_reason}); commit the project before running 'copier update'.")
    if args.no_ai:
        return ExitCode.OK
    return after_render(result.dest, args, git=result.commit is not None, ask=ask)


def _pretend_new(request: Any, args: argparse.Namespace) -> int:
    """--pretend: render into a throwaway folder to find the regions, report, and keep nothing."""
    import dataclasses
    import tempfile

    from generator.fill import prepare as step
    from generator.fill.plan import make_plan
    from generator.template import render

    with tempfile.TemporaryDirectory(prefix="scaffold-pretend-") as scratch:
        dest = Path(scratch) / request.dest.name
        try:
            render.generate(dataclasses.replace(request, dest=dest, git=False, force=False))
        except Interrupted:
            raise KeyboardInterrupt from None  # not "created": the throwaway folder goes with it
        prepared = step.prepare(make_plan(dest))
        if not prepared.plan.todo:
            print(f"The {request.template} template has no regions to fill; nothing to call (--pretend).")
            return ExitCode.OK
        lines = step.pretend_lines(prepared, step.models(args.model))
    print("\n".join(line.replace(str(dest), str(request.dest)) for line in lines))
    return ExitCode.OK


def run_list(args: argparse.Namespace) -> int:
    from generator.template import source

    src = source.resolve(args.templates)
    with src.readable() as root:
        config = source.load_repo_config(root)
        templates = config.templates
        if args.questions:
            source.check_template(config, args.questions)
        print(f"Templates from {src.url} ({src.origin_label}), version {src.version or 'unversioned'}:")
        width = max((len(t.name) for t in templates), default=0)
        for info in templates:
            command = f"new-{info.name}" if info.name in BUILTIN else f"new {info.name}"
            print(f"  {info.name.ljust(width)}  {info.description}  [scaffold {command}]")
        if args.questions:
            _print_questions(config, args.questions)
    return ExitCode.OK


# Answered by the command line's NAME, not by -d; shown by that name in the defaults that use it.
_PLACEHOLDERS = {"project_name": "NAME"}


def _print_questions(config: RepoConfig, template: str) -> None:
    """Each question with its default as Copier would compute it when only NAME is given."""
    print(f"\nQuestions of {template} (answer with -d KEY=VALUE):")
    defaults = config.default_answers(template, _PLACEHOLDERS)
    for question in config.questions(template, _PLACEHOLDERS).values():
        if question.name == "template":
            continue
        choices = f" one of {', '.join(map(str, question.choices))};" if question.choices else ""
        if question.name in _PLACEHOLDERS:
            print(f"  {question.name} ({question.type}):{choices} the {_PLACEHOLDERS[question.name]} argument")
        else:
            print(f"  {question.name} ({question.type}):{choices} default {defaults.get(question.name)!r}")
        if question.help:
            print(f"      {question.help}")


def run_update(args: argparse.Namespace) -> int:
    from generator.template import questionnaire, update

    raw = _gather_answers(args)
    defaults = args.defaults or not questionnaire.has_terminal()
    result: UpdateResult | None = None
    try:
        result = update.update(args.path, raw, defaults=defaults, trust=args.trust)
        return _updated(result)
    except KeyboardInterrupt:
        if result is None:
            raise  # update() put the last commit back
        raise Interrupted(
            f"{shown(result.path)} was updated to template version {result.new_version}; "
            "review with 'git status' and 'git diff', then commit"
        ) from None


def _updated(result: UpdateResult) -> int:
    if result.old_version == result.new_version:
        print(f"{result.path} is already at template version {result.new_version}; re-applied it.")
    else:
        print(f"Updated {result.path} from template version {result.old_version} to {result.new_version}.")
    if result.conflicts:
        print(f"Conflicts to resolve ({len(result.conflicts)}), then commit:", file=sys.stderr)
        for name in result.conflicts:
            print(f"  {name}", file=sys.stderr)
        return ExitCode.UPDATE_CONFLICTS
    print("Review with 'git diff', then commit.")
    return ExitCode.OK

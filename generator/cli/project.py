"""Commands on projects: new-<template>, new, list, update."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.cli.fill import FILL_HELP, add_ai_flags, fill_request, path_argument
from generator.cli.messages import redacted
from generator.errors import ExitCode, ScaffoldError, UsageError, one_line

if TYPE_CHECKING:
    from generator.results import CheckResult, NewResult, UpdateResult

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
        help="template repository (folder or git URL) in scaffold's layout; default: $SCAFFOLD_TEMPLATES or "
        "'templates' in the user config, else your knowledge home, else the templates shipped with scaffold",
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
    parser.add_argument(
        "--dest", type=path_argument, metavar="PATH", help="where to create the project (default: ./NAME)"
    )
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
            "changes. Conflicts are listed at the end (exit code 4). A source the project records that cannot "
            "be read exits 5 (repoint it with --source); a --source or --from that cannot be used exits 2, "
            "and nothing is recorded."
        ),
        epilog=ANSWER_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    updater.add_argument("path", nargs="?", type=path_argument, default=Path(), metavar="PATH")
    _add_answer_flags(updater)
    updater.add_argument(
        "--trust", action="store_true", help="allow templates that run tasks, migrations or Jinja extensions"
    )
    updater.add_argument(
        "--reask", action="store_true", help="ask every question again (default: only those new in this version)"
    )
    updater.add_argument(
        "--source",
        metavar="URL|PATH",
        help="repoint the project at this copy of its template source (recorded in .copier-answers.yml)",
    )
    updater.add_argument(
        "--from",
        dest="from_version",
        metavar="VERSION",
        help="the template version the project really came from, when the recorded one is missing at the source",
    )
    updater.set_defaults(handler=run_update)

    checker = sub.add_parser(
        "check",
        help="report whether generated projects are behind their template or hold stale fills",
        description=(
            "For each generated project (default: the current folder), print its template, recorded version, "
            "the newest release at its source, whether it is behind, regions still on their fallbacks, and "
            "fills whose context documents changed since. Reads only; changes nothing."
        ),
        epilog=CHECK_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    checker.add_argument("paths", nargs="*", type=path_argument, metavar="PATH")
    checker.add_argument(
        "--recursive",
        "-r",
        type=path_argument,
        metavar="DIR",
        help="also check every generated project found under DIR",
    )
    checker.add_argument("--json", action="store_true", help="one JSON list of results on stdout")
    checker.set_defaults(handler=run_check)


def _gather_answers(args: argparse.Namespace) -> dict[str, Any]:
    from generator.template import questionnaire

    answers: dict[str, Any] = {}
    if args.data_file is not None:
        answers.update(questionnaire.load_data_file(args.data_file))
    answers.update(questionnaire.parse_data_items(args.data))
    return answers


def run_new(args: argparse.Namespace) -> int:
    from generator import pipeline
    from generator.cli import prompts, report
    from generator.cli.prompts import has_terminal
    from generator.cli.report import make_reporter, pretend_lines
    from generator.settings import Settings

    config = Settings.load(templates=args.templates, model=args.model, rerank=args.rerank)
    common: dict[str, Any] = {
        "dest": args.dest,
        "data": _gather_answers(args),
        "defaults": args.defaults,
        "trust": args.trust,
        "settings": config,
        # Without a terminal nobody can answer: every question must come from -d, --data-file or --defaults.
        "asker": prompts.ask if has_terminal() else None,
    }
    if args.pretend:
        preview = pipeline.preview_new(args.template, args.name, force=args.force, **common)
        if preview is None:
            print(f"The {args.template} template has no regions to fill; nothing to call (--pretend).")
        else:
            print("\n".join(pretend_lines(preview)))
        return ExitCode.OK
    reporter = make_reporter()
    try:
        result = pipeline.new_project(
            args.template,
            args.name,
            force=args.force,
            git=not args.no_git,
            # --defaults means "ask nothing": the fill's cost question included.
            fill=None if args.no_ai else fill_request(args, confirm=not args.defaults),
            reporter=reporter,
            **common,
        )
    except BaseException:
        reporter.close()
        raise
    return report.reporting(result, _created, before=reporter.close)


def _created(result: NewResult) -> int:
    """Say what the fill step did (the render was reported as it landed)."""
    from generator.cli import report
    from generator.cli.report import shown

    where = shown(result.path)
    if result.fill_error is not None:
        print(
            f"scaffold: AI fill failed: {result.fill_error}; {where} is created with the template's fallbacks, "
            f"run 'scaffold fill {where}' once fixed",
            file=sys.stderr,
        )
        return ExitCode.FILLS_FELL_BACK
    if result.fill_skipped == "no-api-key":
        from generator.plumbing import extras
        from generator.settings import API_KEY

        # Both steps in one line: a plain install would otherwise learn of the second only after the first.
        steps = "Set" if extras.installed(extras.AI) else f"Install the fill step ({extras.AI.command}), set"
        print(
            f"AI fill skipped: no API key. {steps} {API_KEY.where_to_set()}, then run "
            f"'scaffold fill {where}' to fill its {result.pending} regions (until then they hold the template's "
            "working fallbacks)."
        )
    if result.fill is None:
        return ExitCode.OK
    print("\n".join(report.summary(result.fill)))
    return ExitCode.FILLS_FELL_BACK if result.fill.fell_back else ExitCode.OK


def run_list(args: argparse.Namespace) -> int:
    from generator import pipeline

    catalog = pipeline.list_templates(templates=args.templates, questions=bool(args.questions))
    chosen = catalog.template(args.questions) if args.questions else None
    from generator.template.source import describe_version

    version = describe_version(catalog.version, catalog.head)
    print(f"Templates from {catalog.source} ({catalog.origin}), version {version}:")
    width = max((len(entry.name) for entry in catalog.templates), default=0)
    for entry in catalog.templates:
        command = f"new-{entry.name}" if entry.name in BUILTIN else f"new {entry.name}"
        print(f"  {entry.name.ljust(width)}  {entry.description}  [scaffold {command}]")
    if chosen is not None:
        print(f"\nQuestions of {chosen.name} (answer with -d KEY=VALUE):")
        for question in chosen.questions:
            choices = f" one of {', '.join(map(str, question.choices))};" if question.choices else ""
            if question.name in _PLACEHOLDERS:
                print(f"  {question.name} ({question.type}):{choices} the {_PLACEHOLDERS[question.name]} argument")
            else:
                print(f"  {question.name} ({question.type}):{choices} default {question.default!r}")
            if question.help:
                print(f"      {question.help}")
    return ExitCode.OK


# Answered by the command line's NAME, not by -d; shown by that name in the defaults that use it.
_PLACEHOLDERS = {"project_name": "NAME"}


def run_update(args: argparse.Namespace) -> int:
    from generator import pipeline
    from generator.cli import prompts, report

    terminal = prompts.has_terminal()
    result = pipeline.update_project(
        args.path,
        data=_gather_answers(args),
        defaults=args.defaults or not terminal,
        trust=args.trust,
        asker=prompts.ask if terminal else None,
        reask=args.reask,
        source=args.source,
        from_version=args.from_version,
    )
    return report.reporting(result, _updated)


def _updated(result: UpdateResult) -> int:
    from generator.cli.report import shown

    where = shown(result.path)
    if result.old_version == result.new_version:
        print(f"{where} is already at template version {result.new_version}; re-applied it.")
    else:
        print(f"Updated {where} from template version {result.old_version} to {result.new_version}.")
    if result.asked:
        print(f"Asked: {', '.join(result.asked)}.")
    changed = len(result.changed)
    print(f"{changed} file{'s' * (changed != 1)} changed" + (f": {', '.join(result.changed[:8])}" if changed else "."))
    if result.conflicts:
        print(f"Conflicts to resolve ({len(result.conflicts)}), then commit:", file=sys.stderr)
        for name in result.conflicts:
            print(f"  {name}", file=sys.stderr)
        return ExitCode.UPDATE_CONFLICTS
    if changed:
        print("Review with 'git diff', then commit.")
    return ExitCode.OK


CHECK_HELP = """\
exit codes of check (the first that applies, over all PATHs):
  0    up to date: at the newest release, and no fill's context has changed
  2    a PATH is not a generated project, or its answers file is unreadable (the others are still checked)
  5    the template source cannot be reached (it says why)
  6    behind: a newer template release exists ('scaffold update' brings it in)
  7    stale fills: context documents changed since regions were filled ('scaffold fill --refill ID')
Regions still on the template's fallbacks are listed; they do not change the exit code.
"""


def run_check(args: argparse.Namespace) -> int:
    import json

    from generator import pipeline
    from generator.settings import Settings

    config = Settings.load()
    paths = list(args.paths) or ([] if args.recursive else [Path()])
    if args.recursive is not None:
        found = pipeline.find_projects(args.recursive)
        if not found:
            raise UsageError(f"no generated project (no .copier-answers.yml) under {args.recursive}")
        paths += found
    # One unreadable path must not cost a fleet job every other project's result.
    entries: list[dict[str, Any]] = []
    codes: list[int] = []
    for path in paths:
        try:
            result = pipeline.check_project(path, settings=config)
        except ScaffoldError as error:
            if len(paths) == 1:
                raise  # one project: its error is the command's, worded like every other
            message = redacted(one_line(error))  # a source's URL may carry its credentials
            entries.append({"path": str(path), "error": message, "exit_code": int(error.exit_code)})
            codes.append(int(error.exit_code))
            if not args.json:
                print(f"{path}: error: {message}", file=sys.stderr)
            continue
        entries.append(result.to_dict())
        codes.append(int(result.exit_code))
        if not args.json:
            print("\n".join(_check_lines(result)))
    if args.json:
        print(json.dumps(entries, indent=2))
    for code in (ExitCode.USAGE, ExitCode.EXTERNAL, ExitCode.BEHIND, ExitCode.STALE_FILLS):
        if code in codes:
            return code
    return ExitCode.OK


def _check_lines(result: CheckResult) -> list[str]:
    from generator.cli.report import shown

    where = shown(result.path)
    lines = [f"{where}: template {result.template or '?'} at {result.version or 'unversioned'} from {result.source}"]
    if result.unreachable:
        lines.append(f"  source unreachable: {result.unreachable}")
    elif result.behind:
        lines.append(f"  behind: {result.newest} is out; run 'scaffold update {where}'")
    else:
        lines.append(f"  up to date (newest release: {result.newest or 'none tagged'})")
    if result.unfilled:
        lines.append(f"  on the template's fallbacks: {', '.join(result.unfilled)}")
    if result.stale:
        lines.append(f"  filled from context that changed since: {', '.join(result.stale)}")
    if result.credentials_recorded:
        lines.append(
            "  credentials: its .copier-answers.yml (and git history) records the source's URL with them; "
            f"revoke them, then record the URL without them: scaffold update --source {result.source}"
        )
    return lines

"""The AI fill step on the command line: `scaffold fill`, and the fill after `scaffold new-*`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.errors import ExitCode

if TYPE_CHECKING:  # the handlers import what they use: `scaffold --help` stays fast
    from generator.pipeline import FillRequest
    from generator.results import FillResult

# Settings are worded as `Setting.where_to_set` words them (a test checks): importing generator.settings
# here would slow `scaffold --help`.
FILL_HELP = """\
the AI fill step:
  Needs $ANTHROPIC_API_KEY or 'anthropic_api_key' in the user config; $ANTHROPIC_BASE_URL is
  honoured. One short call first has the main model ($SCAFFOLD_MODEL or 'model' in the user
  config, default claude-sonnet-5-5) choose the team's context documents among BM25's best
  (--no-rerank, or $SCAFFOLD_RERANK or 'rerank' in the user config off, skips it). One request
  then fills every region, with those documents as a cached system prompt. Fills are checked
  (compile, ruff, HCL, bash -n, shellcheck, YAML/JSON/TOML), then must pass the project's own
  'make check' (--no-verify skips it, --verify-command CMD replaces it); failures get one
  repair call, then one call to the escalation model ($SCAFFOLD_ESCALATION_MODEL or
  'escalation_model' in the user config, default claude-opus-5-5); if regions still fail,
  every region keeps the template's fallback and the exit code is 3. Fills are written
  atomically, recorded in .scaffold/fills.yml and committed on their own.
"""


def add_ai_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        metavar="MODEL",
        help="main model for the fill (default: $SCAFFOLD_MODEL or 'model' in the user config, else claude-sonnet-5-5)",
    )
    parser.add_argument(
        "--pretend", action="store_true", help="show the regions, context, token and cost estimates; call nothing"
    )
    verify = parser.add_mutually_exclusive_group()
    verify.add_argument(
        "--verify", action="store_true", help="the fills must pass the project's 'make check' (the default)"
    )
    verify.add_argument(
        "--no-verify",
        action="store_true",
        help="accept fills without the project's checks (the summary says so)",
    )
    parser.add_argument(
        "--verify-command",
        metavar="CMD",
        help="the command the fills must pass instead of 'make check' "
        "(default: $SCAFFOLD_VERIFY_COMMAND or 'verify_command' in the user config)",
    )
    parser.add_argument(
        "--rerank",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="have the model choose the context documents among BM25's best first, in one more call of about "
        "$0.01, or not (default: on, unless $SCAFFOLD_RERANK or 'rerank' in the user config is off)",
    )


def register(sub: argparse._SubParsersAction[Any]) -> None:
    parser = sub.add_parser(
        "fill",
        help="fill the unfilled regions of a generated project with Claude",
        description=(
            "Fill the regions of the project at PATH (default: the current folder) that are not filled yet: "
            "those of a project generated without a key or with --no-ai, those that kept their fallback, and "
            "new ones a template update brought. Running it again changes nothing."
        ),
        epilog=FILL_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("path", nargs="?", type=path_argument, default=Path(), metavar="PATH")
    parser.add_argument(
        "--refill", action="append", default=[], metavar="ID", help="fill region ID (or PATH#ID) again (repeatable)"
    )
    add_ai_flags(parser)
    parser.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation on a terminal")
    parser.set_defaults(handler=run_fill)


def fill_request(args: argparse.Namespace, *, confirm: bool) -> FillRequest:
    from generator.pipeline import FillRequest

    return FillRequest(
        model=args.model,
        verify=not args.no_verify,
        verify_command=args.verify_command or None,
        confirm=confirm,
        rerank=args.rerank,
    )


def path_argument(value: str) -> Path:
    """A PATH argument: an empty one (a shell variable that was not set) is refused, not read as the
    current folder, which `Path("")` is."""
    if not value.strip():
        raise argparse.ArgumentTypeError("the path is empty; give a folder, or . for the current one")
    return Path(value)


def run_fill(args: argparse.Namespace) -> int:
    from generator import pipeline
    from generator.cli.report import make_reporter, pretend_lines, reporting
    from generator.settings import Settings

    config = Settings.load(model=args.model, rerank=args.rerank)
    project = pipeline.real_path(args.path)
    if args.pretend:
        preview = pipeline.preview_fill(project, refill=args.refill, settings=config)
        if preview is None:
            print(f"Nothing to fill in {project}: every region is filled (use --refill ID to redo one).")
        else:
            print("\n".join(pretend_lines(preview)))
        return ExitCode.OK
    reporter = make_reporter()
    try:
        run = pipeline.fill_project(
            project,
            refill=args.refill,
            request=fill_request(args, confirm=not args.yes),
            settings=config,
            reporter=reporter,
        )
    except BaseException:
        reporter.close()
        raise
    if run.result is None:
        reporter.close()
        if run.skipped == "no-regions":
            print(f"Nothing to fill in {project}: every region is filled (use --refill ID to redo one).")
        return ExitCode.OK
    return reporting(run.result, _summarised, before=reporter.close)


def _summarised(result: FillResult) -> int:
    from generator.cli.report import summary

    print("\n".join(summary(result)))
    return ExitCode.FILLS_FELL_BACK if result.fell_back else ExitCode.OK

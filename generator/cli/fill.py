"""The AI fill step on the command line: `scaffold fill`, and the fill after `scaffold new-*`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.errors import ExitCode, Interrupted, ScaffoldError, UsageError

if TYPE_CHECKING:
    from generator.fill.plan import Plan

FILL_HELP = """\
the AI fill step:
  Needs ANTHROPIC_API_KEY (or anthropic_api_key in the user config); ANTHROPIC_BASE_URL is
  honoured. One request to the main model (SCAFFOLD_MODEL, default claude-sonnet-5-5) fills
  every region, with the team's context documents as a cached system prompt. Fills are
  checked (compile, ruff, HCL, bash -n, shellcheck, YAML/JSON/TOML); failures get one repair
  call, then one call to SCAFFOLD_ESCALATION_MODEL (default claude-opus-5-5); if regions still
  fail, every region keeps the template's fallback and the exit code is 3. Fills are written
  atomically, recorded in .scaffold/fills.yml and committed on their own.
"""


def shown(path: Path) -> str:
    """A path as the user would type it: relative when it is under the current folder."""
    try:
        return str(path.relative_to(Path.cwd())) or "."
    except ValueError:
        return str(path)


def add_ai_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", metavar="MODEL", help="main model for the fill (default: $SCAFFOLD_MODEL, config)")
    parser.add_argument(
        "--pretend", action="store_true", help="show the regions, context, token and cost estimates; call nothing"
    )
    parser.add_argument("--verify", action="store_true", help="also run the project's tests ('make test') on the fills")
    parser.add_argument("--verify-command", metavar="CMD", help="the test command --verify runs (implies --verify)")


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
    parser.add_argument("path", nargs="?", type=Path, default=Path(), metavar="PATH")
    parser.add_argument(
        "--refill", action="append", default=[], metavar="ID", help="fill region ID (or PATH#ID) again (repeatable)"
    )
    add_ai_flags(parser)
    parser.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation on a terminal")
    parser.set_defaults(handler=run_fill)


def run_fill(args: argparse.Namespace) -> int:
    from generator.fill import prepare as step
    from generator.fill.plan import make_plan
    from generator.fill.record import RECORD_FILE

    project = args.path.expanduser().resolve()
    plan = make_plan(project, args.refill)
    if not plan.todo:
        print(f"Nothing to fill in {project}: every region is filled (use --refill ID to redo one).")
        return ExitCode.OK
    if args.pretend:
        print("\n".join(step.pretend_lines(step.prepare(plan), step.models(args.model))))
        return ExitCode.OK
    key = step.api_key()
    if not key:
        raise UsageError(
            "scaffold fill needs an Anthropic API key: set ANTHROPIC_API_KEY (or anthropic_api_key in the user "
            "config); --pretend shows what would be sent without one"
        )
    record = _record_bytes(project / RECORD_FILE)
    try:
        return _fill(project, plan, args, key, ask=not args.yes)
    except KeyboardInterrupt:
        if _record_bytes(project / RECORD_FILE) == record:
            raise  # the fill writes all or nothing, and wrote nothing
        where = shown(project / RECORD_FILE)
        raise Interrupted(f"it landed after the fills were written; {where} lists them") from None


def _record_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def fill_state(project: Path) -> str:
    """After an interrupt: which regions hold fills (the fill writes all or nothing, so the record says)."""
    from generator.fill.plan import make_plan

    try:
        todo = len(make_plan(project).todo)
    except (ScaffoldError, OSError, KeyboardInterrupt):  # a second Ctrl-C must not lose the first one's news
        return f"'scaffold fill {shown(project)}' fills any regions not filled yet"
    if not todo:
        return "nothing is left to fill"
    return f"its {todo} regions keep the template's fallbacks until 'scaffold fill {shown(project)}'"


def after_render(dest: Path, args: argparse.Namespace, *, git: bool, ask: bool) -> int:
    """The fill step of `scaffold new-*`: skip politely without a key, never lose the rendered project."""
    from generator.fill import prepare as step
    from generator.fill.plan import make_plan

    try:
        plan = make_plan(dest)
        if not plan.todo:
            return ExitCode.OK
        key = step.api_key()
        if not key:
            print(
                f"AI fill skipped: no API key. Set ANTHROPIC_API_KEY, then run 'scaffold fill {shown(dest)}' to fill "
                f"its {len(plan.todo)} regions (until then they hold the template's working fallbacks)."
            )
            return ExitCode.OK
        # Just rendered: nothing of the user's can be in these files, even if a parent repo sees them untracked.
        return _fill(dest, plan, args, key, ask=ask, git=git, fresh=True)
    except ScaffoldError as error:
        print(
            f"scaffold: AI fill failed: {error}; {shown(dest)} is created with the template's fallbacks, "
            f"run 'scaffold fill {shown(dest)}' once fixed",
            file=sys.stderr,
        )
        return ExitCode.FILLS_FELL_BACK


def _fill(
    project: Path, plan: Plan, args: argparse.Namespace, key: str, *, ask: bool, git: bool = True, fresh: bool = False
) -> int:
    from generator.fill import ladder as run
    from generator.fill import prepare as step
    from generator.fill import verify
    from generator.fill.pricing import format_cost
    from generator.fill.report import make_reporter, summary
    from generator.template import questionnaire

    chosen = step.models(args.model)
    # Every setting is checked before the question: a bad one must not surface after the user said yes.
    client = step.client_options(key)
    command = verify.verify_command(project, args.verify_command) if args.verify or args.verify_command else None
    if not fresh:
        run.check_tree(plan)
    prepared = step.prepare(plan)
    if ask and questionnaire.has_terminal():
        import questionary

        cost = prepared.first_call_estimate().cost(chosen.main)
        about = f"about {format_cost(cost)}" if cost is not None else "cost unknown: not in scaffold's price table"
        question = f"Fill {len(plan.todo)} regions with {chosen.main} ({about})?"
        if not questionary.confirm(question, default=True).unsafe_ask():
            print(f"Not filled; run 'scaffold fill {shown(project)}' when you want to.")
            return ExitCode.OK
    options = run.FillOptions(
        model=chosen.main,
        escalation=chosen.escalation,
        client=client,
        verify_command=command,
        commit=git,
        # Outside git nothing else could bring back what the fill overwrites (a user's own region code).
        keep_previous=not fresh and plan.repo is None,
    )
    reporter = make_reporter()
    try:
        result = run.fill(plan, prepared.documents, prepared.context_hashes, options, reporter)
    finally:
        reporter.close()
    print("\n".join(summary(result)))
    return ExitCode.FILLS_FELL_BACK if result.fell_back else ExitCode.OK

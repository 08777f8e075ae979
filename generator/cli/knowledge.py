"""Commands on the team's knowledge: context, init, new-decision, new-incident, new-runbook, mcp.

Thin: parse, call `generator.context.api` / `generator.context.home`, print. Selection lives in
`generator.context`; nothing heavy is imported until a handler runs.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from generator.cli.streams import stdout_closed
from generator.context.tokens import DEFAULT_BUDGET
from generator.errors import UsageError, showable

if TYPE_CHECKING:
    from datetime import date

    from generator.context.api import ContextResult
    from generator.context.home import InitResult, NewDocument

CONTEXT_DESCRIPTION = """\
Print the context-injected prompt for TASK, ready to paste into any AI assistant: the core
documents (patterns.md, architecture.md: their general sections and those for the task's
kind), the documents context.yml lists for the kind, project-contexts/PROJECT.md, and the
decisions, incidents, runbooks and anti-patterns that BM25 ranks close to the best match
for the task (with --rerank, those the model chooses among BM25's best 15) - fitted to the
token budget, with likely secrets redacted. Notes, warnings and a summary go to stderr; the
prompt (or --json, or --explain) to stdout.
"""

CONTEXT_EPILOG = """\
tokens are estimated offline: ceil(ASCII characters / 3) + one per other character,
which over-counts Claude's tokenizer for English and code.

examples:
  scaffold context "add a /refunds endpoint to the billing API"
  scaffold context --kind infra --budget 8000 "S3 bucket for audit logs"
  git diff | scaffold context --kind review -
  scaffold context --explain "checkout returns 502s since the deploy"
  scaffold context --rerank --explain "customers got the reminder SMS twice"
"""


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the knowledge commands to the `scaffold` parser."""
    context = sub.add_parser(
        "context",
        help="print a context-injected prompt for a task",
        description=CONTEXT_DESCRIPTION,
        epilog=CONTEXT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    context.add_argument("task", metavar="TASK", help='the task in words ("-" reads it from stdin)')
    context.add_argument("--kind", help="skip classification and use this kind from context.yml (any capitals)")
    context.add_argument("--project", metavar="NAME", help="add project-contexts/NAME.md when it exists")
    context.add_argument(
        "--budget",
        type=_positive_int,
        default=DEFAULT_BUDGET,
        metavar="TOKENS",
        help=f"cap on the whole prompt in estimated tokens (default {DEFAULT_BUDGET:,})",
    )
    output = context.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the selection and prompt as JSON")
    output.add_argument(
        "--explain", action="store_true", help="print why each document was chosen and what was cut, not the prompt"
    )
    context.add_argument(
        "--rerank",
        action=argparse.BooleanOptionalAction,
        default=None,
        help=(
            "have the model choose among the documents BM25 ranked: one call of a few thousand tokens, "
            "kept in the cache (needs an API key; default: SCAFFOLD_RERANK, off)"
        ),
    )
    context.add_argument(
        "--exact-tokens",
        action="store_true",
        help=(
            "also count tokens with Anthropic's API "
            "(needs $ANTHROPIC_API_KEY or 'anthropic_api_key' in the user config)"
        ),
    )
    _home_option(context)
    # It ranks: SQLite may count no memory, so that its second connection ranks beside (`beside`).
    context.set_defaults(handler=_context, parallel_reads=True)

    init = sub.add_parser(
        "init",
        help="create your team's knowledge home (a git repository)",
        description=(
            "Create a knowledge home in DIR: a git repository with the starter context/, the templates, "
            "includes/ and copier.yml, committed and tagged v0.1.0, and record it in the user config so "
            "later commands take templates and context from it. DIR must be new or empty, or an empty git "
            "clone (a repository just made on your git server: the home is committed there, to push); if it "
            "already is a knowledge home (a clone of your team's), it is only recorded."
        ),
    )
    init.add_argument("dir", metavar="DIR", nargs="?", help="where to create it (default: in the user data dir)")
    init.set_defaults(handler=_init)

    server = sub.add_parser(
        "mcp",
        help="serve the team's knowledge to AI assistants (an MCP server on stdio)",
        description=(
            "Serve the knowledge home to AI assistants (Claude Code, Cursor, VS Code...) as a Model Context "
            "Protocol server on stdin/stdout: tools for context, search, documents, templates and project "
            "status, the documents as resources, and a prompt. An assistant starts it; it is not meant to "
            "be run by hand. Every text it sends is redacted like `scaffold context`'s."
        ),
        epilog="setup for each assistant, and what each tool returns: docs/assistants.md",
    )
    _home_option(server)
    server.set_defaults(handler=_mcp, parallel_reads=True)  # as `context`

    for doc_kind, folder, example in (
        ("decision", "decisions", "Use PostgreSQL for relational data"),
        ("incident", "incidents", "Checkout returned 502s after the 2.3 deploy"),
        ("runbook", "runbooks", "Rotate the database credentials"),
    ):
        command = sub.add_parser(
            f"new-{doc_kind}",
            help=f"add a numbered, dated {doc_kind} to the knowledge home",
            description=(
                f"Add context/{folder}/NNNN-<title>.md to the knowledge home from its "
                f"context/_templates/{doc_kind}.md, print its path, and leave committing to you. "
                "It is ranked once you edit it: an unedited copy of the template is left out of selection."
            ),
        )
        command.add_argument("title", metavar="TITLE", help=f'e.g. "{example}"')
        command.add_argument("--date", type=_iso_date, help="the date to record (default: today), YYYY-MM-DD")
        _home_option(command)
        command.set_defaults(handler=_new_document, doc_kind=doc_kind)


def _home_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--home",
        metavar="DIR",
        help=(
            "knowledge home to use (default: $SCAFFOLD_HOME or 'home' in the user config, which `scaffold init` "
            "records, else the bundled one)"
        ),
    )


def _positive_int(value: str) -> int:
    try:
        number = int(value.replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of tokens") from None
    if number <= 0:
        raise argparse.ArgumentTypeError(f"{value!r} must be positive")
    return number


def _iso_date(value: str) -> date:
    from datetime import date  # only the new-* documents' --date: not imported for every command

    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2025-03-14") from None


def _stdin_text() -> str:
    """The task piped in (`git diff | scaffold context -`), as text.

    A diff may hold a file that is not UTF-8 (Latin-1): its bytes that are not are replaced by
    U+FFFD, with a warning, rather than failing the whole task. A BOM goes, and CRLF line ends
    become LF, as reading stdin as text would have made them. UTF-16 with its BOM (PowerShell
    5.1's `git diff > d.txt`) is read as such; without one, its NUL bytes would hide every word
    from ranking and redaction alike, so it is refused.
    """
    if sys.stdin is None:
        raise UsageError('stdin is closed; give the task as an argument instead of "-"')
    buffer: BinaryIO | None = getattr(sys.stdin, "buffer", None)
    # Without a byte stream (a test's StringIO), bytes Python could not decode come back as surrogates.
    data = buffer.read() if buffer is not None else sys.stdin.read().encode("utf-8", "surrogateescape")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace").replace("\r\n", "\n")
    if b"\0" in data:
        raise UsageError("the task on stdin holds NUL bytes (UTF-16 without a BOM?); convert it to UTF-8 first")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        print(
            "scaffold: warning: the task on stdin is not all UTF-8; what is not was replaced by U+FFFD", file=sys.stderr
        )
        text = data.decode("utf-8-sig", errors="replace")
    return text.replace("\r\n", "\n")


def _context(args: argparse.Namespace) -> int:
    from generator.context.api import build_context, count_tokens
    from generator.context.redact import NAMES, TASK

    task = _stdin_text() if args.task == "-" else args.task
    result = build_context(
        task, kind=args.kind, project=args.project, budget=args.budget, home=args.home, rerank=args.rerank
    )
    for note in result.notes:
        print(f"scaffold: note: {showable(note)}", file=sys.stderr)
    for warning in result.warnings:
        print(f"scaffold: warning: {showable(warning)}", file=sys.stderr)
    for finding in result.redactions:
        # The task, or the headings and file names the result shows (no line of their own), or a document.
        where = finding.path if finding.path in (TASK, NAMES) else result.home / "context" / finding.path
        line = f":{finding.line}" if finding.line else ""
        print(f"scaffold: redacted a likely secret ({finding.kind}) at {showable(str(where))}{line}", file=sys.stderr)
    exact = count_tokens(result.prompt) if args.exact_tokens else None

    if args.json:
        data = result.to_dict()
        if exact is not None:
            data["exact_tokens"] = exact
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    if args.explain:
        print(explain(result), end="")
        return 0
    print(result.prompt, end="")
    counted = f", {exact:,} by Anthropic's count" if exact is not None else ""
    left_out = f"; {len(result.omitted)} left out (see --json)" if result.omitted else ""
    print(
        f"scaffold: kind '{result.kind}' ({result.kind_reason}); {len(result.documents)} sections, "
        f"~{result.tokens:,} of {result.budget:,} tokens{counted}{left_out}",
        file=sys.stderr,
    )
    return 0


EXPLAIN_RANKED = 12


def explain(result: ContextResult) -> str:
    """The selection in words: the kind, every chosen section, the ranking, and what was cut."""
    lines = [f"kind: {result.kind} ({result.kind_reason})"]
    if result.also_kinds:
        lines.append(f"also the core sections for: {', '.join(result.also_kinds)} (their keywords match too)")
    if result.project:
        lines.append(f"project: {result.project} ({result.project_reason})")
    lines += ["", f"chosen: {len(result.documents)} sections, ~{result.tokens:,} of {result.budget:,} tokens"]
    lines += [f"  {d.tokens:>6,}  {d.path} :: {d.section}  ({d.reason})" for d in result.documents]
    if result.ranking:
        lines += ["", "ranked documents (best section + half the second best):"]
        shown = result.ranking[:EXPLAIN_RANKED]
        for item in shown:
            lines.append(f"  {'kept' if item.kept else 'cut ':<4} {item.score:7.2f}  {item.path}  ({item.reason})")
        if len(result.ranking) > len(shown):
            lines.append(
                f"  ... and {len(result.ranking) - len(shown)} more, cut, scoring {shown[-1].score:.2f} or less"
            )
    if result.cut:
        lines += ["", "sections for other kinds or other answers, left out:"]
        lines += [f"  {d.tokens:>6,}  {d.path} :: {d.section}  ({d.reason})" for d in result.cut]
    if result.omitted:
        lines += ["", "left out:"]
        # What was asked for and is not there has no size, and its path says its section already.
        lines += [
            f"  {d.tokens:>6,}  {d.path} :: {d.section or '-'}  ({d.reason})"
            if d.tokens
            else f"  {'-':>6}  {d.path}  ({d.reason})"
            for d in result.omitted
        ]
    # Headings and names quoted as written: a control character in one must not reach the terminal raw.
    return "\n".join(showable(line) for line in lines) + "\n"


def _init(args: argparse.Namespace) -> int:
    from generator.cli.report import reporting
    from generator.context.home import init_home

    return reporting(init_home(Path(args.dir) if args.dir else None), _say_init)


def _say_init(result: InitResult) -> int:
    from generator.cli.report import in_place_of
    from generator.context.home import INITIAL_TAG, shell_argument

    # The home recorded until now (which SCAFFOLD_HOME or --home may have overridden): nothing of it
    # is touched, but a user who ran `init` by mistake must be able to go back.
    replaced = in_place_of(result.replaced)
    if result.adopted:
        print(f"{result.root} already is a knowledge home; recorded it in {result.config_path}{replaced}")
        return 0
    if result.in_clone:  # its remote is where the team clones from
        made = f"Created the knowledge home in the clone {result.root} (a commit tagged {INITIAL_TAG})"
        push = f"push it with its tags (git -C {shell_argument(result.root)} push -u origin HEAD --tags)"
    else:
        made = f"Created the knowledge home {result.root} (a git repository tagged {INITIAL_TAG})"
        push = "push it where your team can clone it, with its tags (git push -u origin main --tags)"
    print(
        f"{made} and recorded it in {result.config_path}{replaced}.\n"
        f"Next: edit {result.root / 'context'}, commit, and {push}: projects record the tag they were made from."
    )
    return 0


def _new_document(args: argparse.Namespace) -> int:
    from generator.cli.report import reporting
    from generator.context.home import new_document

    return reporting(new_document(args.doc_kind, args.title, home=args.home, when=args.date), _say_new_document)


def _say_new_document(made: NewDocument) -> int:
    from generator.cli.report import commit_it

    print(made.path)
    for warning in made.warnings():
        print(f"scaffold: warning: {warning}", file=sys.stderr)
    print(f"scaffold: {commit_it(made)}", file=sys.stderr)
    return 0


def _mcp(args: argparse.Namespace) -> int:
    from generator.context.home import resolve_home
    from generator.plumbing.extras import MCP, load_error, require
    from generator.settings import Settings

    require(MCP, "scaffold mcp")
    resolve_home(Settings.load(home=args.home))  # a bad --home or config fails now, not at the first call
    if sys.stdin is None or stdout_closed():
        closed = "stdin" if sys.stdin is None else "stdout"
        raise UsageError(
            f"{closed} is closed; scaffold mcp speaks the Model Context Protocol on stdin and stdout: "
            "let an assistant start it (docs/assistants.md)"
        )
    if sys.stdin.isatty():
        print(
            "scaffold: mcp speaks the Model Context Protocol on stdin and stdout; let an assistant start it "
            "(docs/assistants.md). Ctrl-C stops it.",
            file=sys.stderr,
        )
    # The assistant (or Ctrl-C) stopping the server is the normal way for it to end, even while
    # the SDK is still being imported.
    with contextlib.suppress(KeyboardInterrupt):
        try:
            # The SDK alone first: whatever fails to import under it (a half-removed anyio, an mcp
            # 1.x without mcpserver) is the installed part's trouble, not scaffold's.
            import mcp.server.mcpserver
            import mcp.shared.exceptions
            import mcp.types  # noqa: F401
        except ImportError as error:
            raise load_error(MCP, "scaffold mcp", error) from error
        from generator.assist.mcp_server import serve

        serve(args.home)
    return 0

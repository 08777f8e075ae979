"""`scaffold mcp`: the knowledge home as a Model Context Protocol server on stdio.

Built on the official `mcp` SDK's `MCPServer`: each tool is a typed function whose signature
is its JSON schema and whose docstring is what the assistant reads. The tools call
`generator.assist.tools.Tools`, which answers as the CLI does; this module only adds the
protocol: JSON text results, error results carrying the CLI's one-line messages, the context
documents as `scaffold://context/<path>` resources, and one prompt template.

The SDK owns stdout while serving (it points file descriptor 1 at stderr for everything but
the protocol), so nothing scaffold or a child process prints can corrupt a message. A failure
is an error result, never a dead server: `ScaffoldError`s keep their message, anything else is
reported as an internal error with its traceback on stderr.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, CallToolResult, Resource, TextContent, ToolAnnotations
from pydantic import BeforeValidator, Field

from generator import __version__
from generator.assist.tools import Clean, Tools
from generator.context.tokens import DEFAULT_BUDGET
from generator.errors import ScaffoldError, one_line
from generator.plumbing.transaction import HELD

RESOURCE_PREFIX = "scaffold://context/"
INSTRUCTIONS = """\
scaffold serves the team's written knowledge: coding patterns, architecture principles, style,
architecture decisions, incident postmortems, runbooks, anti-patterns and per-project notes,
kept as markdown in the team's knowledge home. Before planning or changing code, call
get_context with the task in a sentence (and project= the project's name when it has notes);
follow the documents it returns and say where the task conflicts with them. Use
search_knowledge and read_document to look further, classify to see which kind of task the
team's rules treat it as, list_templates and project_status for generated projects, and
new_decision / new_incident / new_runbook to record what was decided or learned (they write
a file in the knowledge home and never commit). Likely secrets come back as [REDACTED: kind].
"""

_log = logging.getLogger("scaffold.mcp")
_READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
# get_context calls the Anthropic API when asked to re-rank (its `rerank`, or SCAFFOLD_RERANK).
_READ_ONLY_MAY_CALL_CLAUDE = ToolAnnotations(read_only_hint=True, open_world_hint=True)
_WRITES = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False)

Part = Annotated[str | None, Field(description="Markdown text for this part of the document")]
MoreSections = Annotated[
    dict[str, str] | None,
    Field(description="More sections by heading, for a home whose document template has other headings"),
]
Day = Annotated[str | None, Field(description="The date to record, YYYY-MM-DD (default: today)")]


def _not_true_or_false(value: object) -> object:
    """JSON's `true` is no number of tokens or results (lax validation took it as 1); a number written as
    a string still passes, as clients send them so."""
    if isinstance(value, bool):
        raise ValueError("expected a whole number, not true or false")
    return value


WholeNumber = Annotated[int, BeforeValidator(_not_true_or_false)]


def serve(home: str | Path | None = None) -> None:
    """Serve the knowledge home on stdin/stdout until the client closes stdin or signals the process."""
    tools = Tools(home)
    server = build_server(tools)
    # The SDK logs to stderr through the root logger's handlers; bm25s sets its own logger to DEBUG
    # when it is imported, and its index-building chatter would fill the client's server log.
    for handler in logging.getLogger().handlers:
        handler.setLevel(logging.WARNING)
    if threading.current_thread() is threading.main_thread():
        for signum in HELD:
            if signal.getsignal(signum) is not signal.SIG_IGN:
                signal.signal(signum, lambda signum, frame: _stop(tools))
    try:
        server.run("stdio")
    except BaseExceptionGroup as group:
        # The SDK's task group wraps what ended it. A client that closed its end of our stdout has gone: a
        # session may end so. Output the machine refused (a full disk) is told by the CLI, as any command's.
        _, rest = group.split((BrokenPipeError, ConnectionResetError))
        if rest is None:
            return
        refused = _leaves(rest)
        if all(isinstance(error, OSError) for error in refused):
            raise refused[0] from group
        raise


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    """The exceptions an exception group holds, its nested groups opened."""
    found: list[BaseException] = []
    for error in group.exceptions:
        found += _leaves(error) if isinstance(error, BaseExceptionGroup) else [error]
    return found


def _stop(tools: Tools) -> None:
    """End the process at once, but never in the middle of a tool (one may be writing a document).

    An orderly shutdown would wait for the client to close stdin: the SDK reads it on a worker
    thread, and a blocking read cannot be cancelled. Nothing the server holds needs saving; every
    request saves its caches before it answers.
    """
    with tools.lock:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def build_server(tools: Tools) -> MCPServer[Any]:
    """The server with every tool, the resources and the prompt registered."""
    server = _Server(tools)
    _context_tools(server, tools)
    _document_tools(server, tools)
    _project_tools(server, tools)
    _resources_and_prompt(server, tools)
    return server


class _Server(MCPServer[Any]):
    """MCPServer whose resource list is the home's documents as they are now, not as they were at start."""

    def __init__(self, tools: Tools) -> None:
        super().__init__(
            "scaffold",
            title="scaffold: the team's knowledge",
            version=__version__,
            instructions=INSTRUCTIONS,
            log_level="WARNING",
        )
        self.tools = tools

    async def list_resources(self) -> list[Resource]:
        def documents() -> list[Resource]:
            with self.tools.lock:
                listed = self.tools.documents()
                named = self.tools.redact([[info.path, info.title] for info in listed])
                return [
                    Resource(
                        uri=RESOURCE_PREFIX + info.path,
                        name=path,
                        title=title,
                        description=f"{path} in the knowledge home's context/ (~{info.tokens:,} tokens)",
                        mime_type="text/markdown",
                    )
                    for info, (path, title) in zip(listed, named, strict=True)
                ]

        try:
            # On a worker thread: listing takes milliseconds, but waits for the tool that holds the lock,
            # which may be waiting for the model (a re-rank); the event loop goes on answering meanwhile.
            return [*await super().list_resources(), *await asyncio.to_thread(documents)]
        except ScaffoldError as error:
            raise MCPError(code=INVALID_PARAMS, message=self.tools.redact(one_line(error))) from None


def answer(tools: Tools, call: Callable[[], Any]) -> CallToolResult:
    """A tool's result: its data as JSON text with secrets redacted, or an error result with one line."""
    with tools.lock:
        try:
            data = tools.redact(call())
        except ScaffoldError as error:
            return _error(tools, one_line(error))
        except Exception as error:  # a bug: the session goes on, the traceback goes to stderr
            _log.exception("scaffold mcp: internal error")
            return _error(tools, f"internal error: {type(error).__name__}: {one_line(error)} (please report it)")
    return CallToolResult(content=[TextContent(type="text", text=json.dumps(data, indent=2, ensure_ascii=False))])


def _error(tools: Tools, message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=tools.redact(message))], is_error=True)


def _context_tools(server: MCPServer[Any], tools: Tools) -> None:
    @server.tool(title="Context for a task", annotations=_READ_ONLY_MAY_CALL_CLAUDE)
    def get_context(
        task: Annotated[str, Field(description="The task in a sentence or two, as you would tell a colleague")],
        kind: Annotated[
            str | None, Field(description="Skip classification and use this kind of context.yml (see classify)")
        ] = None,
        project: Annotated[
            str | None, Field(description="The project's name, to add its notes (project-contexts/NAME.md)")
        ] = None,
        budget: Annotated[
            WholeNumber, Field(description="Cap on the whole prompt, in estimated tokens")
        ] = DEFAULT_BUDGET,
        rerank: Annotated[
            bool | None,
            Field(
                description="Have Claude choose among the documents BM25 ranked (one paid call, about $0.01, "
                "cached; needs an Anthropic API key where the server runs); left out, the server's "
                "setting decides (SCAFFOLD_RERANK or the user config's rerank), off unless set",
                strict=True,  # true or false: "yes" and 1 were taken as true
            ),
        ] = None,
    ) -> CallToolResult:
        """Select the team's knowledge for a task, exactly as `scaffold context --json` does: the core
        documents (patterns, architecture), the documents context.yml lists for the task's kind, the
        project's notes, and the decisions, incidents, runbooks and anti-patterns that rank highest for
        the task, fitted to the budget, likely secrets redacted. Returns JSON: kind and kind_reason;
        documents (path, section, tokens, reason for each chosen section); omitted (what did not fit or
        is missing); redactions (file, line, kind); tokens; budget; warnings; notes; home; and prompt, the
        paste-ready prompt holding the documents and the task. Call it before planning or changing code,
        and follow what it returns. With rerank, Claude chooses the ranked documents (their reasons say so)."""
        return answer(tools, lambda: tools.get_context(task, kind, project, budget, rerank))

    @server.tool(title="Kind of a task", annotations=_READ_ONLY)
    def classify(task: Annotated[str, Field(description="The task in a sentence or two")]) -> CallToolResult:
        """Which kind of task the team's context.yml makes this (api, infra, service, script, review...),
        which decides the documents get_context adds. Returns JSON: kind, reason (the keywords that
        matched, or that the default kind applied), keywords, description of the kind, and kinds (every
        kind defined, for get_context's kind argument)."""
        return answer(tools, lambda: tools.classify(task))

    @server.tool(title="Search the team's knowledge", annotations=_READ_ONLY)
    def search_knowledge(
        query: Annotated[str, Field(description="Words to look for, e.g. 'connection pool exhaustion'")],
        limit: Annotated[WholeNumber, Field(description="How many sections to return, 1 to 50")] = 10,
    ) -> CallToolResult:
        """Full-text search (BM25) over every document of the knowledge home, section by section.
        Returns JSON: query and results, best first, each with path (relative to context/, for
        read_document), heading (the section's heading path), line, score and snippet."""
        return answer(tools, lambda: tools.search_knowledge(query, limit))

    @server.tool(title="Read a document", annotations=_READ_ONLY)
    def read_document(
        path: Annotated[
            str,
            Field(description="Path relative to the home's context/ folder, e.g. decisions/0002-fastapi.md"),
        ],
    ) -> CallToolResult:
        """One document of the knowledge home, whole, with likely secrets redacted. Only files inside
        context/ are served: absolute paths, '..' and links leading outside are refused. Returns JSON:
        path, text and redactions (line and kind of each secret replaced), and a note when the file is
        larger than a document may be (1 MB) and text is its first part, as search reads it."""
        return answer(tools, lambda: tools.read_document(path))


def _document_tools(server: MCPServer[Any], tools: Tools) -> None:
    @server.tool(title="Record a decision", annotations=_WRITES)
    def new_decision(
        title: Annotated[str, Field(description="The decision as a short title, e.g. 'Use PostgreSQL for orders'")],
        context: Part = None,
        decision: Part = None,
        consequences: Part = None,
        status: Annotated[str | None, Field(description="Proposed (the default), Accepted, Superseded...")] = None,
        date: Day = None,
        sections: MoreSections = None,
    ) -> CallToolResult:
        """Write the next numbered architecture decision record (context/decisions/NNNN-title.md) from
        the home's template, with the sections given filled in and the others keeping the template's
        guidance. The file is not committed: tell the user to review and commit it. Returns JSON: path,
        document (its path in context/), home, committed (false), warnings (tell the user: an older
        document of the same title, a secret the title seems to hold) and next."""
        parts = {"context": context, "decision": decision, "consequences": consequences, **(sections or {})}
        return answer(tools, lambda: tools.new_document("decision", title, parts, {"status": status}, date))

    @server.tool(title="Record an incident", annotations=_WRITES)
    def new_incident(
        title: Annotated[str, Field(description="What broke, e.g. 'Checkout returned 502s after the 2.3 deploy'")],
        summary: Part = None,
        impact: Part = None,
        timeline: Part = None,
        root_cause: Part = None,
        contributing_factors: Part = None,
        what_went_well: Part = None,
        action_items: Part = None,
        severity: Annotated[str | None, Field(description="e.g. SEV2")] = None,
        duration: Annotated[str | None, Field(description="e.g. '45 minutes (14:02 to 14:47 UTC)'")] = None,
        status: Annotated[str | None, Field(description="Draft (the default) or Final")] = None,
        date: Day = None,
        sections: MoreSections = None,
    ) -> CallToolResult:
        """Write the next numbered incident postmortem (context/incidents/NNNN-title.md) from the home's
        template, blameless, with the sections given filled in. Not committed. Returns JSON: path,
        document, home, committed (false), warnings and next."""
        parts = {
            "summary": summary,
            "impact": impact,
            "timeline": timeline,
            "root_cause": root_cause,
            "contributing_factors": contributing_factors,
            "what_went_well": what_went_well,
            "action_items": action_items,
            **(sections or {}),
        }
        fields = {"severity": severity, "duration": duration, "status": status}
        return answer(tools, lambda: tools.new_document("incident", title, parts, fields, date))

    @server.tool(title="Write a runbook", annotations=_WRITES)
    def new_runbook(
        title: Annotated[str, Field(description="The operation, e.g. 'Rotate the database credentials'")],
        when_to_use: Part = None,
        before_you_start: Part = None,
        steps: Annotated[str | None, Field(description="Numbered steps, each one action with its command")] = None,
        verify: Part = None,
        if_something_goes_wrong: Part = None,
        owner: Annotated[str | None, Field(description="The owning team")] = None,
        date: Day = None,
        sections: MoreSections = None,
    ) -> CallToolResult:
        """Write the next numbered runbook (context/runbooks/NNNN-title.md) from the home's template,
        with the sections given filled in. Not committed. Returns JSON: path, document, home,
        committed (false), warnings and next."""
        parts = {
            "when_to_use": when_to_use,
            "before_you_start": before_you_start,
            "steps": steps,
            "verify": verify,
            "if_something_goes_wrong": if_something_goes_wrong,
            **(sections or {}),
        }
        return answer(tools, lambda: tools.new_document("runbook", title, parts, {"owner": owner}, date))


def _project_tools(server: MCPServer[Any], tools: Tools) -> None:
    @server.tool(title="Templates", annotations=_READ_ONLY)
    def list_templates() -> CallToolResult:
        """The project templates the team's template source offers (what `scaffold list` shows), each
        with its questions, their types, choices and defaults. Create a project with
        `scaffold new TEMPLATE NAME --defaults -d QUESTION=ANSWER` in a terminal. Returns JSON: source,
        origin, version and templates (name, description, questions)."""
        return answer(tools, tools.list_templates)

    @server.tool(title="Status of a generated project", annotations=_READ_ONLY)
    def project_status(
        path: Annotated[
            str, Field(description="The project's folder, absolute or relative to where the server runs")
        ] = ".",
    ) -> CallToolResult:
        """Where a project generated by scaffold stands, as `scaffold check --json` says: its template
        and recorded version, the newest release at the template source, whether it is behind ('scaffold
        update' brings it in), regions still holding the template's fallback code, and filled regions whose
        context documents changed since. Returns JSON: path, template, source, version, newest, behind,
        unfilled, stale, unreachable, credentials_recorded and exit_code."""
        return answer(tools, lambda: tools.project_status(path))


def _resources_and_prompt(server: MCPServer[Any], tools: Tools) -> None:
    @server.resource(
        RESOURCE_PREFIX + "{+path}",
        name="context-document",
        title="A document of the knowledge home",
        description="Any file of the knowledge home's context/ folder by its path there, secrets redacted",
        mime_type="text/markdown",
    )
    def context_document(path: str) -> str:
        with tools.lock:
            try:
                document = tools.read_document(path)
                if "note" not in document:
                    return str(document["text"])  # already redacted (`Clean`)
                # A resource is text alone: the note that it is only a file's first part goes at its end,
                # where a file name holding `-->` cannot end the comment early.
                note = str(tools.redact(document["note"])).replace("-->", "--&gt;")
                return str(Clean(document["text"] + f"\n\n<!-- scaffold: {note} -->\n"))
            except ScaffoldError as error:
                raise MCPError(code=INVALID_PARAMS, message=tools.redact(one_line(error))) from None

    @server.prompt(
        name="task_with_context",
        title="Task with the team's context",
        description="Wrap a task with the parts of the team's knowledge that apply to it (scaffold context)",
    )
    def task_with_context(
        task: Annotated[str, Field(description="The task in a sentence or two")],
        kind: Annotated[str | None, Field(description="A kind of context.yml, to skip classification")] = None,
        project: Annotated[str | None, Field(description="The project's name, to add its notes")] = None,
    ) -> str:
        with tools.lock:
            try:
                return str(tools.redact(tools.prompt(task, kind, project)))
            except ScaffoldError as error:
                raise MCPError(code=INVALID_PARAMS, message=tools.redact(one_line(error))) from None

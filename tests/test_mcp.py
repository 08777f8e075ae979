"""`scaffold mcp` over the real protocol: the SDK's own stdio client against the server as a subprocess.

Each test opens one session (`scaffold mcp --home HOME`, spawned by `mcp.client.stdio.stdio_client`)
and drives it with `mcp.ClientSession`: no mocks between the client and the core. The home is made
with `scaffold init` and carries a planted runbook with an AWS key and a quoted API key.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult, TextContent, TextResourceContents

import generator
from generator.assist.tools import Tools
from generator.cli import main
from generator.context import redact as redact_module
from generator.context.home import init_home
from generator.context.redact import Span
from generator.errors import UsageError
from generator.plumbing import extras
from tests.fakeapi import FakeAnthropic, Reply
from tests.helpers import run

T = TypeVar("T")

AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
API_KEY = "swordfish-correct-horse-42"
PLANTED = "runbooks/rotate-deploy-keys.md"
RUNBOOK = f"""\
# Rotate the deploy keys

## Steps

1. Find the old credentials. They were once pasted here by mistake:

       aws_access_key_id = {AWS_KEY}
       api_key = "{API_KEY}"

2. Rotate both in the secrets manager, then redeploy billing-api.
"""
TOOLS = {
    "get_context",
    "classify",
    "search_knowledge",
    "read_document",
    "list_templates",
    "new_decision",
    "new_incident",
    "new_runbook",
    "project_status",
}
TASK = "add a /refunds endpoint to the billing API"
# The first message of a session, for the tests that speak the protocol's lines themselves.
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, render_home: None) -> Path:
    """A knowledge home from `scaffold init`, with the planted runbook committed."""
    root = init_home(tmp_path_factory.mktemp("knowledge") / "home").root
    (root / "context" / PLANTED).write_text(RUNBOOK, encoding="utf-8")
    run(["git", "add", "-A"], cwd=root)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "planted"], cwd=root)
    return root


def session(
    home: Path, body: Callable[[ClientSession], Awaitable[T]], cwd: Path | None = None, log: Path | None = None
) -> T:
    """Run `body` against a fresh `scaffold mcp --home HOME` server, through the SDK's stdio client."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "generator", "mcp", "--home", str(home)],
        env=dict(os.environ),
        cwd=cwd,
    )

    async def drive() -> T:
        with (log or home.parent / "server.log").open("a", encoding="utf-8") as errlog:
            async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as client:
                await client.initialize()
                return await body(client)

    return asyncio.run(drive())


def text_of(result: CallToolResult) -> str:
    [content] = result.content
    assert isinstance(content, TextContent)
    return content.text


def data_of(result: CallToolResult) -> Any:
    assert not result.is_error, text_of(result)
    return json.loads(text_of(result))


def error_of(result: CallToolResult) -> str:
    assert result.is_error, text_of(result)
    return text_of(result)


def cli_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """The one-line message `scaffold ARGV` prints, without its `scaffold: error: ` prefix."""
    assert main(list(argv)) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("scaffold: error: "), err
    return err.removeprefix("scaffold: error: ")


# --- discovery ------------------------------------------------------------------------------------------------


def test_lists_every_tool_with_a_schema_and_a_description(home: Path) -> None:
    async def body(client: ClientSession) -> Any:
        return await client.list_tools(), await client.list_prompts(), await client.list_resource_templates()

    tools, prompts, templates = session(home, body)

    assert {tool.name for tool in tools.tools} == TOOLS
    for tool in tools.tools:
        assert tool.description and len(tool.description) > 100, tool.name
        assert tool.input_schema["type"] == "object"
        for name, prop in tool.input_schema.get("properties", {}).items():
            assert prop.get("description"), f"{tool.name}.{name} has no description"
        writes = tool.name.startswith("new_")
        assert tool.annotations is not None and tool.annotations.read_only_hint is not writes, tool.name
    schemas = {tool.name: tool.input_schema for tool in tools.tools}
    assert schemas["get_context"]["required"] == ["task"]
    assert set(schemas["get_context"]["properties"]) == {"task", "kind", "project", "budget", "rerank"}
    # It may call the Anthropic API (to re-rank, when asked); no other tool leaves the machine.
    assert [tool.name for tool in tools.tools if tool.annotations and tool.annotations.open_world_hint] == [
        "get_context"
    ]
    assert schemas["read_document"]["required"] == ["path"]
    assert "root_cause" in schemas["new_incident"]["properties"]
    assert [prompt.name for prompt in prompts.prompts] == ["task_with_context"]
    assert [t.uri_template for t in templates.resource_templates] == ["scaffold://context/{+path}"]


# --- get_context and classify ---------------------------------------------------------------------------------


def test_get_context_returns_what_scaffold_context_json_prints(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    async def body(client: ClientSession) -> Any:
        first = await client.call_tool("get_context", {"task": TASK, "project": "billing-api"})
        again = await client.call_tool("get_context", {"task": TASK, "project": "billing-api"})
        rotate = await client.call_tool("get_context", {"task": "rotate the deploy keys", "budget": 12000})
        return data_of(first), data_of(again), data_of(rotate)

    served, again, rotate = session(home, body)

    assert main(["context", "--json", "--home", str(home), "--project", "billing-api", TASK]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert served == printed == again
    assert served["kind"] == "api" and served["documents"][0]["path"] == "patterns.md"
    assert served["prompt"].rstrip().endswith(f"{TASK}\n</task>")
    # The planted runbook ranks for its task, and its secrets come back redacted, reported by file and line.
    assert any(document["path"] == PLANTED for document in rotate["documents"])
    assert AWS_KEY not in rotate["prompt"] and API_KEY not in rotate["prompt"]
    assert "[REDACTED: AWS Access Key]" in rotate["prompt"]
    kinds = {(finding["path"], finding["kind"]) for finding in rotate["redactions"]}
    assert {(PLANTED, "AWS Access Key"), (PLANTED, "Secret Keyword")} <= kinds
    assert rotate["budget"] == 12000


def test_get_context_makes_no_model_call_unless_the_setting_asks_even_with_a_key(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fill step re-ranks its context by default; the server, like `scaffold context`, only when
    # SCAFFOLD_RERANK says so: an assistant asking for context waits for no call and needs no network.
    monkeypatch.delenv("SCAFFOLD_RERANK")

    async def body(client: ClientSession) -> Any:
        return data_of(await client.call_tool("get_context", {"task": "rotate the deploy keys"}))

    with FakeAnthropic() as fake:
        for name, value in fake.env("sk-ant-api03-" + "m" * 60).items():
            monkeypatch.setenv(name, value)
        served = session(home, body)
        assert fake.messages() == []
    assert any(document["path"] == PLANTED for document in served["documents"])
    assert not any(note.startswith("re-ranked") for note in served["notes"])


def test_get_context_asked_to_rerank_makes_the_call_and_asked_not_to_makes_none(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Per call, whatever the server's setting says: as `scaffold context --rerank` / `--no-rerank`.
    monkeypatch.setenv("XDG_CACHE_HOME", str(home.parent / "rerank-cache"))  # no answer kept from another test
    answer = json.dumps({"documents": [{"path": PLANTED, "why": "it rotates these keys"}]})

    def served(setting: str, rerank: bool) -> dict[str, Any]:
        monkeypatch.setenv("SCAFFOLD_RERANK", setting)
        task = {"task": f"rotate the deploy keys ({setting})", "rerank": rerank}
        (result,) = session(home, lambda client: _all(client.call_tool("get_context", task)))
        return dict(data_of(result))

    with FakeAnthropic(Reply.message(answer)) as fake:
        for name, value in fake.env("sk-ant-api03-" + "m" * 60).items():
            monkeypatch.setenv(name, value)
        unasked = served("1", False)
        assert fake.messages() == []
        asked = served("0", True)
        (sent,) = fake.messages()
    assert f'<candidate path="{PLANTED}">' in sent["messages"][0]["content"]
    ranked = [document for document in asked["documents"] if document["source"] == "ranked"]
    assert {document["path"] for document in ranked} == {PLANTED}
    assert all(document["reason"].endswith(": it rotates these keys") for document in ranked)
    assert any(note.startswith("re-ranked by ") for note in asked["notes"])
    assert not any(note.startswith("re-ranked") for note in unasked["notes"])


def test_get_context_asked_to_rerank_without_a_key_says_where_the_key_must_be(home: Path) -> None:
    async def body(client: ClientSession) -> list[CallToolResult]:
        return [
            await client.call_tool("get_context", {"task": TASK, "rerank": True}),
            await client.call_tool("get_context", {"task": TASK, "rerank": False}),
        ]

    refused, served = session(home, body)  # the suite runs without ANTHROPIC_API_KEY
    assert error_of(refused) == (
        "rerank needs an Anthropic API key where the scaffold server runs: set 'anthropic_api_key' in the user "
        "config, or $ANTHROPIC_API_KEY in the server's environment and restart it; or call get_context without rerank"
    )
    assert data_of(served)["documents"]


def test_get_context_asked_to_rerank_without_the_ai_part_says_where_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-api03-" + "k" * 40)
    monkeypatch.setattr(extras, "installed", lambda extra: extra is not extras.AI)
    with pytest.raises(UsageError) as refused:
        Tools().get_context(TASK, rerank=True)
    assert str(refused.value) == (
        "rerank needs scaffold's optional 'ai' part where the scaffold server runs: install it "
        f"({extras.AI.command}) and restart the server; or call get_context without rerank"
    )
    assert Tools().get_context(TASK, rerank=False)["documents"]


def test_a_rerank_waiting_for_the_model_leaves_the_server_answering(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The tool holds the session's lock while the model answers; listing the documents waits for it on
    # a worker thread, not on the event loop, where it stopped the server answering anything.
    monkeypatch.setenv("XDG_CACHE_HOME", str(home.parent / "hang-cache"))
    monkeypatch.setenv("SCAFFOLD_AI_RETRIES", "0")

    with FakeAnthropic(Reply.hang(4)) as fake:
        for name, value in fake.env("sk-ant-api03-" + "h" * 60).items():
            monkeypatch.setenv(name, value)

        async def body(client: ClientSession) -> tuple[bool, CallToolResult, int]:
            waiting = asyncio.create_task(
                client.call_tool("get_context", {"task": "rotate the deploy keys while waiting", "rerank": True})
            )
            while not fake.messages():
                await asyncio.sleep(0.02)
            listing = asyncio.create_task(client.list_resources())
            await asyncio.sleep(0.2)  # the listing is asked for, and waits for the lock
            await client.send_ping()
            answered_meanwhile = not listing.done() and not waiting.done()
            return answered_meanwhile, await waiting, len((await listing).resources)

        answered_meanwhile, result, resources = session(home, body)
    assert answered_meanwhile
    assert any("BM25" in warning for warning in data_of(result)["warnings"])  # the re-rank failed: BM25's
    assert resources > 5


async def _all(*calls: Awaitable[T]) -> list[T]:
    return [await call for call in calls]


def test_get_context_and_classify_refuse_bad_arguments_with_the_clis_messages(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async def body(client: ClientSession) -> list[CallToolResult]:
        return [
            await client.call_tool("get_context", {"task": "   "}),
            await client.call_tool("get_context", {"task": TASK, "kind": "nonsense"}),
            await client.call_tool("get_context", {"task": TASK, "budget": 10}),
            await client.call_tool("get_context", {"task": TASK, "budget": 0}),
            await client.call_tool("get_context", {}),
            await client.call_tool("classify", {"task": ""}),
            await client.call_tool("no_such_tool", {}),
            await client.call_tool("classify", {"task": "create a terraform module for an S3 bucket"}),
            await client.call_tool("get_context", {"task": TASK, "budget": True}),
            await client.call_tool("search_knowledge", {"query": "deploy", "limit": True}),
            await client.call_tool("get_context", {"task": TASK, "rerank": "yes"}),
            await client.call_tool("get_context", {"task": TASK, "rerank": 1}),
            await client.call_tool("search_knowledge", {"query": "deploy", "limit": "3"}),
        ]

    empty, kind, small, zero, missing, classify_empty, unknown, classified, *loose, as_text = session(home, body)
    # JSON's `true` is no number, nor "yes" or 1 a yes or no (lax validation took them), refused as the library API
    # does; a number written as a string still counts (clients send them so).
    wanted = ["expected a whole number, not true or false"] * 2 + ["Input should be a valid boolean"] * 2
    assert [result.is_error and words in error_of(result) for result, words in zip(loose, wanted, strict=True)] == [
        True
    ] * 4
    assert len(data_of(as_text)["results"]) == 3

    assert error_of(empty) == cli_error(capsys, "context", "--home", str(home), "   ")
    assert error_of(kind) == cli_error(capsys, "context", "--home", str(home), "--kind", "nonsense", TASK)
    assert error_of(small) == cli_error(capsys, "context", "--home", str(home), "--budget", "10", TASK)
    assert error_of(zero) == "the budget must be a positive number of tokens, not 0"
    assert "task" in error_of(missing)
    assert error_of(classify_empty).startswith("the task text is empty")
    assert "no_such_tool" in error_of(unknown)
    data = data_of(classified)
    assert data["kind"] == "infra" and data["reason"].startswith("keywords: ")
    assert data["keywords"] and data["description"] and "api" in data["kinds"]
    assert all("\n" not in error_of(result) for result in (empty, kind, small, zero))


# --- search and documents -------------------------------------------------------------------------------------


def test_search_and_read_document_redact_the_planted_secrets(home: Path) -> None:
    async def body(client: ClientSession) -> list[CallToolResult]:
        return [
            await client.call_tool("search_knowledge", {"query": "rotate deploy keys credentials", "limit": 3}),
            await client.call_tool("read_document", {"path": PLANTED}),
            await client.call_tool("read_document", {"path": "context/patterns.md"}),
            await client.call_tool("search_knowledge", {"query": "   "}),
            await client.call_tool("search_knowledge", {"query": "keys", "limit": 0}),
            await client.call_tool("search_knowledge", {"query": "keys", "limit": 51}),
            await client.call_tool("search_knowledge", {"query": "zzyzx qwertyuiop"}),
            # A guess at a secret of the home: echoed in clear beside the snippet that hid it, it said where.
            await client.call_tool("search_knowledge", {"query": f"what is {API_KEY} for"}),
        ]

    search, document, prefixed, empty, zero, many, nothing, guessed = session(home, body)

    hits = data_of(search)["results"]
    assert 1 <= len(hits) <= 3 and hits[0]["path"] == PLANTED
    assert set(hits[0]) == {"path", "heading", "line", "score", "snippet"}
    assert hits[0]["heading"] == "Rotate the deploy keys > Steps" and hits[0]["line"] == 3
    for hit in hits:
        assert AWS_KEY not in hit["snippet"] and API_KEY not in hit["snippet"]
    assert "[REDACTED: AWS Access Key]" in hits[0]["snippet"]
    read = data_of(document)
    assert read["path"] == PLANTED
    assert AWS_KEY not in read["text"] and API_KEY not in read["text"]
    assert 'api_key = "[REDACTED: Secret Keyword]"' in read["text"]
    assert {(finding["line"], finding["kind"]) for finding in read["redactions"]} == {
        (7, "AWS Access Key"),
        (8, "Secret Keyword"),
    }
    assert data_of(prefixed)["path"] == "patterns.md"
    asked = data_of(guessed)
    assert asked["results"] and API_KEY not in json.dumps(asked)
    assert asked["query"].startswith("what is [REDACTED: ") and asked["query"].endswith("] for")
    assert error_of(empty).startswith("the search query is empty")
    assert error_of(zero) == "the limit must be a whole number from 1 to 50, not 0"
    assert error_of(many) == "the limit must be a whole number from 1 to 50, not 51"
    assert data_of(nothing)["results"] == []


def test_read_document_refuses_everything_outside_context(home: Path, tmp_path: Path) -> None:
    outside = tmp_path / "secret.md"
    outside.write_text(f"aws {AWS_KEY}\n", encoding="utf-8")
    escape = home / "context" / "escape.md"
    escape.symlink_to(outside)
    escape_dir = home / "context" / "elsewhere"
    escape_dir.symlink_to(tmp_path, target_is_directory=True)
    try:

        async def body(client: ClientSession) -> list[CallToolResult]:
            return [
                await client.call_tool("read_document", {"path": path})
                for path in (
                    "../README.md",
                    "decisions/../../copier.yml",
                    str(outside),
                    "/etc/passwd",
                    "escape.md",
                    "elsewhere/secret.md",
                    ".git/config",
                    "C:\\Windows\\win.ini",
                    "no-such-document.md",
                    "",
                )
            ]

        results = session(home, body)
    finally:
        escape.unlink()
        escape_dir.unlink()

    messages = [error_of(result) for result in results]
    for message in messages[:4] + messages[6:8]:
        assert "is not a document of the knowledge home: paths are relative to its context/ folder" in message
    assert "leads out of the knowledge home's context/ folder" in messages[4]
    assert "leads out of the knowledge home's context/ folder" in messages[5]
    assert messages[8] == f"no document 'no-such-document.md' in {home / 'context'}"
    assert messages[9].startswith("the document path is empty")
    assert all(AWS_KEY not in message for message in messages)


def test_documents_are_resources_and_the_prompt_wraps_a_task(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    async def body(client: ClientSession) -> Any:
        listed = await client.list_resources()
        planted = await client.read_resource(f"scaffold://context/{PLANTED}")
        prompt = await client.get_prompt("task_with_context", {"task": TASK, "project": "billing-api"})
        errors: list[str] = []
        for uri in ("scaffold://context/no-such.md", "scaffold://context/..%2F..%2Fcopier.yml"):
            try:
                await client.read_resource(uri)
            except MCPError as error:
                errors.append(error.message)
        try:
            await client.get_prompt("task_with_context", {"task": TASK, "kind": "nonsense"})
        except MCPError as error:
            errors.append(error.message)
        return listed, planted, prompt, errors

    listed, planted, prompt, errors = session(home, body)

    uris = {str(resource.uri): resource for resource in listed.resources}
    assert {"scaffold://context/patterns.md", f"scaffold://context/{PLANTED}"} <= set(uris)
    assert uris[f"scaffold://context/{PLANTED}"].title == "Rotate the deploy keys"
    assert uris["scaffold://context/patterns.md"].mime_type == "text/markdown"
    [content] = planted.contents
    assert isinstance(content, TextResourceContents)
    assert AWS_KEY not in content.text and "[REDACTED: AWS Access Key]" in content.text
    [message] = prompt.messages
    assert message.role == "user" and isinstance(message.content, TextContent)
    assert main(["context", "--home", str(home), "--project", "billing-api", TASK]) == 0
    assert message.content.text == capsys.readouterr().out
    assert errors[0] == f"no document 'no-such.md' in {home / 'context'}"
    assert len(errors) == 3 and errors[2].startswith("unknown kind 'nonsense'")


# --- writing documents ----------------------------------------------------------------------------------------


def test_a_file_larger_than_a_document_is_served_as_its_first_part_with_a_note(home: Path) -> None:
    # Its name holds "-->", which must not end the resource's HTML comment early.
    big = home / "context" / "runbooks" / "pager-->export.md"
    big.write_text("# Pager export\n\n" + "## Page\n\nalert fired\n\n" * 50_000)

    async def body(client: ClientSession) -> Any:
        tool = await client.call_tool("read_document", {"path": "runbooks/pager-->export.md"})
        return tool, await client.read_resource("scaffold://context/runbooks/pager--%3Eexport.md")

    try:
        tool, resource = session(home, body)
    finally:
        big.unlink()
    data = data_of(tool)
    assert data["note"].startswith("runbooks/pager-->export.md is 1,100,016 bytes, over the 1,000,000 bytes")
    assert data["text"].startswith("# Pager export") and len(data["text"].encode()) <= 1_000_000
    [content] = resource.contents
    assert isinstance(content, TextResourceContents)
    note = data["note"].replace("-->", "--&gt;")
    assert content.text == data["text"] + f"\n\n<!-- scaffold: {note} -->\n"
    assert content.text.count("-->") == 1


TOKEN = "ghp_" + "R7mK2xQ9vL4tN8pW3sZ6yB1cF5hJ0dG2aE4u"  # invented; split so no scanner takes this file for a key


def test_new_documents_are_numbered_filled_and_left_uncommitted(home: Path) -> None:
    async def body(client: ClientSession) -> list[CallToolResult]:
        return [
            await client.call_tool(
                "new_decision",
                {
                    "title": "Use PostgreSQL for orders",
                    "context": "Orders need transactions across tables.",
                    "decision": "We will use PostgreSQL 16 for the orders service.",
                    "status": "Accepted",
                    "date": "2025-03-14",
                },
            ),
            await client.call_tool(
                "new_incident",
                {
                    "title": "Checkout returned 502s after the 2.3 deploy",
                    "summary": "Checkout failed for 12 minutes.",
                    "root_cause": "The pool was sized for one worker.",
                    "severity": "SEV2",
                    "sections": {"Lessons": "Load-test pool sizes."},
                },
            ),
            await client.call_tool(
                "new_runbook", {"title": "Rotate the database credentials", "steps": "1. Rotate.", "owner": "data"}
            ),
            await client.call_tool("new_decision", {"title": "  "}),
            await client.call_tool("new_runbook", {"title": "Restart", "date": "yesterday"}),
            await client.call_tool("new_runbook", {"title": "Restart", "sections": {"": "1. Restart."}}),
            await client.call_tool("new_runbook", {"title": f"Revoke {TOKEN} from CI", "steps": "1. Revoke."}),
            # A NUL made a document that `scaffold context` then skipped ("a NUL byte on line 1").
            await client.call_tool("new_decision", {"title": "a\u0000b"}),
            await client.call_tool("new_decision", {"title": "Use NATS", "decision": "\u0000nul"}),
            await client.call_tool("new_runbook", {"title": ""}),
        ]

    decision, incident, runbook, untitled, undated, unnamed, tokened, nul, nul_inside, no_runbook = session(home, body)

    made = data_of(decision)
    path = Path(made["path"])
    assert made["document"] == "decisions/0007-use-postgresql-for-orders.md" and made["committed"] is False
    assert made["warnings"] == []
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# 0007. Use PostgreSQL for orders\n\nDate: 2025-03-14\nStatus: Accepted\n")
    assert "## Context\n\nOrders need transactions across tables.\n\n## Decision\n\nWe will use PostgreSQL 16" in text
    assert "## Consequences\n\nWhat becomes easier" in text  # not given: the template's guidance stays
    incident_text = Path(data_of(incident)["path"]).read_text(encoding="utf-8")
    assert "Severity: SEV2" in incident_text and "## Root cause\n\nThe pool was sized for one worker." in incident_text
    assert incident_text.endswith("## Lessons\n\nLoad-test pool sizes.\n")
    runbook_text = Path(data_of(runbook)["path"]).read_text(encoding="utf-8")
    assert runbook_text.startswith("# Rotate the database credentials\n\nOwner: data. Last reviewed: ")
    status = run(["git", "status", "--porcelain"], cwd=home).stdout
    assert f"?? context/{made['document']}" in status and "incidents/" in status and "runbooks/" in status
    assert error_of(untitled).startswith("the decision title is empty")
    assert error_of(undated) == "'yesterday' is not a date like 2025-03-14"
    assert error_of(unnamed).startswith("a runbook section needs a heading")
    assert not list((home / "context" / "runbooks").glob("*restart*"))
    assert error_of(nul).startswith("the decision title holds a NUL character, which no text has; remove it")
    assert error_of(nul_inside).startswith("the decision section 'decision' holds a NUL character")
    assert sorted(path.name for path in (home / "context" / "decisions").iterdir())[-1].startswith("0007-")
    assert 'give a short title, e.g. "Rotate the database credentials"' in error_of(no_runbook)
    # What the CLI warns of, the tool says too: here a token in the title, which the file name leaves out.
    revoked = data_of(tokened)
    assert TOKEN.lower() not in revoked["document"].lower() and revoked["document"].endswith("-revoke-from-ci.md")
    [warning] = revoked["warnings"]
    assert warning.startswith("the title seems to hold a secret (") and TOKEN not in warning


# --- templates and projects -----------------------------------------------------------------------------------


def test_list_templates_and_project_status(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = generator.new_project("script", "prune", dest=tmp_path / "prune", defaults=True, templates=home).path
    not_a_project = tmp_path / "plain"
    not_a_project.mkdir()

    async def body(client: ClientSession) -> list[CallToolResult]:
        return [
            await client.call_tool("list_templates", {}),
            await client.call_tool("project_status", {"path": str(project)}),
            await client.call_tool("project_status", {}),
            await client.call_tool("project_status", {"path": str(not_a_project)}),
        ]

    listed, status, here, refused = session(home, body, cwd=project)

    catalog = data_of(listed)
    assert [entry["name"] for entry in catalog["templates"]] == ["service", "api", "infra", "script"]
    service = catalog["templates"][0]
    questions = {question["name"]: question for question in service["questions"]}
    assert questions["port"]["default"] == 8000 and questions["port"]["type"] == "int"
    assert questions["python_version"]["choices"] == ["3.11", "3.12", "3.13", "3.14"]
    assert "template" not in questions and "package_name" not in questions
    expected = generator.check_project(project).to_dict()
    assert data_of(status) == data_of(here) == expected
    assert expected["template"] == "script" and expected["unfilled"]
    assert main(["check", "--json", str(project)]) == 0
    assert json.loads(capsys.readouterr().out) == [expected]
    assert error_of(refused) == cli_error(capsys, "check", str(not_a_project))


# --- the server itself ----------------------------------------------------------------------------------------


def test_a_bad_home_fails_at_start_with_one_line(tmp_path: Path) -> None:
    result = run([sys.executable, "-m", "generator", "mcp", "--home", str(tmp_path / "nowhere")], check=False)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("scaffold: error: ") and "nowhere (from --home) does not exist" in result.stderr


def test_every_string_of_an_answer_is_redacted_on_the_way_out() -> None:
    tools = Tools()
    answer = {"message": f"key {AWS_KEY}", "nested": [f'api_key = "{API_KEY}"'], "count": 3}
    cleaned = tools.redact(answer)
    assert cleaned == {
        "message": "key [REDACTED: AWS Access Key]",
        "nested": ['api_key = "[REDACTED: Secret Keyword]"'],
        "count": 3,
    }


def test_a_new_documents_paths_reach_the_assistant_however_random_the_home_path_reads(tmp_path: Path) -> None:
    # A home path that the entropy rule alone would redact: the assistant was told "[REDACTED: ...]"
    # for where the runbook it had just written was.
    home = tmp_path / "Users" / "jdoe" / "work" / "kb"
    init_home(home)
    tools = Tools(home)
    path = home / "context" / "runbooks" / "0001-fail-over-the-database.md"
    assert tools.redact(str(path)) != str(path)
    made = tools.redact(tools.new_document("runbook", "Fail over the database", {}, {}))
    assert made["path"] == str(path)
    assert made["document"] == "runbooks/0001-fail-over-the-database.md" and made["home"] == str(home)
    assert made["next"].endswith(str(home))


def test_a_repeated_request_scans_nothing_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """The answers' redaction and the core's share one cache: neither writes back a stale copy of it."""
    tools = Tools()
    tools.redact(tools.classify(TASK))
    first = tools.redact(tools.get_context(TASK, project="billing-api"))

    def no_scan(texts: list[str]) -> list[list[Span]]:
        raise AssertionError(f"scanned {len(texts)} texts again")

    monkeypatch.setattr(redact_module, "_scan", no_scan)
    assert tools.redact(tools.get_context(TASK, project="billing-api")) == first


def test_the_assistant_stopping_the_server_is_a_clean_exit(home: Path) -> None:
    """Closing stdin or SIGTERM, the two ways clients stop a stdio server, end it with exit code 0 and no message."""
    command = [sys.executable, "-m", "generator", "mcp", "--home", str(home)]
    for stop in ("eof", "sigterm"):
        server = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert server.stdin is not None and server.stdout is not None and server.stderr is not None
        server.stdin.write(json.dumps(INITIALIZE) + "\n")
        server.stdin.flush()
        assert json.loads(server.stdout.readline())["result"]["serverInfo"]["name"] == "scaffold"
        if stop == "sigterm":
            server.send_signal(signal.SIGTERM)
        else:
            server.stdin.close()
        server.wait(timeout=60)
        server.stdin.close()
        assert (stop, server.returncode, server.stderr.read()) == (stop, 0, "")
        server.stdout.close()
        server.stderr.close()


def test_a_client_gone_is_a_clean_exit_and_a_full_disk_is_one_line(home: Path) -> None:
    """Its answers to a pipe nobody reads any more (the client closed its end): exit 0, nothing said. To a full
    disk: exit 5 and one line, as any command's output; both were an internal error (an SDK's exception group)."""
    command = [sys.executable, "-m", "generator", "mcp", "--home", str(home)]
    request = (json.dumps(INITIALIZE) + "\n").encode()
    read, write = os.pipe()
    os.close(read)
    try:
        gone = subprocess.run(command, input=request, stdout=write, stderr=subprocess.PIPE, text=False, check=False)
    finally:
        os.close(write)
    assert (gone.returncode, gone.stderr) == (0, b"")
    if not Path("/dev/full").exists():
        return
    with Path("/dev/full").open("w") as full:
        refused = subprocess.run(command, input=request, stdout=full, stderr=subprocess.PIPE, check=False)
    assert refused.returncode == 5, refused.stderr
    assert refused.stderr.decode().splitlines()[-1].startswith("scaffold: error: cannot write the output: No space")


@pytest.mark.parametrize("closed", ["stdin", "stdout"])
def test_a_closed_stdin_or_stdout_is_one_line(home: Path, closed: str) -> None:
    """`scaffold mcp <&-` (or `>&-`): Python has no such stream, and the server nothing to speak on."""
    redirect = "<&-" if closed == "stdin" else ">&-"
    command = ["sh", "-c", f'exec "$0" "$@" {redirect}', sys.executable, "-m", "generator", "mcp", "--home", str(home)]
    result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
    assert (result.returncode, result.stderr) == (
        2,
        f"scaffold: error: {closed} is closed; scaffold mcp speaks the Model Context Protocol on stdin and stdout: "
        "let an assistant start it (docs/assistants.md)\n",
    )


def test_a_request_the_sdk_cannot_read_leaves_the_server_answering(home: Path) -> None:
    """A lone surrogate in an argument (a JSON escape no UTF-8 text has) is dropped by the SDK as it reads
    the request (docs/assistants.md); whatever becomes of that call, the next ones are answered."""
    lines: list[dict[str, Any]] = [INITIALIZE, {"jsonrpc": "2.0", "method": "notifications/initialized"}]
    unreadable = {"name": "get_context", "arguments": {"task": "add a refund \ud800 endpoint"}}
    readable = {"name": "classify", "arguments": {"task": TASK}}
    lines += [{"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": unreadable}]
    lines += [{"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": readable}]
    command = [sys.executable, "-m", "generator", "mcp", "--home", str(home)]
    server = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert server.stdin is not None and server.stdout is not None
    try:
        # json.dumps writes the surrogate as the escape `\ud800`: the request's bytes are ASCII.
        server.stdin.write("".join(json.dumps(line) + "\n" for line in lines).encode("ascii"))
        server.stdin.flush()
        output: queue.Queue[bytes] = queue.Queue()
        stdout = server.stdout

        def read() -> None:
            for line in stdout:
                output.put(line)

        threading.Thread(target=read, daemon=True).start()
        replies: dict[int, Any] = {}
        while 3 not in replies:
            reply = json.loads(output.get(timeout=60))  # queue.Empty: the server stopped answering
            replies[reply.get("id")] = reply
        assert json.loads(replies[3]["result"]["content"][0]["text"])["kind"] == "api"
        if 2 in replies:  # an SDK that reads the request: the task is refused, in one line
            assert "lone surrogate" in json.dumps(replies[2])
    finally:
        server.stdin.close()
        server.wait(timeout=60)
        server.stdout.close()

"""Every template renders AGENTS.md, CLAUDE.md and .mcp.json, they say true things, and they survive updates.

AGENTS.md is checked against the project it describes: every fill region of the project is
listed there by its `path#id`, and every `make` target it names is a target of the Makefile.
`.mcp.json` must name a command that exists, and that command, started from inside the
project as an assistant would start it, must answer over MCP.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.types import TextContent

import generator
from generator.context.home import init_home
from generator.fill.regions import find_regions
from tests.helpers import AGENTS_REGION, GIT_IDENTITY, render_template, run

VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "service": ("service", {"description": "Takes card payments and reports their status."}),
    "service-no-docker": ("service", {"include_docker": False}),
    "api": ("api", {"resources": "orders,customers", "description": "Orders and customers of the shop."}),
    "infra": ("infra", {"cloud": "gcp"}),
    "script-python": ("script", {"description": "Rotates and prunes application logs."}),
    "script-bash": ("script", {"language": "bash"}),
}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, render_home: None) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("assistants")
    return {
        name: render_template(template, root / name.replace("-", "_"), data)
        for name, (template, data) in VARIANTS.items()
    }


def scaffold_command(command: str) -> str | None:
    """Where `command` resolves for an assistant started from this test environment: its venv, then PATH."""
    return shutil.which(command, path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))


@pytest.mark.parametrize("variant", VARIANTS)
def test_agents_md_describes_the_project(rendered: dict[str, Path], variant: str) -> None:
    project = rendered[variant]
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    text = (project / "AGENTS.md").read_text(encoding="utf-8")

    assert text.startswith(f"# {answers['project_name']}: notes for AI assistants\n")
    assert answers["description"] in text
    assert "Run `make check` before every commit" in text
    for section in ("## Layout", "## Checks", "## Fill regions", "## The team's knowledge", "## Project notes"):
        assert section in text
    # Every region of the project is listed, by its full key.
    keys = {region.key for region in find_regions(project)}
    assert AGENTS_REGION in keys
    listed = set(re.findall(r"`([^`\s]+#[a-z][a-z0-9_-]*)`", text)) - {"path#id"}
    assert listed == keys
    # Every make target named exists in the project's Makefile.
    targets = set(re.findall(r"^([a-z][a-z-]*):", (project / "Makefile").read_text(encoding="utf-8"), re.MULTILINE))
    named = set(re.findall(r"`make ([a-z][a-z-]*)`", text))
    assert "check" in named and named <= targets, named - targets
    # A type check in `make check` is said (a Python script's AGENTS.md left out mypy, which CI runs).
    steps = re.search(r"^check:([^#\n]*)", (project / "Makefile").read_text(encoding="utf-8"), re.MULTILINE)
    assert steps is not None
    if "typecheck" in steps.group(1).split():
        assert "mypy in strict mode" in text.partition("## Checks")[2].partition("\n## ")[0]
        assert "typecheck" in named
    # Where the knowledge lives, and to ask the MCP server first.
    assert "`.mcp.json` registers it" in text and "`get_context`" in text
    assert f"`project` = `{answers['project_name']}`" in text
    assert f'scaffold context --project {answers["project_name"]} "the task"' in text
    notes = next(region for region in find_regions(project) if region.key == AGENTS_REGION)
    assert notes.language == "markdown" and notes.comment == "<!--"
    assert answers["description"] in notes.instruction and notes.body.strip().startswith("- ")
    if variant == "service-no-docker":
        assert "Dockerfile" not in text and "docker-build" not in text


@pytest.mark.parametrize("variant", VARIANTS)
def test_claude_md_and_mcp_json_point_at_agents_md_and_scaffold_mcp(rendered: dict[str, Path], variant: str) -> None:
    project = rendered[variant]
    assert (project / "CLAUDE.md").read_text(encoding="utf-8") == "@AGENTS.md\n"
    config = json.loads((project / ".mcp.json").read_text(encoding="utf-8"))
    assert config == {"mcpServers": {"scaffold": {"type": "stdio", "command": "scaffold", "args": ["mcp"]}}}
    assert scaffold_command(config["mcpServers"]["scaffold"]["command"]) is not None


def test_the_mcp_json_server_answers_from_inside_the_project(rendered: dict[str, Path]) -> None:
    project = rendered["service"]
    server = json.loads((project / ".mcp.json").read_text(encoding="utf-8"))["mcpServers"]["scaffold"]
    command = scaffold_command(server["command"])
    assert command is not None
    params = StdioServerParameters(command=command, args=server["args"], env=dict(os.environ), cwd=project)

    async def drive() -> tuple[set[str], str]:
        with (project.parent / "server.log").open("a", encoding="utf-8") as errlog:
            async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as client:
                await client.initialize()
                tools = await client.list_tools()
                status = await client.call_tool("project_status", {})
                [content] = status.content
                assert isinstance(content, TextContent) and not status.is_error, content
                return {tool.name for tool in tools.tools}, content.text

    names, status = asyncio.run(drive())

    assert {"get_context", "project_status"} <= names
    data = json.loads(status)
    assert data["template"] == "service" and Path(data["path"]) == project.resolve()
    assert AGENTS_REGION in data["unfilled"]


def test_copier_update_keeps_them_and_a_filled_notes_region(tmp_path: Path) -> None:
    """A project from release v0.1.0 of a knowledge home, its notes filled, updated to v0.2.0."""
    home = init_home(tmp_path / "home").root
    project = generator.new_project("script", "prune", dest=tmp_path / "prune", defaults=True, templates=home).path
    agents = project / "AGENTS.md"
    filled = "- Log files are owned by the app user; never follow symlinks out of the log folder.\n"
    notes = next(region for region in find_regions(project) if region.key == AGENTS_REGION)
    agents.write_text(agents.read_text(encoding="utf-8").replace(notes.body, filled), encoding="utf-8")
    run(["git", *GIT_IDENTITY, "commit", "-qam", "Fill the notes"], cwd=project)

    include = home / "includes" / "agents.jinja"
    include.write_text(include.read_text(encoding="utf-8").replace("Read it before", "Read it first, before"))
    run(["git", *GIT_IDENTITY, "commit", "-qam", "Clearer AGENTS.md"], cwd=home)
    run(["git", "tag", "v0.2.0"], cwd=home)

    result = generator.update_project(project)

    assert (result.old_version, result.new_version, result.conflicts) == ("v0.1.0", "v0.2.0", [])
    text = agents.read_text(encoding="utf-8")
    assert "Read it first, before changing anything." in text  # the template's change came in
    assert filled in text and notes.body not in text  # the fill stayed
    assert (project / "CLAUDE.md").read_text(encoding="utf-8") == "@AGENTS.md\n"
    assert json.loads((project / ".mcp.json").read_text(encoding="utf-8"))["mcpServers"]["scaffold"]["args"] == ["mcp"]

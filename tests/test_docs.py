"""The documentation: a short README with CI's markers, links that resolve, commands that parse.

Every `scaffold ...` command in a code block of README.md or docs/*.md is parsed by the real
argument parser, so a renamed flag or command breaks this test instead of the reader.
"""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import pytest

from generator.cli import build_parser
from generator.errors import ScaffoldError

REPO_ROOT = Path(__file__).resolve().parent.parent
README = REPO_ROOT / "README.md"
DOC_FILES = [README, *sorted((REPO_ROOT / "docs").glob("*.md"))]
MAX_README_LINES = 200

# Being written in parallel; drop an entry once it exists (the link test then checks it like any other).
PENDING_PAGES: set[Path] = set()
# Sub-commands being added in parallel; drop an entry once the CLI has it (its commands are then parsed).
PENDING_COMMANDS: set[str] = set()

_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_FENCE = re.compile(r"^\s*(```|~~~)")
# Shell operators that end the scaffold command on a line: pipes, lists, redirections, background.
_STOP = {"|", "||", "&&", ";", "&", ">", ">>", "<", "<<", "2>", "&>"}
_ENV_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_HTML_COMMENT = re.compile(r"^\s*<!--.*-->\s*$")


def _doc_id(path: Path) -> str:
    return path.relative_to(REPO_ROOT).as_posix()


def code_lines(text: str) -> list[tuple[int, str]]:
    """(line number, text) of every line inside a ``` / ~~~ fence or an indented 4-space code block."""
    found: list[tuple[int, str]] = []
    fence: str | None = None
    previous_blank = True
    in_indented = False
    for number, line in enumerate(text.splitlines(), start=1):
        match = _FENCE.match(line)
        if fence is not None:
            if match and match.group(1) == fence:
                fence = None
            else:
                found.append((number, line.strip()))
            previous_blank = False
            continue
        if match:
            fence, in_indented = match.group(1), False
            continue
        indented = line.startswith("    ") and line.strip() != ""
        if indented and (previous_blank or in_indented):
            in_indented = True
            found.append((number, line.strip()))
        elif line.strip():
            in_indented = False
        # A blank line, or a one-line HTML comment (an HTML block, like CI's markers), may precede a code block.
        previous_blank = not line.strip() or bool(_HTML_COMMENT.match(line))
    return found


def scaffold_commands(line: str) -> list[list[str]]:
    """The argument lists of the `scaffold` commands on one shell line (prompt, env and operators stripped)."""
    line = line.removeprefix("$ ")
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = ""  # '#' only starts a comment at the start of a word, handled below
    try:
        tokens = list(lexer)
    except ValueError:  # unbalanced quotes: not a command line (e.g. output)
        return []
    commands: list[list[str]] = []
    current: list[str] = []
    redirect = False
    for token in [*tokens, ";"]:
        if token.startswith("#"):
            break
        if token in _STOP:
            if current:
                commands.append(current)
            current = []
            redirect = token in {">", ">>", "<", "<<", "2>", "&>"}
            continue
        if redirect:
            continue  # the target of a redirection, and anything after it before the next command
        current.append(token)
    if current:
        commands.append(current)
    result: list[list[str]] = []
    for words in commands:
        while words and _ENV_ASSIGNMENT.match(words[0]):
            words = words[1:]
        if words and words[0] == "scaffold":
            result.append(words)
    return result


def documented_commands() -> list[tuple[str, list[str]]]:
    commands: list[tuple[str, list[str]]] = []
    for path in DOC_FILES:
        for number, line in code_lines(path.read_text(encoding="utf-8")):
            if "scaffold " not in line:
                continue
            for words in scaffold_commands(line):
                commands.append((f"{_doc_id(path)}:{number}", words))
    return commands


def _known_commands() -> set[str]:
    for action in build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def test_readme_is_short_and_keeps_the_ci_markers() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_README_LINES, f"README.md has {len(lines)} lines; keep it to {MAX_README_LINES}"
    commands: dict[str, str] = {}
    for marker in ("<!-- ci: main command -->", "<!-- ci: test command -->"):
        assert lines.count(marker) == 1, f"README.md must hold {marker!r} exactly once"
        index = lines.index(marker)
        assert index + 1 < len(lines), f"nothing follows {marker!r}"
        command = lines[index + 1]
        assert re.match(r"^ {4}\S", command), f"the line after {marker!r} must be a command indented 4 spaces"
        commands[marker] = command
    assert commands["<!-- ci: test command -->"] == "    pip install -e '.[test]' && pytest"
    main = commands["<!-- ci: main command -->"]
    assert "scaffold new-" in main and "--dest ../demo" in main, "the main command must generate outside the checkout"


def anchors(path: Path) -> set[str]:
    """The anchors GitHub gives a page's headings: lowercase, punctuation dropped, spaces as '-'."""
    found: set[str] = set()
    in_fence = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and (match := re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)):
            found.add(re.sub(r"[^\w\- ]", "", match.group(1).lower()).replace(" ", "-"))
    return found


@pytest.mark.parametrize("path", DOC_FILES, ids=_doc_id)
def test_relative_links_point_to_existing_files(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    broken: list[str] = []
    for target in _LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):
            continue  # a URL (https:, mailto:)
        name, _, anchor = target.partition("#")
        file = (path.parent / name).resolve() if name else path
        if file in PENDING_PAGES:
            continue
        if not file.exists() or (anchor and file.suffix == ".md" and anchor not in anchors(file)):
            broken.append(target)
    assert not broken, f"{_doc_id(path)} links to missing files or headings: {broken}"


def test_the_docs_show_scaffold_commands() -> None:
    commands = documented_commands()
    assert len(commands) >= 30, (
        f"found only {len(commands)} scaffold commands in code blocks; is the extraction broken?"
    )
    assert {words[1] for _, words in commands if len(words) > 1} >= {"new-service", "fill", "context", "update"}


@pytest.mark.parametrize(("where", "words"), documented_commands(), ids=lambda value: str(value))
def test_documented_command_parses(where: str, words: list[str]) -> None:
    args = words[1:]
    if {"-h", "--help", "--version"} & set(args):
        pytest.skip("--help and --version exit instead of parsing")
    try:
        build_parser().parse_args(args)
    except ScaffoldError as error:
        if args and args[0] in PENDING_COMMANDS and args[0] not in _known_commands():
            pytest.skip(f"'scaffold {args[0]}' is being added in parallel")
        pytest.fail(f"{where}: {shlex.join(words)} does not parse: {error}")


def test_code_block_extraction() -> None:
    text = "\n".join(
        [
            "Intro:",
            "<!-- ci: main command -->",
            "    scaffold list",
            "    pip install . && scaffold new-service demo --defaults --dest ../demo",
            "",
            "```console",
            "$ scaffold fill --refill src/x.py#domain   # redo one",
            "$ git diff | scaffold context --kind review -",
            '$ SCAFFOLD_MODEL=m scaffold context "a task" > prompt.md',
            "scaffold: note: output, not a command",
            "```",
            "- a list item",
            "    continued, not code",
        ]
    )
    lines = [line for _, line in code_lines(text)]
    assert "continued, not code" not in lines
    commands = [words for line in lines for words in scaffold_commands(line)]
    assert commands == [
        ["scaffold", "list"],
        ["scaffold", "new-service", "demo", "--defaults", "--dest", "../demo"],
        ["scaffold", "fill", "--refill", "src/x.py#domain"],
        ["scaffold", "context", "--kind", "review", "-"],
        ["scaffold", "context", "a task"],
    ]


@pytest.mark.parametrize("page", ["library.md", "context.md"])
def test_the_python_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, page: str) -> None:
    """Every python block of the docs pages with Python examples runs as shown, in a fresh namespace."""
    text = (REPO_ROOT / "docs" / page).read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```", text, flags=re.M | re.S)
    assert blocks
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    for block in blocks:
        exec(compile(block, "docs/library.md", "exec"), {"__name__": "docs_example"})

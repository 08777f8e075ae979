"""Rewrite the inputs and outputs tables of README.md from variables.tf and outputs.tf.

    python scripts/readme_tables.py          # `make generated`: rewrite the tables
    python scripts/readme_tables.py --check  # `make check`: exit 1 when they are stale

The tables live between the BEGIN_TF_TABLES and END_TF_TABLES comments; the rest of README.md is
never touched. Rows follow the order of the .tf files. Only an HCL parser is needed (no terraform,
no network): python-hcl2 7 or later, or checkov's older fork of it, whose output differs (every
attribute wrapped in a list, strings unquoted but still escaped, object types as Python dicts), so
every value is normalised to the same text before it is shown: CI must not fail on which one is
installed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import hcl2

BEGIN = "<!-- BEGIN_TF_TABLES -->"
END = "<!-- END_TF_TABLES -->"


def _unquote(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value[1:-1]
    if isinstance(value, list):
        return [_unquote(item) for item in value]
    if isinstance(value, dict):
        return {_unquote(k): _unquote(v) for k, v in value.items() if k != "__is_block__"}
    return value


def _attribute(body: dict[str, Any], name: str) -> Any:
    value = body[name]
    # The older parser wraps every attribute in a one-item list; an attribute is never a list of types.
    if isinstance(body.get("type", body.get("description")), list) and isinstance(value, list) and value:
        value = value[0]
        if isinstance(value, str) and not value.startswith("${"):
            try:
                return json.loads(f'"{value}"')
            except json.JSONDecodeError:
                return value
    return _unquote(value)


def _expression(value: Any) -> str:
    # The older parser prints object({a = string}) as object({'a': '${string}'}).
    text = re.sub(r"'\$\{([^']*)\}'", r"\1", re.sub(r"'([^']*)': ", r"\1 = ", str(value)))
    if text.startswith("${") and text.endswith("}"):
        text = text[2:-1]
    return " ".join(text.split())


def _cell(text: str) -> str:
    # A pipe would end the cell; line breaks would end the row.
    return " ".join(text.split()).replace("|", "\\|")


def _default(body: dict[str, Any]) -> str:
    if "default" not in body:
        return "n/a"
    shown = json.dumps(_attribute(body, "default"), separators=(", ", ": "), ensure_ascii=False)
    return f"`{_cell(shown)}`"


def _blocks(path: Path, kind: str) -> list[tuple[str, dict[str, Any]]]:
    if not path.is_file():
        return []
    parsed = hcl2.loads(path.read_text(encoding="utf-8"))
    return [(str(_unquote(name)), body) for block in parsed.get(kind, []) for name, body in block.items()]


def tables(module: Path) -> str:
    """The markdown between the markers, for the module in `module`."""
    lines = [
        "## Inputs",
        "",
        "| Name | Description | Type | Default | Required |",
        "|------|-------------|------|---------|:--------:|",
    ]
    for name, body in _blocks(module / "variables.tf", "variable"):
        description = _cell(str(_attribute(body, "description"))) if "description" in body else ""
        kind = f"`{_cell(_expression(_attribute(body, 'type')))}`" if "type" in body else "`any`"
        required = "no" if "default" in body else "yes"
        lines.append(f"| {name} | {description} | {kind} | {_default(body)} | {required} |")
    lines += ["", "## Outputs", "", "| Name | Description |", "|------|-------------|"]
    for name, body in _blocks(module / "outputs.tf", "output"):
        description = _cell(str(_attribute(body, "description"))) if "description" in body else ""
        lines.append(f"| {name} | {description} |")
    return "\n".join(lines) + "\n"


def _replace(path: Path, text: str) -> None:
    """Write `text` beside `path` and rename it over `path`: an interrupted or failed write (a full disk)
    leaves the old README whole instead of a truncated one. The temporary file is removed, except after
    a SIGKILL or a power cut (`.gitignore` ignores it). The README becomes a new file: its other hard
    links, if any, keep the old text, and it keeps its mode but gets the owner of whoever runs this."""
    target = path.resolve()  # a linked README keeps its link; its target is what gets replaced
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    temp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())  # on disk before the rename, or a power cut could leave it empty
        temp.chmod(target.stat().st_mode & 0o7777)  # mkstemp makes it 0600
        temp.replace(target)  # os.replace: atomic, as both are in one folder
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when the tables are stale")
    parser.add_argument("--module", type=Path, default=Path(), help="the module folder (default: .)")
    args = parser.parse_args(argv)
    readme = args.module / "README.md"
    text = readme.read_text(encoding="utf-8")
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        print(f"{readme}: no {BEGIN} ... {END} markers to put the tables between", file=sys.stderr)
        return 2
    head = text[: start + len(BEGIN)] + "\n"
    updated = head + tables(args.module) + text[end:]
    if updated == text:
        return 0
    if args.check:
        print(f"{readme}: the inputs/outputs tables are stale; run `make generated` and commit", file=sys.stderr)
        return 1
    _replace(readme, updated)
    print(f"{readme}: tables rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())

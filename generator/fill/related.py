"""What the fills depend on: project files the region files use, and the project's tool configuration.

The model writes code that must fit code it cannot change: the modules a region file imports,
the fixtures its tests use, the Terraform module's version constraints and examples, the files
a script sources, and the lint, type-check and test settings the checks apply. These go into the
request read-only. A pure function over the project's files: no model, no network.

Only direct dependencies are followed (not what those import in turn), and the total is capped:
what does not fit is named, so the model knows it exists.
"""

from __future__ import annotations

import ast
import re
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from generator.fill.regions import language_of, read_text

# About 15k tokens: the modules of a typical template fit several times over, a vendored tree does not.
LIMIT = 60_000
# The pyproject.toml sections the checks read (prefixes: `tool.ruff` covers `tool.ruff.lint`).
_TOOL_SECTIONS = ("tool.ruff", "tool.mypy", "tool.pydantic-mypy", "tool.pytest.ini_options")
_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_SOURCE = re.compile(r"^\s*(?:source|\.)\s+(?P<arg>[^;#&|]+)")
# A path built from the script's own location: `$(dirname "$0")/`, `${BASH_SOURCE%/*}/` (quotes removed).
_SCRIPT_DIR = re.compile(r"^(\$\(dirname \$\{?(0|BASH_SOURCE(\[0\])?)\}?\)|\$\{BASH_SOURCE(\[0\])?%/\*\})/")
_TF_CONSTRAINTS = re.compile(r"\brequired_(?:version|providers)\b")
# Tool configuration files of their own, at the project root, by the language of the files they configure.
_CONFIG_FILES = {
    "python": ("ruff.toml", ".ruff.toml", "mypy.ini", ".mypy.ini", "pytest.ini"),
    "bash": (".shellcheckrc",),
}


@dataclass(frozen=True)
class Related:
    """Read-only files for the request (path -> text, in the order they matter), and what the cap left out."""

    files: dict[str, str] = field(default_factory=dict)
    left_out: tuple[str, ...] = ()
    limit: int = LIMIT


def related_files(project: Path, region_files: Sequence[str], limit: int = LIMIT) -> Related:
    """The project's tool configuration, then each region file's dependencies, up to `limit` characters.

    Region files themselves are not repeated: the request carries them in full already.
    """
    wanted: dict[str, str | None] = {}
    config = tool_config(project)
    if config and "pyproject.toml" not in region_files:
        wanted["pyproject.toml"] = config
    for path in region_files:
        for dependency in _dependencies(project, path):
            if dependency not in region_files and dependency not in wanted:
                wanted[dependency] = _read(project, dependency, limit)
    files: dict[str, str] = {}
    left_out: list[str] = []
    used = 0
    for path, text in wanted.items():
        # A file too large to read whole (or not text) is named like one the cap left out.
        if text is None or used + len(text) > limit:
            left_out.append(path)
            continue
        files[path] = text
        used += len(text)
    return Related(files, tuple(left_out), limit)


def tool_config(project: Path) -> str:
    """The sections of pyproject.toml the checks read, and the Python version and dependencies; "" without one."""
    text = _read(project, "pyproject.toml")
    if text is None:
        return ""
    parts = [_project_table(text)]
    keep = False
    section: list[str] = []
    for line in text.splitlines():
        header = _HEADER.match(line)
        if header:
            if keep:
                parts.append("\n".join(section).strip())
            name = header[1].replace('"', "").replace("'", "")
            keep = any(name == wanted or name.startswith(wanted + ".") for wanted in _TOOL_SECTIONS)
            section = []
        if keep:
            section.append(line)
    if keep:
        parts.append("\n".join(section).strip())
    kept = [part for part in parts if part]
    return "\n\n".join(kept) + "\n" if kept else ""


def _project_table(text: str) -> str:
    """`[project]`'s Python version and dependencies: which imports a fill may use."""
    try:
        table = tomllib.loads(text).get("project", {})
    except tomllib.TOMLDecodeError:
        return ""
    if not isinstance(table, dict):
        return ""
    lines = ["[project]  # excerpt"]
    if isinstance(table.get("requires-python"), str):
        lines.append(f"requires-python = {_toml_string(table['requires-python'])}")
    if isinstance(table.get("dependencies"), list):
        lines.append(f"dependencies = {_toml_list(table['dependencies'])}")
    extras = table.get("optional-dependencies")
    if isinstance(extras, dict):
        lines += [
            f"optional-dependencies.{name} = {_toml_list(items)}"
            for name, items in extras.items()
            if isinstance(items, list)
        ]
    return "\n".join(lines) if len(lines) > 1 else ""


def _toml_string(value: object) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _toml_list(values: list[object]) -> str:
    return "[" + ", ".join(_toml_string(value) for value in values) + "]"


def _read(project: Path, path: str, limit: int = LIMIT) -> str | None:
    """A project file's text, or None when it is missing, a link, not UTF-8 or over `limit` bytes."""
    full = project / path
    try:
        if full.is_symlink() or not full.is_file() or full.stat().st_size > limit:
            return None
        return read_text(full)
    except (OSError, UnicodeDecodeError):
        return None


def _dependencies(project: Path, path: str) -> Iterator[str]:
    full = project / path
    text = _read(project, path)
    if text is None:
        return
    language = language_of(path, text)
    yield from (name for name in _CONFIG_FILES.get(language, ()) if (project / name).is_file())
    if language == "python":
        yield from _conftests(project, path)
        yield from _python_imports(project, path, text)
    elif language == "hcl":
        yield from _terraform(project, path)
    elif language == "bash":
        yield from _sourced(project, full, text)


# --- Python -------------------------------------------------------------------------------------


def _roots(project: Path) -> list[Path]:
    """Where the project's top-level packages live: src/ (the src layout), then the project folder."""
    return [folder for folder in (project / "src", project) if folder.is_dir()]


def _module_file(project: Path, module: str) -> str | None:
    """`pkg.sub.mod` -> its file in the project, relative; None for third-party and standard modules."""
    parts = module.split(".")
    for root in _roots(project):
        base = root.joinpath(*parts)
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file() and (root / parts[0]).is_dir():
                return candidate.relative_to(project).as_posix()
    return None


def _package_of(project: Path, path: str) -> list[str]:
    """The dotted package a project file belongs to (for relative imports); [] outside a package root."""
    folder = PurePosixPath(path).parent
    for root in _roots(project):
        relative = root.relative_to(project).as_posix()
        prefix = PurePosixPath(relative) if relative != "." else PurePosixPath()
        try:
            parts = folder.relative_to(prefix).parts
        except ValueError:
            continue
        if parts:
            return list(parts)
    return []


def _python_imports(project: Path, path: str, text: str) -> Iterator[str]:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return
    package = _package_of(project, path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield from _found(_module_file(project, alias.name))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level + 1] if node.level <= len(package) else []
                if not anchor:
                    continue
                base = ".".join([*anchor, base] if base else anchor)
            # `from pkg import mod` names a module; `from pkg.mod import name` names something in one.
            submodules = [_module_file(project, f"{base}.{alias.name}") for alias in node.names]
            yield from (found for found in submodules if found)
            if not all(submodules):
                yield from _found(_module_file(project, base))


def _found(path: str | None) -> Iterator[str]:
    if path is not None:
        yield path


def _conftests(project: Path, path: str) -> Iterator[str]:
    """pytest fixtures a test file may use: conftest.py in its folder and each folder above it."""
    pure = PurePosixPath(path)
    if not (pure.name.startswith("test_") or pure.name.endswith("_test.py") or "tests" in pure.parts):
        return
    folders = [pure.parent, *pure.parent.parents]
    for folder in reversed(folders):
        candidate = (folder / "conftest.py").as_posix()
        if (project / candidate).is_file():
            yield candidate


# --- Terraform ----------------------------------------------------------------------------------


def _terraform(project: Path, path: str) -> Iterator[str]:
    """The module's version constraints, its interface files and its examples."""
    folder = PurePosixPath(path).parent
    # A `terraform test` file in tests/ belongs to the module above it.
    module = folder.parent if folder.name == "tests" else folder
    root = project / module
    for name in ("versions.tf", "variables.tf", "outputs.tf"):
        if (root / name).is_file():
            yield (module / name).as_posix()
    for other in sorted(root.glob("*.tf")):
        if other.name not in ("versions.tf",) and _TF_CONSTRAINTS.search(_read(project, _rel(project, other)) or ""):
            yield _rel(project, other)
    examples = root / "examples"
    if examples.is_dir():
        for example in sorted(examples.rglob("*")):
            if example.is_file() and example.suffix in (".tf", ".tfvars", ".md"):
                yield _rel(project, example)


def _rel(project: Path, path: Path) -> str:
    return path.relative_to(project).as_posix()


# --- Bash ---------------------------------------------------------------------------------------


def _sourced(project: Path, full: Path, text: str) -> Iterator[str]:
    """Files a script sources (`source x` or `. x`), resolved next to the script, then at the project root.

    A path built from the script's own location (`"$(dirname "$0")/lib.sh"`, `"${BASH_SOURCE%/*}/lib.sh"`)
    is taken relative to the script; one built from other variables cannot be resolved and is skipped.
    """
    for line in text.splitlines():
        match = _SOURCE.match(line)
        if not match:
            continue
        argument = _SCRIPT_DIR.sub("", match["arg"].strip().replace('"', "").replace("'", ""))
        if "$" in argument or not argument:
            continue
        for base in (full.parent, project):
            candidate = (base / argument).resolve()
            if candidate.is_file() and candidate.is_relative_to(project.resolve()):
                yield candidate.relative_to(project.resolve()).as_posix()
                break

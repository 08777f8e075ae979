"""The package's shape: every import declared, no import cycles, argparse only in the CLI.

Imports are read from the source (ast), every one of them: at module level, inside functions
(scaffold imports heavy packages lazily) and under TYPE_CHECKING, because each is a dependency
that some code path or mypy needs.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

from tests.helpers import REPO_ROOT

PACKAGE = "generator"


@dataclass(frozen=True)
class Import:
    """One imported module as written (`from a.b import c` gives `a.b`, with `c` in `names`)."""

    module: str
    names: tuple[str, ...]
    line: int


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _sources() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted((REPO_ROOT / PACKAGE).rglob("*.py"))}


def _imports(module: str) -> list[Import]:
    path = _sources()[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.extend(Import(alias.name, (), node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.append(Import(base, tuple(alias.name for alias in node.names), node.lineno))
    return found


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# Extras the package's own code may import from (generator/plumbing/extras.py); test and bench
# are for the repository's tests and benchmarks.
FEATURE_EXTRAS = ("ai", "mcp")


def _declared() -> set[str]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = [
        *project["dependencies"],
        *(spec for extra in FEATURE_EXTRAS for spec in project["optional-dependencies"][extra]),
    ]
    return {_normalise(re.split(r"[\s\[<>=!~;@(]", spec, maxsplit=1)[0]) for spec in specs}


def test_every_third_party_import_is_a_declared_dependency() -> None:
    distributions = packages_distributions()
    undeclared: dict[str, set[str]] = {}
    for module in _sources():
        for imported in _imports(module):
            top = imported.module.partition(".")[0]
            if top == PACKAGE or top in sys.stdlib_module_names or top == "__future__":
                continue
            names = distributions.get(top)
            assert names, f"{module} imports {top!r}, which no installed distribution provides"
            if not {_normalise(name) for name in names} & _declared():
                undeclared.setdefault(f"{top} ({', '.join(sorted(names))})", set()).add(module)
    assert not undeclared, "imported but not in [project].dependencies: " + "; ".join(
        f"{name} by {', '.join(sorted(users))}" for name, users in sorted(undeclared.items())
    )


def _edges(module: str) -> Iterator[str]:
    """The generator.* modules `module` imports; `from generator.x import y` names generator.x.y if y is one."""
    sources = _sources()
    for imported in _imports(module):
        if imported.module != PACKAGE and not imported.module.startswith(PACKAGE + "."):
            continue
        submodules = [f"{imported.module}.{name}" for name in imported.names if f"{imported.module}.{name}" in sources]
        # `from generator.x import y, z` imports generator.x itself too, unless every name is a submodule.
        if len(submodules) < len(imported.names) or not imported.names:
            yield imported.module
        yield from submodules


def _import_graph() -> dict[str, set[str]]:
    return {module: {target for target in _edges(module) if target != module} for module in _sources()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(components)


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_the_package_has_no_import_cycles() -> None:
    graph = _import_graph()
    # generator/__init__.py is the lazy public facade: it names the library's functions for type checkers
    # only (under TYPE_CHECKING) and loads them on first attribute access, so no module it names is
    # imported when `generator` is; every other module is counted with all of its imports.
    graph["generator"] = set()
    cycles = _cycles(graph)
    assert not cycles, "import cycles among: " + "; ".join(" <-> ".join(cycle) for cycle in cycles)


def test_only_the_cli_imports_argparse() -> None:
    users = [
        module
        for module in _sources()
        if not (module == f"{PACKAGE}.cli" or module.startswith(f"{PACKAGE}.cli."))
        and any(imported.module.partition(".")[0] == "argparse" for imported in _imports(module))
    ]
    assert not users, f"argparse belongs to generator/cli/, but {', '.join(users)} import it"

"""The code under src/ imports only what `pip install .` installs.

A production install (the Docker image, a deploy, `pipx install`) gets `[project].dependencies`
in pyproject.toml and what they require, not the dev extra. A module that only `.[dev]` brings
(httpx, pytest's `packaging`) passes every other check here, then fails at import in production.
Not counted: imports under `if TYPE_CHECKING:`, those in a `try` whose `except ImportError`
carries on without them, and modules named only in strings other than `importlib.import_module`'s
and `__import__`'s (a logging config's class, uvicorn's `loop="uvloop"`, a database URL's driver).
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "src"
PACKAGE = "{{ cookiecutter.__package_name }}"
_OPTIONAL = {"ImportError", "ModuleNotFoundError"}


def _normal(name: str) -> str:
    """A distribution's name as packaging compares them (PEP 503): `PyJWT` is `pyjwt`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _applies(requirement: Requirement, extras: frozenset[str]) -> bool:
    """Whether `requirement` is installed here with `extras` asked for (markers as seen here)."""
    marker = requirement.marker
    return marker is None or any(marker.evaluate({"extra": extra}) for extra in {"", *extras})


def _declared(pyproject: Path) -> list[str]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    if "dependencies" in project.get("dynamic", []):
        # A build backend computes them: the installed project's metadata has what it computed.
        try:
            requires = metadata.distribution(project["name"]).requires or []
        except (KeyError, metadata.PackageNotFoundError):
            return []
        return [text for text in requires if "extra" not in text]
    dependencies = project.get("dependencies", [])
    return [dependencies] if isinstance(dependencies, str) else list(dependencies)


def production_distributions(pyproject: Path = ROOT / "pyproject.toml") -> set[str]:
    """The distributions `pip install .` installs: the declared dependencies and, in turn, theirs.

    A requirement of one of a distribution's extras counts only when that extra is asked for.
    A declared distribution that is not installed here counts, without what it requires.
    """
    pending = [Requirement(text) for text in _declared(pyproject)]
    done: dict[str, frozenset[str]] = {}
    while pending:
        requirement = pending.pop()
        name, extras = _normal(requirement.name), frozenset(map(_normal, requirement.extras))
        if name in done and extras <= done[name]:
            continue
        done[name] = done.get(name, frozenset()) | extras
        try:
            requires = metadata.distribution(name).requires or []
        except metadata.PackageNotFoundError:
            continue
        for text in requires:
            try:
                found = Requirement(text)
            except InvalidRequirement:
                continue
            if _applies(found, done[name]):
                pending.append(found)
    return set(done)


def module_owners() -> dict[str, set[str]]:
    """Each installed module and package, dotted (`opentelemetry.sdk`), with the distributions that
    install it: the files each one records, so a namespace package's parts have their own owners."""
    owners: dict[str, set[str]] = {}
    for distribution in metadata.distributions():
        name = _normal(distribution.metadata["Name"] or "")
        for file in distribution.files or []:
            parts = file.parts
            if not parts or ".." in parts or parts[0].endswith((".dist-info", ".data")):
                continue
            stem = parts[-1].split(".")[0]
            if not parts[-1].endswith((".py", ".pyi", ".so", ".pyd")) or not stem.isidentifier():
                continue
            dotted = [*parts[:-1], stem] if stem != "__init__" else list(parts[:-1])
            for end in range(1, len(dotted) + 1):
                owners.setdefault(".".join(dotted[:end]), set()).add(name)
    return owners


class _Imports(ast.NodeVisitor):
    """The modules a file imports when it runs, dotted, with their lines."""

    def __init__(self) -> None:
        self.found: list[tuple[int, str]] = []

    def visit_Import(self, node: ast.Import) -> None:
        self.found += [(node.lineno, alias.name) for alias in node.names]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module:
            # `from a import b`: b may be a module of its own (a namespace package's part).
            self.found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        first = node.args[0].value if node.args and isinstance(node.args[0], ast.Constant) else None
        if name in ("import_module", "__import__") and isinstance(first, str) and first[:1] != ".":
            self.found.append((node.lineno, first))
        self.generic_visit(node)

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        named = isinstance(test, ast.Name | ast.Attribute)
        if named and ast.unparse(test).endswith("TYPE_CHECKING"):
            for child in node.orelse:
                self.visit(child)  # only the type checker runs the body
            return
        self.generic_visit(node)

    def visit_Try(self, node: ast.Try) -> None:
        # Optional only when the code carries on without the module: not when the handler raises
        # again, nor under `except Exception`, which hides a missing module as an ordinary failure.
        optional = any(
            set(_names(handler.type)) & _OPTIONAL
            and not any(isinstance(inner, ast.Raise) for inner in ast.walk(handler))
            for handler in node.handlers
        )
        if optional:
            for child in [*node.handlers, *node.orelse, *node.finalbody]:
                self.visit(child)
            return
        self.generic_visit(node)


def _names(node: ast.expr | None) -> Iterator[str]:
    if isinstance(node, ast.Tuple):
        for element in node.elts:
            yield from _names(element)
    elif isinstance(node, ast.Name):
        yield node.id
    elif isinstance(node, ast.Attribute):
        yield node.attr


def _own_packages() -> set[str]:
    """The project's own top-level modules: everything directly under src/."""
    own = {PACKAGE}
    if SOURCES.is_dir():
        own |= {path.name.split(".")[0] for path in SOURCES.iterdir() if path.suffix in ("", ".py")}
    return own


def _owners_of(module: str, owners: dict[str, set[str]]) -> set[str]:
    """Who installs `module`: the owners of its longest dotted prefix that has any."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        found = owners.get(".".join(parts[:end]))
        if found:
            return found
    return set()


def _advice(module: str, providers: set[str]) -> str:
    if not providers:
        return (
            f"no installed distribution provides {module}: add the one that does to "
            "[project].dependencies in pyproject.toml (its name may differ: PyYAML gives yaml, "
            "PyJWT gives jwt), then run `make install`"
        )
    name = sorted(providers)[0]
    try:
        distribution = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return f"add {name}, with a version range, to [project].dependencies in pyproject.toml"
    version = distribution.version.split(".")
    lower = ".".join(version[:2]) if len(version) > 1 else version[0]
    upper = f",<{int(version[0]) + 1}" if version[0].isdigit() else ""
    pin = f"{distribution.metadata['Name']}>={lower}{upper}"
    return f'add "{pin}", to [project].dependencies in pyproject.toml'


def unshipped_imports(
    files: list[Path], production: set[str], owners: dict[str, set[str]] | None = None
) -> list[str]:
    """A line for each import in `files` of a module no distribution in `production` provides."""
    owners = module_owners() if owners is None else owners
    own = _own_packages()
    problems = []
    for path in files:
        visitor = _Imports()
        visitor.visit(ast.parse(path.read_bytes(), filename=str(path)))
        for line, module in visitor.found:
            top = module.partition(".")[0]
            if top in own or top in sys.stdlib_module_names:
                continue
            providers = _owners_of(module, owners)
            # An editable install (a path dependency, a workspace member) records no modules:
            # it is known by its name.
            if providers & production or (not providers and _normal(top) in production):
                continue
            where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
            source = f"from {', '.join(sorted(providers))}" if providers else "not installed"
            problems.append(
                f"{where}:{line} imports {module} ({source}), which `pip install .` does not "
                f"install: {_advice(module, providers)}"
            )
    return problems


def test_the_code_imports_only_what_production_installs() -> None:
    files = sorted(SOURCES.rglob("*.py"))
    assert files, "no source files found"
    problems = unshipped_imports(files, production_distributions())
    assert problems == [], "\n".join(problems)


def _pyproject(tmp_path: Path, *dependencies: str) -> Path:
    pyproject = tmp_path / "pyproject.toml"
    listed = ", ".join(f'"{dependency}"' for dependency in dependencies)
    pyproject.write_text(f'[project]\nname = "x"\ndependencies = [{listed}]\n', encoding="utf-8")
    return pyproject


def test_an_import_only_the_dev_extra_installs_is_reported(tmp_path: Path) -> None:
    # pytest comes with `.[dev]` alone: the check must see it, or the test above proves nothing.
    module = tmp_path / "uses_pytest.py"
    module.write_text("import json\n\nimport pytest\n", encoding="utf-8")
    problems = unshipped_imports([module], production_distributions(_pyproject(tmp_path)))
    assert len(problems) == 1, problems
    assert "uses_pytest.py:3 imports pytest (from pytest)" in problems[0]
    assert 'add "pytest>=' in problems[0]


def test_guarded_and_dynamic_imports(tmp_path: Path) -> None:
    module = tmp_path / "guarded.py"
    module.write_text(
        "import importlib\nimport typing as t\n\n"
        "if t.TYPE_CHECKING:\n    import pytest\n\n"
        "try:\n    import yaml\nexcept ImportError:\n    yaml = None\n\n"
        "try:\n    import iniconfig\nexcept Exception:\n    iniconfig = None\n\n"
        "def load() -> object:\n    return importlib.import_module('pluggy')\n",
        encoding="utf-8",
    )
    problems = unshipped_imports([module], production_distributions(_pyproject(tmp_path)))
    assert [problem.split(" (")[0] for problem in problems] == [
        "guarded.py:13 imports iniconfig",  # `except Exception` would hide it missing
        "guarded.py:18 imports pluggy",
    ]


def test_a_namespace_package_is_judged_by_its_part(tmp_path: Path) -> None:
    module = tmp_path / "ns.py"
    module.write_text("import space.part\nfrom space import other\n", encoding="utf-8")
    owners = {"space": {"core", "extra"}, "space.part": {"extra"}, "space.other": {"core"}}
    problems = unshipped_imports([module], {"core"}, owners)
    assert [problem.split(" (")[0] for problem in problems] == ["ns.py:1 imports space.part"]


def test_what_a_declared_dependency_and_its_extras_require_counts(tmp_path: Path) -> None:
    production = production_distributions(_pyproject(tmp_path, "pytest>=8"))
    assert {"pytest", "pluggy", "iniconfig"} <= production
    assert "ruff" not in production
    # An extra's requirements count only when it is asked for (uvicorn[standard] brings httptools).
    requires = [Requirement(text) for text in metadata.distribution("pytest").requires or []]
    plain = {_normal(r.name) for r in requires if _applies(r, frozenset())}
    dev = {_normal(r.name) for r in requires if _applies(r, frozenset({"dev"}))} - plain
    assert dev, "pytest has no `dev` extra to try this on"
    assert not dev & production
    assert dev <= production_distributions(_pyproject(tmp_path, "pytest[dev]>=8"))

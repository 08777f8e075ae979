"""The code under src/ imports only what `pip install .` installs.

A production install (the Docker image, a deploy, `pipx install`) gets `[project].dependencies`
and what they require, not the dev extra. A module only `.[dev]` brings (httpx, which the tests
use) passes ruff, mypy and every other test here, then fails at import in production.

Counted as installed: the declared dependencies, what they require in turn (with the extras
asked for; declare a module you import directly anyway, as a new release may stop requiring
it), the project's own extras other than `dev` (optional features), and `PROVIDED`. Not counted:
imports under `if TYPE_CHECKING:`. Not seen: modules named only in strings (a logging config's
class, uvicorn's `loop="uvloop"`, a database URL's driver), except `importlib.import_module`'s.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
# Modules production has without `pip install .` (a base image's own packages), each with why.
PROVIDED: dict[str, str] = {}
# Extras for working on the project, which production never installs; other extras are features.
DEV_EXTRAS = {"dev", "test", "tests", "lint", "typing", "docs"}


def _applies(requirement: Requirement, extras: Iterable[str]) -> bool:
    """Whether `requirement` is installed here with `extras` asked for (markers as seen here)."""
    marker = requirement.marker
    return marker is None or any(marker.evaluate({"extra": extra}) for extra in {"", *extras})


def _closure(requirements: Iterable[str]) -> set[str]:
    """The distributions that installing `requirements` installs: them and, in turn, theirs.

    A distribution that is not installed here counts, without what it would require."""
    pending = [Requirement(text) for text in requirements]
    done: dict[str, set[str]] = {}
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        extras = {canonicalize_name(extra) for extra in requirement.extras}
        if name in done and extras <= done[name]:
            continue
        done[name] = done.get(name, set()) | extras
        try:
            requires = metadata.distribution(name).requires or []
        except metadata.PackageNotFoundError:
            continue
        pending += [found for found in map(Requirement, requires) if _applies(found, done[name])]
    return set(done)


def allowed_distributions(pyproject: Path = ROOT / "pyproject.toml") -> set[str]:
    """What code under src/ may import from: the declared dependencies, the non-dev extras, and
    what they require. `dynamic` dependencies are read from the installed project's metadata."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    declared = list(project.get("dependencies", []))
    if "dependencies" in project.get("dynamic", []):
        try:
            requires = metadata.distribution(project["name"]).requires or []
        except (KeyError, metadata.PackageNotFoundError):
            requires = []
        declared = [text for text in requires if _applies(Requirement(text), ())]
    for extra, requirements in project.get("optional-dependencies", {}).items():
        if canonicalize_name(extra) not in DEV_EXTRAS:
            declared += requirements
    return _closure(declared)


def module_owners() -> dict[str, set[str]]:
    """Each installed module and package, dotted (`opentelemetry.sdk`), with the distributions
    whose files hold it: a namespace package's parts each have their own owners."""
    owners: dict[str, set[str]] = {}
    for distribution in metadata.distributions():
        name = canonicalize_name(distribution.metadata["Name"] or "")
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
        name = test.attr if isinstance(test, ast.Attribute) else getattr(test, "id", "")
        if name == "TYPE_CHECKING":
            for child in node.orelse:
                self.visit(child)  # only the type checker runs the body
            return
        self.generic_visit(node)


def _owners_of(module: str, owners: dict[str, set[str]]) -> set[str]:
    """Who installs `module`: the owners of its longest dotted prefix that has any."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        found = owners.get(".".join(parts[:end]))
        if found:
            return found
    return set()


def _where_to_declare(pyproject: Path) -> int:
    """The line of pyproject.toml to point at: scaffold's `dependencies` fill region, whose body is
    where a fill declares what it imports, else the `dependencies = [` line."""
    lines = pyproject.read_text(encoding="utf-8").splitlines()
    for wanted in ("scaffold:fill dependencies", "dependencies = ["):
        for number, line in enumerate(lines, start=1):
            if wanted in line:
                return number
    return 1


def _requirement_for(providers: set[str]) -> str:
    """A requirement for the installed distribution, ranged like the project's own."""
    name = sorted(providers)[0]
    try:
        distribution = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return name
    version = distribution.version.split(".")
    lower = ".".join(version[:2])
    # A calendar version (certifi's 2026.10) gets no upper bound: next year's must not be refused.
    upper = f",<{int(version[0]) + 1}" if version[0].isdigit() and int(version[0]) < 100 else ""
    return f"{distribution.metadata['Name']}>={lower}{upper}"


def unshipped_imports(
    files: list[Path], allowed: set[str], pyproject: Path = ROOT / "pyproject.toml"
) -> list[str]:
    """A line for each import in `files` of a module no distribution in `allowed` provides."""
    owners = module_owners()
    sources = ROOT / "src"
    own = {path.name.split(".")[0] for path in sources.iterdir()} if sources.is_dir() else set()
    declare = f"{pyproject.name}:{_where_to_declare(pyproject)}"
    problems = []
    for path in files:
        visitor = _Imports()
        visitor.visit(ast.parse(path.read_bytes(), filename=str(path)))
        for line, module in visitor.found:
            top = module.partition(".")[0]
            if top in own or top in sys.stdlib_module_names or top in PROVIDED:
                continue
            providers = _owners_of(module, owners)
            # An editable install (a path dependency, a workspace member) records no modules:
            # it is known by its name.
            if providers & allowed or (not providers and canonicalize_name(top) in allowed):
                continue
            where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
            imported = f"{where} line {line} imports {module}"
            if providers:
                problems.append(
                    f'{declare}: add "{_requirement_for(providers)}" to [project].dependencies: '
                    f"{imported}, which `pip install .` does not install (move the import under "
                    "tests/ instead if only tests need it)"
                )
            else:
                problems.append(
                    f"{declare}: {imported}, which no installed distribution provides: declare the "
                    "one that does in [project].dependencies (its name may differ: PyYAML provides "
                    "yaml, PyJWT jwt), then run `make install`"
                )
    return problems


def test_the_code_imports_only_what_production_installs() -> None:
    files = sorted((ROOT / "src").rglob("*.py"))
    assert files, "no source files under src/"
    problems = unshipped_imports(files, allowed_distributions())
    assert problems == [], "\n".join(problems)


# The check's own tests, on distributions made up in a temporary folder: they must fail if the
# check stops seeing something, or the test above proves nothing.


def _distribution(
    root: Path, name: str, requires: Iterable[str] = (), files: Iterable[str] = ()
) -> None:
    info = root / f"{name}-1.2.dist-info"
    info.mkdir()
    lines = [f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.2\n"]
    lines += [f"Requires-Dist: {requirement}\n" for requirement in requires]
    (info / "METADATA").write_text("".join(lines), encoding="utf-8")
    (info / "RECORD").write_text("".join(f"{file},,\n" for file in files), encoding="utf-8")


def _pyproject(root: Path, text: str) -> Path:
    pyproject = root / "pyproject.toml"
    pyproject.write_text(f'[project]\nname = "x"\n{text}\n', encoding="utf-8")
    return pyproject


@pytest.fixture
def made_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    _distribution(site, "alpha", ["beta", 'gamma; extra == "fast"'], ["alpha/__init__.py"])
    _distribution(site, "beta", [], ["beta.py"])
    _distribution(site, "gamma", [], ["gamma/__init__.py", "space/part/__init__.py"])
    _distribution(site, "delta", [], ["space/other.py"])
    _distribution(site, "local", [], ["local.pth"])  # an editable install
    monkeypatch.syspath_prepend(str(site))
    return tmp_path


def _found(problems: list[str]) -> list[str]:
    return [
        problem.split(": ", 1)[1].split(", which")[0].removeprefix("add ") for problem in problems
    ]


def test_requirements_extras_and_namespace_parts(made_up: Path) -> None:
    module = made_up / "code.py"
    module.write_text(
        "import alpha\nimport beta\nimport gamma\nimport space.part\nfrom space import other\n",
        encoding="utf-8",
    )
    allowed = allowed_distributions(_pyproject(made_up, 'dependencies = ["alpha", "delta"]'))
    assert allowed == {"alpha", "beta", "delta"}
    problems = unshipped_imports([module], allowed, pyproject=made_up / "pyproject.toml")
    assert _found(problems) == [
        '"gamma>=1.2,<2" to [project].dependencies: code.py line 3 imports gamma',
        '"gamma>=1.2,<2" to [project].dependencies: code.py line 4 imports space.part',
    ]
    assert problems[0].startswith("pyproject.toml:3: ")  # the `dependencies = [` line
    with_extra = allowed_distributions(_pyproject(made_up, 'dependencies = ["alpha[fast]"]'))
    assert "gamma" in with_extra


def test_guards_optional_extras_dynamic_and_editable(made_up: Path) -> None:
    module = made_up / "code.py"
    module.write_text(
        "import importlib\nimport typing\n\n"
        "if typing.TYPE_CHECKING:\n    import beta\n\n"
        "try:\n    import gamma\nexcept ImportError:\n    gamma = None\n\n"
        "import local\n\n"
        "def load() -> object:\n    return importlib.import_module('space.other')\n",
        encoding="utf-8",
    )
    bare = _pyproject(made_up, 'dependencies = ["local"]')
    # A guard does not make a module optional: an extra does.
    assert _found(unshipped_imports([module], allowed_distributions(bare), pyproject=bare)) == [
        '"gamma>=1.2,<2" to [project].dependencies: code.py line 8 imports gamma',
        '"delta>=1.2,<2" to [project].dependencies: code.py line 15 imports space.other',
    ]
    optional = '[project.optional-dependencies]\nfast = ["gamma"]\ndev = ["delta"]'
    extras = _pyproject(made_up, f'dependencies = ["local"]\n{optional}')
    assert allowed_distributions(extras) == {"local", "gamma"}
    _distribution(made_up / "site", "x", ["delta", 'gamma; extra == "more"'])
    dynamic = _pyproject(made_up, 'dynamic = ["dependencies"]')
    assert allowed_distributions(dynamic) == {"delta"}


def test_an_import_only_the_dev_extra_installs_is_reported(tmp_path: Path) -> None:
    module = tmp_path / "uses_pytest.py"
    module.write_text("import json\n\nimport pytest\n", encoding="utf-8")
    pyproject = _pyproject(tmp_path, "dependencies = []")
    problems = unshipped_imports([module], allowed_distributions(pyproject), pyproject=pyproject)
    assert len(problems) == 1, problems
    assert 'add "pytest>=' in problems[0]
    assert "uses_pytest.py line 3 imports pytest" in problems[0]

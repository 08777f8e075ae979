"""Fixtures: an isolated HOME/config for every test, shared venvs for generated projects."""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT, isolate, run, venv_bin

# The fill-step fixtures (rendered service, fake Messages API) serve several test modules.
pytest_plugins = ["tests.fillfixtures"]

# Everything a generated Python project (service, api, script) needs, installed once per session.
GENERATED_PYTHON_DEPS = [
    "fastapi>=0.110,<1",
    "uvicorn[standard]>=0.29,<1",
    "pydantic>=2.6,<3",
    "pydantic-settings>=2.2,<3",
    "httpx>=0.27,<1",
    "httpx2>=2,<3",
    "PyJWT>=2.8,<3",
    "pytest>=8,<10",
    "ruff>=0.6",
]


SLOW_SKIP_REASON = "slow: run with 'pytest --slow', with '-m slow', or with SCAFFOLD_TEST_SLOW=1 (as CI does)"


# The whole session's cache folder, before any test module is imported: the secret rules' modules
# read it as they load (their compiled patterns, `generator.context.regexes`), and the per-test
# fixture below comes too late for that. Only the cache: the rest of the environment is read later
# (SCAFFOLD_TEST_SLOW, at collection), and each test gets a fresh HOME and no XDG folders anyway.
_SESSION_CACHE = pytest.StashKey[tuple[pytest.MonkeyPatch, Path]]()


def pytest_configure(config: pytest.Config) -> None:
    patch, cache = pytest.MonkeyPatch(), Path(tempfile.mkdtemp(prefix="scaffold-tests-cache-"))
    patch.setenv("XDG_CACHE_HOME", str(cache))
    config.stash[_SESSION_CACHE] = (patch, cache)


def pytest_unconfigure(config: pytest.Config) -> None:
    patch, cache = config.stash[_SESSION_CACHE]
    patch.undo()
    shutil.rmtree(cache, ignore_errors=True)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--slow", action="store_true", help="also run tests marked slow (CI sets SCAFFOLD_TEST_SLOW=1)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip slow tests unless asked for: they build venvs and install packages, minutes on a laptop."""
    if _slow_wanted(config):
        return
    skip = pytest.mark.skip(reason=SLOW_SKIP_REASON)
    for item in items:
        if item.get_closest_marker("slow") is not None:
            item.add_marker(skip)


def _slow_wanted(config: pytest.Config) -> bool:
    # A -m expression that names slow decides about slow tests itself ("-m slow" runs them, "-m 'not slow'"
    # deselects them); skipping on top of it would make "-m slow" run nothing.
    named = re.search(r"\bslow\b", str(config.getoption("markexpr", "") or ""))
    return bool(config.getoption("--slow") or named or os.environ.get("SCAFFOLD_TEST_SLOW") == "1")


@pytest.fixture(autouse=True)
def no_signal_left_over() -> Iterator[None]:
    """A test that sends itself SIGTERM leaves the signal noted (`transaction._received`), which a CLI run
    clears at start but a library call does not: the next test's first checkpoint raised KeyboardInterrupt
    and stopped the session (test_update.py, then test_library.py)."""
    from generator.plumbing import transaction

    yield
    transaction._received.clear()
    transaction._landed.clear()


@pytest.fixture(autouse=True)
def isolated_user_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point HOME, XDG dirs and scaffold's variables at a fresh folder; no git identity."""
    home = tmp_path_factory.mktemp("home")
    isolate(monkeypatch, home)
    # One mypy cache for the session: the fill step's type check would otherwise start cold in every test.
    monkeypatch.setenv("MYPY_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "mypy-cache"))
    return home


@pytest.fixture(scope="module")
def render_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The same isolation for module-scoped renders, which run before the per-test fixture."""
    with pytest.MonkeyPatch.context() as patch:
        isolate(patch, tmp_path_factory.mktemp("render-home"))
        yield


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plain copy of the template files, for in-process renders (`generator.new_project(templates=...)`):
    Copier renders a folder in place (~1.5 s), but clones a git checkout on every render (another 2 s)."""
    import importlib.util

    # The golden examples are rendered from the same copy (examples/render.py, a script, not a package).
    spec = importlib.util.spec_from_file_location("examples_render", REPO_ROOT / "examples" / "render.py")
    assert spec is not None and spec.loader is not None
    render = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(render)
    copy: Path = render.template_copy(tmp_path_factory.mktemp("templates"))
    return copy


@pytest.fixture(scope="session")
def python_project_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A venv holding every dependency of the generated Python projects, shared by their checks."""
    venv = tmp_path_factory.mktemp("generated-venv") / "venv"
    run([sys.executable, "-m", "venv", venv])
    run([venv_bin(venv, "python"), "-m", "pip", "install", "-q", *GENERATED_PYTHON_DEPS])
    yield venv


Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run `scaffold ARGS` in-process from an empty working folder; return (code, stdout, stderr)."""
    from generator.cli import main

    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)

    def invoke(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return invoke

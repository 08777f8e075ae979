"""The fast type check of Python fills: the project's own mypy configuration, run once per batch.

mypy needs the whole project (the fills import each other and the template's modules), so it runs
on a temporary copy of the project with the candidate files in place, never on the project itself.
It runs only when the project configures mypy (`[tool.mypy]` in pyproject.toml, or mypy.ini) and
mypy is installed where scaffold can find it, on the files the configuration names (as the
project's own type check does), else on the batch's files. The project's `.venv` python, when there is one,
gives mypy the project's third-party packages; without it, missing third-party imports are
ignored rather than blamed on the model. An error is a region's when its line is in the region's
body; an error elsewhere counts only when mypy does not report it on the project as it stands.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import shutil
import subprocess
import tempfile
import tomllib
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from generator.errors import RegionError
from generator.fill.regions import Region, parse_regions
from generator.fill.verify import project_env
from generator.plumbing import cachefile

_log = logging.getLogger(__name__)

# A cold run with the pydantic plugin takes a while; the cache makes the repair call's run quick.
_TIMEOUT_SECONDS = 300.0
_COPY_SKIP = (".git", ".venv", ".mypy_cache", ".ruff_cache", ".pytest_cache", "__pycache__", ".terraform", ".scaffold")
# Without the project's packages every third-party name is Any; strict mode would then blame the
# fills for the untyped decorators and base classes of FastAPI or pydantic, which are typed for real.
_WITHOUT_PACKAGES = (
    "--ignore-missing-imports",
    "--allow-untyped-decorators",
    "--allow-subclassing-any",
    "--allow-untyped-calls",
    "--no-warn-return-any",
)
_ERROR = re.compile(r"^(?P<path>[^:\n]+\.pyi?):(?P<line>\d+): error: (?P<message>.*?)(?:  \[(?P<code>[a-z0-9-]+)\])?$")
# Codes this fast check turns off: a package a fill has just declared is not installed yet (the gate's make
# check installs it), so an unresolved import is the gate's to judge. An ignore for only these codes then
# looks unused here while the project's own mypy needs it (`import yaml  # type: ignore[import-untyped]`
# without types-PyYAML): such an unused-ignore is the gate's to judge too.
_DISABLED = ("import-not-found", "import-untyped")
_IGNORE_CODES = re.compile(r"#\s*type:\s*ignore\[(?P<codes>[^\]]*)\]")


@dataclass(frozen=True)
class _TypeError:
    """One mypy error: the file (project-relative), its line, its message and code."""

    path: str
    line: int
    message: str
    code: str

    def render(self) -> str:
        code = f" [{self.code}]" if self.code else ""
        return f"line {self.line}: {self.message}{code} (mypy)"


def _settings(project: Path) -> dict[str, object] | None:
    """The project's `[tool.mypy]` ({} for a mypy.ini), or None when it does not configure mypy."""
    if (project / "mypy.ini").is_file() or (project / ".mypy.ini").is_file():
        return {}
    try:
        data = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    tool = data.get("tool")
    section = tool.get("mypy") if isinstance(tool, dict) else None
    return section if isinstance(section, dict) else None


def _cache_dir(project: Path) -> Path:
    from generator.settings import user_cache_dir

    digest = hashlib.sha256(str(project.resolve()).encode("utf-8")).hexdigest()[:16]
    return user_cache_dir() / "mypy" / digest


def _run(mypy: str, project: Path, copy: Path, files: Sequence[str]) -> list[_TypeError] | None:
    """mypy's errors on `files` in `copy`; None when mypy itself failed (a bad config, a missing plugin).

    A cache folder mypy cannot use (MYPY_CACHE_DIR or HOME pointing at a file, a read-only cache) must not
    turn the check off: mypy is run again with a cache inside the temporary copy."""
    # MYPY_CACHE_DIR, when set, is mypy's own way of sharing one cache between projects.
    shared = [] if os.environ.get("MYPY_CACHE_DIR") else ["--cache-dir", str(_cache_dir(project))]
    if shared:
        # Made by scaffold, private as its other caches' folders: mypy would make `~/.cache/scaffold` 0755.
        with contextlib.suppress(OSError):  # one that cannot be made: mypy says so, and runs again below
            cachefile.make_folder(_cache_dir(project))
    errors = _run_once(mypy, project, copy, files, shared)
    if errors is None:
        errors = _run_once(mypy, project, copy, files, ["--cache-dir", str(copy / ".scaffold-mypy-cache")])
    return errors


def _run_once(
    mypy: str, project: Path, copy: Path, files: Sequence[str], cache: Sequence[str]
) -> list[_TypeError] | None:
    python = project / ".venv" / "bin" / "python"
    argv = [
        mypy,
        *(["--python-executable", str(python)] if python.is_file() else _WITHOUT_PACKAGES),
        *cache,
        *(argument for code in _DISABLED for argument in ("--disable-error-code", code)),
        "--no-pretty",
        "--no-error-summary",
        "--show-error-codes",
        "--no-color-output",
        *files,
    ]
    try:
        done = subprocess.run(
            argv,
            cwd=copy,
            capture_output=True,
            text=True,
            timeout=_TIMEOUT_SECONDS,
            check=False,
            stdin=subprocess.DEVNULL,
            # mypy runs the project's python, whose .pth files a fill's dependency may bring: no API key for it.
            env=project_env(),
        )
    except (OSError, subprocess.SubprocessError) as exc:
        _log.debug("skipping mypy: %s", exc)
        return None
    # 0: clean, 1: errors found; 2 is mypy's own trouble, not the fills'.
    if done.returncode not in (0, 1):
        _log.debug("mypy failed (exit %s): %s", done.returncode, (done.stderr or done.stdout)[-500:])
        return None
    errors = []
    for raw in done.stdout.splitlines():
        match = _ERROR.match(raw.strip())
        if match:
            path = Path(match["path"]).as_posix().removeprefix("./")
            error = _TypeError(path, int(match["line"]), match["message"], match["code"] or "")
            if not _ignores_only_disabled(copy, error):
                errors.append(error)
    return errors


def _ignores_only_disabled(copy: Path, error: _TypeError) -> bool:
    """Whether `error` is an unused `type: ignore[...]` naming only codes this check turns off (`_DISABLED`)."""
    if error.code != "unused-ignore":
        return False
    try:
        line = (copy / error.path).read_text(encoding="utf-8").splitlines()[error.line - 1]
    except (OSError, UnicodeDecodeError, IndexError):
        return False
    found = _IGNORE_CODES.search(line)
    codes = {code.strip() for code in found["codes"].split(",")} - {"", "unused-ignore"} if found else set()
    return bool(codes) and codes <= set(_DISABLED)


def _copy(project: Path, into: Path, texts: Mapping[str, str]) -> Path:
    skip = shutil.ignore_patterns(*_COPY_SKIP)
    copy = Path(shutil.copytree(project, into / project.name, ignore=skip, symlinks=True))
    for path, text in texts.items():
        (copy / path).write_text(text, encoding="utf-8", newline="")
    return copy


# (project, files, digest of its Python files) -> mypy's errors: the project does not change during a run,
# so the repair and escalation calls reuse the first call's baseline.
_BASELINES: dict[tuple[str, tuple[str, ...], str], list[_TypeError]] = {}


def _as_it_stands(mypy: str, project: Path, files: Sequence[str], tmp: Path) -> list[_TypeError]:
    digest = hashlib.sha256()
    for path in sorted(project.rglob("*.py*")):
        if path.is_file() and not set(_COPY_SKIP) & set(path.relative_to(project).parts):
            digest.update(path.relative_to(project).as_posix().encode() + b"\0" + path.read_bytes())
    key = (str(project.resolve()), tuple(files), digest.hexdigest())
    if key not in _BASELINES:
        _BASELINES[key] = _run(mypy, project, _copy(project, tmp / "old", {}), files) or []
    return _BASELINES[key]


def _region_at(regions: Sequence[Region], line: int, *, whole: bool) -> Region | None:
    for region in regions:
        first, last = (region.start_line, region.end_line) if whole else (region.body_line, region.end_line - 1)
        if first <= line <= last:
            return region
    return None


def type_problems(
    mypy: str | None, project: Path, texts: Mapping[str, str], ids: Mapping[str, Collection[str]]
) -> dict[str, list[str]]:
    """Region key -> mypy's messages, for the candidate bodies `ids` (path -> region ids) spliced into `texts`.

    Empty when mypy (its path, or None) is missing or not configured, or failed on its own.
    """
    settings = _settings(project) if mypy is not None and texts else None
    if mypy is None or settings is None:
        return {}
    # The project's own `files` (its whole CI check) catch a fill breaking a module that uses it; without
    # them, the batch's files and what they import.
    files = [] if settings.get("files") else sorted(texts)
    try:
        regions = {path: [r for r in parse_regions(texts[path], path) if r.id in ids[path]] for path in texts}
    except RegionError:
        return {}
    problems: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory(prefix="scaffold-mypy-") as tmp:
        errors = _run(mypy, project, _copy(project, Path(tmp) / "new", texts), files)
        outside: list[_TypeError] = []
        for error in errors or []:
            region = _region_at(regions.get(error.path, []), error.line, whole=False)
            if region is None:
                outside.append(error)
            else:
                problems.setdefault(region.key, []).append(error.render())
        if outside:
            known = Counter((e.path, e.code, e.message) for e in _as_it_stands(mypy, project, files, Path(tmp)))
            for error in outside:
                signature = (error.path, error.code, error.message)
                if known[signature] > 0:
                    known[signature] -= 1
                    continue
                # New and outside every body: on a region's marker lines it is that region's, else the bodies' jointly.
                owner = _region_at(regions.get(error.path, []), error.line, whole=True)
                owners = [owner] if owner else regions.get(error.path) or [r for rs in regions.values() for r in rs]
                for region in owners:
                    problems.setdefault(region.key, []).append(f"{error.path} {error.render()}")
    return problems

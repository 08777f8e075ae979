"""What a fill run works on: the project's answers, its file tree, and which regions to fill.

A region is filled when `.scaffold/fills.yml` records it as filled; everything else (new
regions an update brought, regions that fell back, projects generated without a key) is
unfilled. `--refill` names regions to fill again even though they are filled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.errors import UsageError
from generator.fill.record import FILLED, Entry, read_records
from generator.fill.regions import Region, find_regions
from generator.plumbing import gitutil
from generator.template.render import read_answers

_TREE_SKIP = frozenset({".git", "__pycache__", ".venv", ".terraform", ".pytest_cache", ".ruff_cache", ".mypy_cache"})
_TREE_LIMIT = 400


@dataclass(frozen=True)
class Plan:
    project: Path
    answers: dict[str, Any]
    todo: tuple[Region, ...]
    filled: tuple[Region, ...]
    records: dict[str, Entry]
    tree: tuple[str, ...]
    # The git work tree the project is in (its own or an enclosing one); None outside git.
    repo: Path | None

    @property
    def template(self) -> str:
        return str(self.answers.get("template", "project"))

    @property
    def files(self) -> list[str]:
        """The files holding regions to fill, in tree order."""
        return list(dict.fromkeys(region.path for region in self.todo))


def resolve_refill(regions: Sequence[Region], wanted: Sequence[str]) -> set[str]:
    """Region keys for --refill: a full key `path#id`, or a bare id that is unique in the project."""
    keys: set[str] = set()
    for name in wanted:
        matches = [r.key for r in regions if name in (r.key, r.id)]
        if not matches:
            known = ", ".join(r.key for r in regions) or "none"
            raise UsageError(f"--refill {name}: no such region; the project's regions are: {known}")
        if len(matches) > 1:
            raise UsageError(f"--refill {name} is ambiguous ({', '.join(matches)}); give the full key PATH#ID")
        keys.update(matches)
    return keys


def file_tree(project: Path) -> tuple[str, ...]:
    """Relative paths of the project's files (VCS and cache folders skipped), capped for the prompt."""
    found: list[str] = []
    stack = [project]
    while stack and len(found) < _TREE_LIMIT:
        folder = stack.pop()
        for entry in sorted(folder.iterdir(), reverse=True):
            if entry.name in _TREE_SKIP or entry.is_symlink():
                continue
            if entry.is_dir():
                stack.append(entry)
            else:
                found.append(entry.relative_to(project).as_posix())
    return tuple(sorted(found))


def git_visible(project: Path) -> set[str]:
    """Files git tracks or would track under `project` (relative paths)."""
    out = gitutil.git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=project)
    return {path for path in out.split("\0") if path}


def make_plan(project: Path, refill: Sequence[str] = ()) -> Plan:
    """Read a generated project and decide what to fill (raises NotAProjectError if it is not one).

    In a git work tree only files git tracks or would track count: a build/ copy or a venv's
    site-packages holding a copy of the package must not be filled.
    """
    answers = read_answers(project)
    repo = gitutil.enclosing_repo(project)
    visible = git_visible(project) if repo is not None else None
    regions = [region for region in find_regions(project) if visible is None or region.path in visible]
    records = read_records(project)
    again = resolve_refill(regions, refill)
    todo = tuple(r for r in regions if r.key in again or records.get(r.key, _UNFILLED).status != FILLED)
    filled = tuple(r for r in regions if r not in todo)
    return Plan(project, answers, todo, filled, records, file_tree(project), repo)


_UNFILLED = Entry(status="unfilled", model=None, date="", body_sha256="")

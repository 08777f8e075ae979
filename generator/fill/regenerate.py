"""Files derived from the code, regenerated after a fill: the project's `make generated`.

A fill can change what other committed files are made from (the api's models make its
openapi.json). When the project's Makefile has a `generated` target, the ladder runs it with
the fills in place, right before the gate's check command and in the same environment, and the
files it changes are written and committed with the fills. Which files those are is found by
comparing the project's files before and after; the run puts the old bytes back afterwards, so
a fill that is refused leaves nothing behind. When it cannot run (no gate, or it fails), the
files it would write are named as possibly stale, from its recipe (`make -n generated`).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from generator.fill.plan import file_tree, git_visible
from generator.fill.verify import make_targets, project_env, run_tests
from generator.plumbing import atomic
from generator.plumbing.transaction import signals_held

# The Makefile target that rewrites the derived files: what regenerate_for runs and stale_files dry-runs.
TARGET = "generated"
# Larger files are not taken for generated text (nor kept in memory to be put back).
_MAX_BYTES = 5_000_000
# A redirection to a file in a recipe line: `… > openapi.json` (not `2>&1`, not /dev/null).
_REDIRECT = re.compile(r"(?<![0-9&])>>?\s*([^\s;&|<>()]+)")


# Path -> (its bytes before, or None when it is new; its bytes after, or None when it was deleted).
Changes = dict[str, tuple[bytes | None, bytes | None]]


@dataclass
class Regenerated:
    """What one run of `make generated` changed."""

    changes: Changes = field(default_factory=dict)
    # Why it did not run to the end ("failed with exit 2: …"), or "" when it did.
    failure: str = ""


def regenerate_for(project: Path) -> str | None:
    """The command that regenerates the project's derived files (`make generated`), or None when its Makefile
    has no such target."""
    return f"make {TARGET}" if TARGET in make_targets(project) else None


def regenerate(project: Path, command: str, api_key: str, *, in_git: bool, skip: Iterable[str]) -> Regenerated:
    """Run `command` in the project and return the files it changed, left changed on disk (see put_back).

    Only the files it declares (`stale_files`) may change: the command runs the fills' code (the api's
    imports its models), so anything else it touched (the Makefile, CI, the answers file, the user's own
    files) is put back at once, before the check runs, and the run counts as failed.
    """
    # Read before it runs: the run could rewrite the Makefile to declare whatever it changed.
    declared = set(stale_files(project))
    before = _snapshot(project, in_git=in_git)
    try:
        run = run_tests(project, command, api_key)
    except BaseException:
        # Ctrl-C while it runs: what it wrote so far goes, as after a refused fill.
        put_back(project, changes_of(before, _snapshot(project, in_git=in_git), skip))
        raise
    changes = changes_of(before, _snapshot(project, in_git=in_git), skip)
    undeclared = {rel: change for rel, change in changes.items() if rel not in declared}
    if undeclared:
        put_back(project, undeclared)
        changes = {rel: change for rel, change in changes.items() if rel in declared}
        names = ", ".join(sorted(undeclared)[:5]) + (", ..." if len(undeclared) > 5 else "")
        why = "files it does not declare in the Makefile's GENERATED" if declared else "files, and declares none"
        return Regenerated(changes, f"'{command}' changed {why} ({names}); they were put back")
    if run.code != 0:
        return Regenerated(changes, f"'{command}' failed with exit {run.code}: {run.last_line}")
    return Regenerated(changes)


def _snapshot(project: Path, *, in_git: bool) -> dict[str, bytes]:
    # In git, the files git tracks or would track (not the .venv the command may build); else the tree walk.
    names = git_visible(project) if in_git else file_tree(project)
    files: dict[str, bytes] = {}
    for rel in names:
        path = project / rel
        if path.is_file() and not path.is_symlink() and path.stat().st_size <= _MAX_BYTES:
            files[rel] = path.read_bytes()
    return files


def changes_of(before: Mapping[str, bytes], after: Mapping[str, bytes], skip: Iterable[str]) -> Changes:
    """The files that differ between two snapshots, new and deleted ones included (a deleted file's bytes
    after are None), without `skip` (region files)."""
    skipped = set(skip)
    return {
        rel: (before.get(rel), after.get(rel))
        for rel in before.keys() | after.keys()
        if rel not in skipped and before.get(rel) != after.get(rel)
    }


def put_back(project: Path, changes: Changes) -> None:
    """Restore what the files held before `make generated` ran (an interrupt waits until it is done)."""
    with signals_held():
        for rel, (old, _) in changes.items():
            if old is None:
                (project / rel).unlink(missing_ok=True)
            else:
                atomic.write_atomic(project / rel, old)


def stale_files(project: Path) -> tuple[str, ...]:
    """The files `make generated` writes: the Makefile's `GENERATED` variable (space-separated paths in
    the project), else the files its recipe redirects into, read by a dry run (`make -n`, which still
    expands `$(shell ...)` and runs `+` lines, as make does); () when unknown."""
    printed = "scaffold-print-generated"
    declared = _make(project, "-s", "--eval", f"{printed}: ; @echo $(GENERATED)", printed)
    names = declared.split() or [
        match for match in _REDIRECT.findall(_make(project, "-n", TARGET)) if not match.startswith("/dev/")
    ]
    inside = [name for name in names if _inside(name)]
    return tuple(dict.fromkeys(Path(name).as_posix().removeprefix("./") for name in inside))


def _inside(name: str) -> bool:
    path = Path(name)
    return not path.is_absolute() and ".." not in path.parts


def _make(project: Path, *args: str) -> str:
    try:
        return subprocess.run(
            ["make", "--no-print-directory", *args],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            env=project_env(),
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""

"""Build the git bundle that carries the template history inside the wheel.

Copier updates a project only from a git source whose root holds copier.yml, and it
needs the commit the project was made from. A wheel has no git, so the build packs the
repository's history into a bundle, with version tags on its commits (see
`derive_tags`; the working tree, when it differs from HEAD, becomes a final commit).
Tags are derived here rather than read from the repository, because tags do not always
travel with pushed commits.

Standard library only (`generator.plumbing.atomic` is too): the build backend imports this
module in its isolated env.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

from generator.plumbing.atomic import replacing

VERSION_FILE = "generator/__init__.py"
# What a template repository (this one, or a knowledge home) holds beside its code.
REPO_LAYOUT = ("copier.yml", "includes", "templates", "context")
_VERSION = re.compile(r"""^__version__\s*=\s*["']([^"']+)["']""", re.MULTILINE)
_RELEASE = re.compile(r"\d+(\.\d+)*")
_IDENTITY = {
    "GIT_AUTHOR_NAME": "scaffold build",
    "GIT_AUTHOR_EMAIL": "build@scaffold.invalid",
    "GIT_COMMITTER_NAME": "scaffold build",
    "GIT_COMMITTER_EMAIL": "build@scaffold.invalid",
}


class BundleError(RuntimeError):
    """Raised when the template bundle cannot be built."""


def _git(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0", **(env or {})},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if result.returncode != 0:
        raise BundleError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def read_version(text: str) -> str | None:
    match = _VERSION.search(text)
    return match.group(1) if match else None


def is_git_checkout(root: Path) -> bool:
    try:
        return _git("rev-parse", "--show-toplevel", cwd=root).strip() == str(root.resolve())
    except (BundleError, OSError):
        return False


def _snapshot_working_tree(source: Path, clone: Path) -> str | None:
    """Commit the source's tracked changes on top of HEAD (untracked files, such as a demo project rendered
    inside the checkout, must not make a build "dirty").
    """
    env = {"GIT_INDEX_FILE": str(clone / "snapshot-index"), "GIT_WORK_TREE": str(source)}
    git_dir = ["--git-dir", str(clone)]
    _git(*git_dir, "read-tree", "HEAD", cwd=source, env=env)
    _git(*git_dir, "add", "-u", cwd=source, env=env)
    tree = _git(*git_dir, "write-tree", cwd=source, env=env).strip()
    if tree == _git(*git_dir, "rev-parse", "HEAD^{tree}", cwd=source).strip():
        return None
    commit = _git(
        *git_dir,
        "commit-tree",
        tree,
        "-p",
        "HEAD",
        "-m",
        "Working-tree changes at build time",
        cwd=source,
        env={**env, **_IDENTITY},
    ).strip()
    _git(*git_dir, "update-ref", "HEAD", commit, cwd=source)
    return commit


def derive_tags(clone: Path, snapshot: str | None = None) -> dict[str, str]:
    """Tag every first-parent commit with the package version it belongs to.

    The commit that sets a new version is that release; the k-th commit after it is
    `<version>.post<k>` (PEP 440 sorts it after the release, so Copier picks it as the
    newest). Every build derives the same names for the same commits, so a project
    made from any build finds its `_commit` again in every later bundle. `snapshot`,
    the commit made of uncommitted changes, gets a `+dirty` local label: it exists in
    no other bundle, and an update from it should fail loudly rather than merge wrongly.
    """
    changed = set(_git("log", "--first-parent", "--format=%H", "HEAD", "--", VERSION_FILE, cwd=clone).split())
    tags: dict[str, str] = {}
    version: str | None = None
    since = 0
    for commit in _git("rev-list", "--first-parent", "--reverse", "HEAD", cwd=clone).split():
        if commit in changed:
            found = read_version(_git("show", f"{commit}:{VERSION_FILE}", cwd=clone))
            if found is not None and found != version:
                version, since = found, 0
                tags[version] = commit
                continue
        if version is None or not _RELEASE.fullmatch(version):
            continue
        since += 1
        label = "+dirty" if commit == snapshot else ""
        tags[f"{version}.post{since}{label}"] = commit
    return tags


def build_bundle(source: Path, out: Path) -> dict[str, str]:
    """Write a bundle of `source`'s history (plus working-tree changes) to `out`; return its tags."""
    source = source.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="scaffold-bundle-") as tmp:
        clone = Path(tmp) / "repo.git"
        _git("clone", "--quiet", "--bare", "--no-tags", "--single-branch", str(source), str(clone), cwd=source)
        snapshot = _snapshot_working_tree(source, clone)
        (clone / "snapshot-index").unlink(missing_ok=True)
        tags = derive_tags(clone, snapshot)
        for version, commit in tags.items():
            _git("tag", "--force", version, commit, cwd=clone)
        with replacing(out) as partial:
            _git("bundle", "create", "--quiet", str(partial), "--all", cwd=clone)
    return tags


def build_bundle_from_files(root: Path, out: Path, version: str) -> dict[str, str]:
    """Fallback without history (e.g. a source tree that is not a git checkout): one tagged commit."""
    with tempfile.TemporaryDirectory(prefix="scaffold-bundle-") as tmp:
        repo = Path(tmp) / "repo"
        _git("init", "--quiet", "-b", "main", str(repo), cwd=Path(tmp))
        env = {"GIT_WORK_TREE": str(root), "GIT_DIR": str(repo / ".git")}
        _git("add", "-A", cwd=root, env=env)
        _git("commit", "--quiet", "-m", f"scaffold templates {version}", cwd=root, env={**env, **_IDENTITY})
        _git("tag", version, cwd=root, env=env)
        with replacing(out) as partial:
            _git("bundle", "create", "--quiet", str(partial), "--all", cwd=root, env=env)
        return {version: _git("rev-parse", "HEAD", cwd=root, env=env).strip()}

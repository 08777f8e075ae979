"""Drift: where a generated project stands against its template source and its fills' context.

Reads only: the answers file (template, version, source), the source's release tags (`git
ls-remote`, which reads folders, bundles and URLs alike), the fill record, and the knowledge
home's documents. It never changes the project.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from generator.errors import ExternalToolError
from generator.fill.plan import make_plan
from generator.fill.record import FILLED, Entry
from generator.plumbing import gitutil
from generator.results import CheckResult
from generator.settings import Settings
from generator.template import source
from generator.template.render import git_location, read_answers

# A template source that does not answer within this is unreachable (a hung server must not hang CI).
REMOTE_TIMEOUT = 60.0

# What to do when the source a project records cannot be read.
MOVED_HINT = "if it moved, point the project at its new place: scaffold update --source URL_OR_PATH"


def check(project: Path, config: Settings) -> CheckResult:
    answers = read_answers(project)
    recorded = str(answers.get("_src_path") or "")
    shown = gitutil.without_credentials(recorded)  # recorded by scaffold before it left them out
    version = answers.get("_commit")
    newest, unreachable = newest_release(recorded, project)
    if unreachable is not None and recorded:
        unreachable = f"{unreachable}; {MOVED_HINT}"
    if unreachable is None and version is not None and not version_at_source(recorded, str(version), project):
        unreachable = (
            f"the project records template version {version}, which {shown} does not have (not pushed there: "
            "git push --tags where it was made; or a deleted tag); if you know the release it came from, run "
            "'scaffold update --from VERSION'"
        )
    plan = make_plan(project)
    return CheckResult(
        path=project,
        template=str(answers.get("template", "")),
        source=shown,
        version=str(version) if version is not None else None,
        newest=newest,
        behind=_behind(version, newest),
        unfilled=tuple(region.key for region in plan.todo),
        stale=_stale(plan.records, config),
        unreachable=unreachable,
        credentials_recorded=shown != recorded,
    )


def newest_release(src: str, project: Path) -> tuple[str | None, str | None]:
    """The highest final (PEP 440) release tag at `src`, as Copier picks it; or why it cannot be read."""
    if not src:
        return None, "the answers file records no _src_path"
    path = Path(src).expanduser()
    if path.name == source.BUNDLE_NAME and source.shipped_bundle().is_file():
        source.ensure_bundle()  # scaffold's own templates: this installation's releases are the newest known
    location = git_location(project, src)
    try:
        out = gitutil.git("ls-remote", "--tags", "--", location, cwd=project, timeout=REMOTE_TIMEOUT)
    except ExternalToolError as error:
        return None, str(error)
    tags = (line.rpartition("refs/tags/")[2].removesuffix("^{}") for line in out.splitlines())
    return source.newest_release_of(tags), None


def version_at_source(src: str, version: str, project: Path) -> bool:
    """Whether the source has `version` (a tag, or a commit of a local repository): Copier merges from it."""
    location = git_location(project, src)
    refs = gitutil.git(
        "ls-remote", "--tags", "--", location, f"refs/tags/{version}", cwd=project, check=False, timeout=REMOTE_TIMEOUT
    )
    # ls-remote matches a pattern against the end of each ref's name: only the tag itself counts
    # (`--from main` named a branch, and Copier then merged from the newest release: nothing).
    if any(line.split("\t")[-1] in (f"refs/tags/{version}", f"refs/tags/{version}^{{}}") for line in refs.splitlines()):
        return True
    if not (Path(location).is_dir() and len(version) >= 7 and all(c in "0123456789abcdef" for c in version)):
        return False
    return gitutil.git("cat-file", "-t", version, cwd=Path(location), check=False).strip() == "commit"


def _behind(version: object, newest: str | None) -> bool:
    from packaging.version import InvalidVersion, Version

    if newest is None or version is None:
        return False
    try:
        return Version(str(version)) < Version(newest)
    except InvalidVersion:
        return str(version) != newest


def _stale(records: Mapping[str, Entry], config: Settings) -> tuple[str, ...]:
    """Filled regions whose context documents changed (or went) since they were filled."""
    from generator.context.home import resolve_home
    from generator.context.sections import document_digest

    folder = resolve_home(config).context_dir
    filled = {key: entry.context for key, entry in records.items() if entry.status == FILLED and entry.context}
    # Each document read once, however many regions it served.
    now = {path: document_digest(folder, path) for path in {path for context in filled.values() for path in context}}
    return tuple(key for key, context in filled.items() if any(now[path] != digest for path, digest in context.items()))


_SKIP = frozenset({".git", ".venv", "venv", "node_modules", "__pycache__", ".terraform", ".tox", ".mypy_cache"})


def find_projects(root: Path) -> list[Path]:
    """Every generated project under `root` (a folder holding the answers file), not looking inside one."""
    from generator.template.render import ANSWERS_FILE

    found: list[Path] = []
    stack = [root]
    while stack:
        folder = stack.pop()
        if (folder / ANSWERS_FILE).is_file():
            found.append(folder)
            continue
        try:
            children = sorted(folder.iterdir(), reverse=True)
        except OSError:
            continue
        stack.extend(
            child for child in children if child.is_dir() and not child.is_symlink() and child.name not in _SKIP
        )
    return sorted(found)

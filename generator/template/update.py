"""Update a generated project to its template's newest version with Copier.

Copier does the three-way merge; scaffold adds the checks around it: the project must
be a clean git work tree, the bundled template history must be in place, and because
Copier exits 0 on conflicts, scaffold lists them itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from generator.errors import (
    DirtyTreeError,
    NotAProjectError,
)
from generator.plumbing import gitutil
from generator.plumbing.transaction import Transaction, signals_held
from generator.results import UpdateResult
from generator.template import source
from generator.template.render import ANSWERS_FILE, copier_errors, read_answers

_CONFLICT_START = "<<<<<<< "


def conflicted_files(project: Path) -> list[str]:
    """Unmerged index entries plus files holding inline conflict markers."""
    unmerged = {
        line.split("\t", 1)[1] for line in gitutil.git("ls-files", "-u", cwd=project).splitlines() if "\t" in line
    }
    changed = gitutil.git("diff", "--name-only", cwd=project).splitlines()
    changed += gitutil.git("ls-files", "--others", "--exclude-standard", cwd=project).splitlines()
    for name in changed:
        file = project / name
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if any(line.startswith(_CONFLICT_START) for line in text.splitlines()):
            unmerged.add(name)
    return sorted(unmerged)


def _check_answers(src: str, template: str, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Check -d/--data-file answers as `new` does, when the template's files can be read locally."""
    if not answers:
        return {}
    from generator import settings
    from generator.template import questionnaire

    path = Path(src).expanduser()
    root = settings.DATA_DIR / "repo" if path.name == source.BUNDLE_NAME else path
    if not (root / "copier.yml").is_file() or not template:
        return dict(answers)
    checked, _ = questionnaire.check_template_answers(source.load_repo_config(root), template, answers)
    return checked


def update(
    project: Path, answers: Mapping[str, Any], defaults: bool, trust: bool, transaction: Transaction
) -> UpdateResult:
    """Run Copier's update in `project` and report the versions and any conflicts.

    The update is the transaction's commit point: an interrupt before it lands puts the last
    commit back; after it, the merged tree is the user's to review.
    """
    project = project.resolve()
    if not project.is_dir():
        raise NotAProjectError(f"{project} is not a folder; pass the path of a generated project")
    before = read_answers(project)
    top = gitutil.enclosing_repo(project)
    if top is None:
        raise NotAProjectError(
            f"{project} is not inside a git repository; Copier needs one to update: "
            "run 'git init && git add -A && git commit -m init' first"
        )
    dirty = gitutil.is_dirty(project)
    if dirty:
        shown = ", ".join(dirty[:5]) + (" ..." if len(dirty) > 5 else "")
        raise DirtyTreeError(
            f"{project} has uncommitted changes ({shown}); commit or stash them first, so the update can be reviewed "
            "and undone"
        )
    src = str(before.get("_src_path") or "")
    if not src:
        raise NotAProjectError(f"{project / ANSWERS_FILE} records no _src_path, so Copier cannot find the template")
    if src.startswith("~/") and src.endswith(source.BUNDLE_NAME) and source.shipped_bundle().is_file():
        source.ensure_bundle()
    checked = _check_answers(src, str(before.get("template", "")), answers)

    from copier import run_update

    try:
        with copier_errors(src):
            run_update(
                project,
                data=checked,
                defaults=defaults,
                overwrite=True,
                unsafe=trust,
                quiet=True,
                skip_answered=defaults,
            )
        after = read_answers(project)
        result = UpdateResult(
            path=project,
            old_version=before.get("_commit"),
            new_version=after.get("_commit"),
            conflicts=conflicted_files(project),
        )
        with transaction.commit("update.merged", project=project):
            transaction.landed(result)
        return result
    except BaseException:
        if transaction.done is not None:
            raise  # the update landed: an interrupt now must not undo it
        # The tree was clean before Copier touched it, so its last commit is exactly what the user had.
        # Held: a second Ctrl-C must not stop the restore half-way.
        with signals_held():
            gitutil.git("reset", "-q", "--hard", "HEAD", cwd=project, check=False)
            gitutil.git("clean", "-q", "-fd", "--", ".", cwd=project, check=False)
        raise

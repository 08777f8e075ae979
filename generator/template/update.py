"""Update a generated project to its template's newest version with Copier.

Copier does the three-way merge; scaffold adds the checks around it: the project must
be a clean git work tree, `template` and `project_name` never change, only questions new
in the target version (or whose stored answer it rejects) are asked, the recorded version
must exist at the source, the bundled template history must be in place, and because
Copier exits 0 on conflicts, scaffold lists them itself.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from generator.errors import (
    AnswerError,
    DirtyTreeError,
    ExternalToolError,
    NotAProjectError,
    TemplateSourceError,
    UsageError,
)
from generator.plumbing import gitutil
from generator.plumbing.transaction import Transaction, signals_held
from generator.results import UpdateResult
from generator.template import source
from generator.template.render import ANSWERS_FILE, copier_errors, git_location, read_answers, set_answer

if TYPE_CHECKING:
    from generator.template.questionnaire import Asker
    from generator.template.source import RepoConfig

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


@dataclass(frozen=True)
class UpdateRequest:
    """What `update` is asked: new answers, how to ask, and repairs to the recorded source and version."""

    answers: Mapping[str, Any] = field(default_factory=dict)
    defaults: bool = True
    trust: bool = False
    # Asks the questions that are new in the target version (or whose stored answer it rejects); all of
    # them with `reask`. None: nobody is asked, and those take their defaults.
    asker: Asker | None = None
    reask: bool = False
    # Repoint the project at another copy of its template source (a moved or cloned home).
    source: str | None = None
    # The version the project really came from, when the recorded one is missing at the source.
    from_version: str | None = None


def _first_template(project: Path) -> str | None:
    """The template the answers file named when it was first committed (the project's birth)."""
    prefix = gitutil.git("rev-parse", "--show-prefix", cwd=project).strip()
    added = gitutil.git("log", "--diff-filter=A", "--format=%H", "--", ANSWERS_FILE, cwd=project, check=False).split()
    if not added:
        return None
    text = gitutil.git("show", f"{added[-1]}:{prefix}{ANSWERS_FILE}", cwd=project, check=False)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    return str(data["template"]) if isinstance(data, dict) and data.get("template") else None


def _check_pinned(project: Path, before: Mapping[str, Any], answers: Mapping[str, Any]) -> dict[str, Any]:
    """`template` and `project_name` never change in an update: refuse answers or edits that would."""
    template = str(before.get("template") or "")
    born = _first_template(project)
    if born and template != born:
        raise AnswerError(
            f"{project / ANSWERS_FILE} says template {template!r}, but the project was generated from {born!r}; "
            f"an update cannot turn one into the other: restore the line 'template: {born}' and commit"
        )
    pinned = {key: before[key] for key in ("template", "project_name") if before.get(key) is not None}
    for key, value in pinned.items():
        if key in answers and answers[key] != value:
            raise AnswerError(f"{key} cannot change in an update (it is {value!r}); generate a new project instead")
    return pinned


@contextlib.contextmanager
def _target_config(src: str, project: Path) -> Iterator[RepoConfig | None]:
    """The newest release's copier.yml at `src` (what Copier will update to), readable inside the block;
    None when it cannot be read (Copier then asks nothing new and takes defaults)."""
    from generator.template.check import newest_release

    newest, _ = newest_release(src, project)
    location = git_location(project, src)
    with tempfile.TemporaryDirectory(prefix="scaffold-target-") as tmp:
        branch = ["--branch", newest] if newest else []
        clone = subprocess.run(
            ["git", "clone", "-q", "--depth", "1", *branch, "--", location, tmp],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
            check=False,
        )
        readable = clone.returncode == 0 and (Path(tmp) / "copier.yml").is_file()
        yield source.load_repo_config(Path(tmp)) if readable else None


def _answers_for(
    config: RepoConfig | None, before: Mapping[str, Any], pinned: Mapping[str, Any], request: UpdateRequest
) -> tuple[dict[str, Any], list[str]]:
    """The answers to hand Copier, and the questions asked: given ones checked, new or now-invalid ones asked."""
    from generator.template import questionnaire

    given = {**request.answers, **pinned}
    if config is None:
        return given, []
    template = str(pinned.get("template") or "")
    checked, questions = questionnaire.check_template_answers(config, template, given)
    stored = {key: value for key, value in before.items() if not key.startswith("_") and key in questions}
    valid: dict[str, Any] = {}
    for name, value in stored.items():
        try:
            cast = questionnaire.check_answers({name: value}, {name: questions[name]}, template)[name]
        except AnswerError:
            continue
        if not config.rejection(questions[name], {**stored, **checked, name: cast}):
            valid[name] = cast
    if request.asker is not None and not request.defaults:
        kept = {} if request.reask else valid
        asked_before = {**kept, **checked}
        answers = questionnaire.ask_questions(
            config, template, asked_before, request.asker, defaults={**stored, **checked}
        )
        return answers, [name for name in answers if name not in asked_before]
    # Nobody to ask: a stored answer the new version rejects gives way to the new default.
    defaults = config.default_answers(template, {**valid, **checked})
    replaced = {name: defaults[name] for name in stored if name not in valid and name in defaults}
    return {**checked, **replaced}, []


def update(project: Path, request: UpdateRequest, transaction: Transaction) -> UpdateResult:
    """Run Copier's update in `project` and report the versions, the files changed and any conflicts.

    The update is the transaction's commit point: an interrupt before it lands puts the last
    commit back; after it, the merged tree is the user's to review.
    """
    project = project.resolve()
    for flag, given in (("--source", request.source), ("--from", request.from_version)):
        if given is not None and not given.strip():  # a variable unset in a script: not "no repair"
            raise UsageError(f"{flag} is empty; give it a value, or leave it out")
    before = read_answers(project)  # first: a path that is no project says so
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
    pinned = _check_pinned(project, before, request.answers)
    src = _new_source(request.source) if request.source else str(before.get("_src_path") or "")
    if not src:
        raise NotAProjectError(f"{project / ANSWERS_FILE} records no _src_path, so Copier cannot find the template")
    if Path(src).name == source.BUNDLE_NAME and source.shipped_bundle().is_file():
        # scaffold's own templates: this installation's bundle goes in place first (a machine where scaffold
        # never ran has none; an older one lacks this release), so the update can reach this release.
        source.ensure_bundle()
    # Checked before a repair is recorded: a mistyped --source or --from must not be committed.
    _check_recorded_version(src, request.from_version or before.get("_commit"), project, request)
    with _target_config(src, project) as target:
        if request.source:
            _check_new_source(target, src, str(before.get("template") or ""))
        # Asked before a repair is recorded: an answer refused, or Ctrl-C at a question, leaves nothing.
        # (A repair changes only `_src_path` and `_commit`, which the questions do not read.)
        data, asked = _answers_for(target, before, pinned, request)

    from copier import run_update

    repair: str | None = None
    try:
        if request.source or request.from_version:
            with signals_held():  # the commit and what undoes it known together: Ctrl-C lands after
                before, repair = _repoint(project, before, request, src)
        with copier_errors(src):
            run_update(
                project,
                data=data,
                # scaffold asked what had to be asked: Copier keeps every other stored answer.
                defaults=True,
                overwrite=True,
                unsafe=request.trust,
                quiet=True,
                skip_answered=True,
            )
        after = read_answers(project)
        result = UpdateResult(
            path=project,
            old_version=before.get("_commit"),
            new_version=after.get("_commit"),
            conflicts=conflicted_files(project),
            changed=gitutil.is_dirty(project),
            asked=asked,
        )
        with transaction.commit("update.merged", project=project):
            transaction.landed(result)
        return result
    except BaseException:
        if transaction.done is not None:
            raise  # the update landed: an interrupt now must not undo it
        # The project was clean before Copier touched it, so its last commit is exactly what the user had.
        # Held: a second Ctrl-C must not stop the restore half-way.
        # Only the project's own paths: in a larger repository, work outside the project is the user's.
        with signals_held():
            gitutil.git("reset", "-q", "--", ".", cwd=project, check=False)
            gitutil.git("checkout", "-q", "--", ".", cwd=project, check=False)
            gitutil.git("clean", "-q", "-fd", "--", ".", cwd=project, check=False)
            if repair is not None:
                _undo_repoint(project, repair)
        raise


def _check_recorded_version(src: str, version: object, project: Path, request: UpdateRequest) -> None:
    """Copier three-way merges from the version the project came from: it must exist at the source.
    A source that cannot be read says so, rather than send the user to `--from` for a version it has.

    A source or version given on the command line is the user's input (exit 2); the recorded source
    out of reach is the machine's or the network's, as `check` reports it (exit 5)."""
    from generator.template.check import MOVED_HINT, newest_release, version_at_source

    if version is not None and version_at_source(src, str(version), project):
        return
    if version is None and not request.source:
        return  # nothing to merge from: Copier renders the newest as it is (a recorded source fails there)
    shown = gitutil.without_credentials(src)
    _, unreachable = newest_release(src, project)
    if version is None and unreachable is None:
        return
    if unreachable is not None and request.source:
        raise TemplateSourceError(f"cannot read --source {shown}: {unreachable}; nothing was recorded")
    if unreachable is not None:
        raise ExternalToolError(f"cannot read the template source {shown}: {unreachable}; {MOVED_HINT}")
    if request.from_version:
        raise TemplateSourceError(
            f"--from {version}: {shown} has no such release (see its tags: git ls-remote --tags {shown}); "
            "nothing was recorded"
        )
    raise TemplateSourceError(
        f"the project records template version {version}, which {shown} does not have (a tag not pushed "
        "there: git push --tags where it was made; a build from a modified checkout; a deleted tag); if you "
        "know the release it really came from, run 'scaffold update --from VERSION'"
    )


def _check_new_source(target: RepoConfig | None, src: str, template: str) -> None:
    """A `--source` must be a template repository holding the project's template: another repository
    with a tag of the same name was recorded, and Copier then "re-applied" nothing from it."""
    shown = gitutil.without_credentials(src)
    if target is None:
        raise TemplateSourceError(
            f"--source {shown} is no template repository (no copier.yml at its newest release); nothing was recorded"
        )
    names = [info.name for info in target.templates]
    if template and template not in names:
        has = ", ".join(names) or "none"
        raise TemplateSourceError(
            f"--source {shown} has no template {template!r} (it has: {has}); nothing was recorded"
        )


def _undo_repoint(project: Path, repair: str) -> None:
    """Take back the commit `_repoint` made (`repair`), if the update it was for did not land and it is
    still the last commit (nothing made since is taken with it): the branch one back, and the answers
    file as it was there (that commit touched nothing else)."""
    if gitutil.git("rev-parse", "HEAD", cwd=project, check=False).strip() != repair:
        return
    gitutil.git("reset", "-q", "--soft", "HEAD~1", cwd=project, check=False)
    gitutil.git("checkout", "-q", "HEAD", "--", ANSWERS_FILE, cwd=project, check=False)


def _new_source(given: str) -> str:
    """`--source` as the answers file will record it (Copier fetches what the file says)."""
    if gitutil.has_credentials(given):
        # Recorded without them, the source could not be fetched with them: Copier reads it from the file.
        raise UsageError(
            f"--source {gitutil.without_credentials(given)} has a token or password in the URL; "
            f"scaffold records URLs without them, and Copier fetches what {ANSWERS_FILE} records: give them "
            "to git (a credential helper) and pass the URL without them"
        )
    return source.portable_source(given, follow_remote=False)


def _repoint(
    project: Path, before: Mapping[str, Any], request: UpdateRequest, src: str
) -> tuple[dict[str, Any], str | None]:
    """Record a new source (`src`, from `_new_source`) and/or the true starting version in the answers
    file, as a commit of its own (none when the file records them already: the same repair run twice
    must not fail). The answers now, and that commit (None if none was made)."""
    changes: list[str] = []
    if request.source and str(before.get("_src_path") or "") != src:
        set_answer(project, "_src_path", src)
        changes.append(f"source {src}")
    if request.from_version and str(before.get("_commit") or "") != request.from_version:
        set_answer(project, "_commit", request.from_version)
        changes.append(f"version {request.from_version}")
    made = None
    if changes:
        message = f"Record the template's {' and '.join(changes)} (scaffold update)"
        gitutil.commit_paths(project, [ANSWERS_FILE], message)
        made = gitutil.git("rev-parse", "HEAD", cwd=project).strip()
    return read_answers(project), made

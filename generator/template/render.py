"""Render a template with Copier into a staging folder, commit it, and move it into place.

The staging folder sits beside the destination (same filesystem, so the final move is
a rename): a failure or Ctrl-C before the move leaves the destination as it was. The move
itself runs with signals held, so an interrupt never lands half-way through a --force merge.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from generator.errors import (
    AnswerError,
    DestinationError,
    ExternalToolError,
    NotAProjectError,
    TemplateSourceError,
    UsageError,
    describe_yaml_error,
)
from generator.plumbing import gitutil
from generator.plumbing.atomic import folder_lock
from generator.plumbing.transaction import Transaction, checkpoint, signals_held
from generator.results import GitSkip, Rendered
from generator.template.source import TemplateSource, git_url, is_remote

ANSWERS_FILE = ".copier-answers.yml"


@dataclass(frozen=True)
class RenderRequest:
    """Everything `generate` needs (`generator.pipeline.new_project` builds it)."""

    source: TemplateSource
    template: str
    dest: Path
    answers: Mapping[str, Any]
    defaults: bool
    force: bool = False
    git: bool = True
    trust: bool = False


def check_destination(dest: Path, force: bool) -> None:
    """Refuse destinations we could damage; never deletes anything. `dest` is absolute and resolved."""
    if dest.name in {"", ".", ".."} or dest == dest.parent:
        raise DestinationError(f"{dest} cannot be a project folder; give a --dest with a folder name")
    if dest.exists() and not dest.is_dir():
        raise DestinationError(f"{dest} exists and is not a folder; choose another --dest")
    if dest.is_dir() and any(dest.iterdir()) and not force:
        raise DestinationError(
            f"{dest} already exists and is not empty; choose another name or --dest, or pass --force to "
            "render into it (files with the same names are overwritten, other files are kept)"
        )
    parent = dest.parent
    while not parent.exists():
        parent = parent.parent
    if not os.access(parent, os.W_OK | os.X_OK):
        raise DestinationError(f"cannot write to {parent}; choose a --dest you can write to")


@dataclass
class _Stage:
    path: Path
    # Set, with signals held, in the same step as the move: from then on the project is the user's.
    landed: bool = False


@contextmanager
def _staging(dest: Path) -> Iterator[_Stage]:
    created = dest.parent
    while not created.parent.exists():
        created = created.parent
    made_parents = not created.exists()
    stage: _Stage | None = None
    try:
        # Held: an interrupt between mkdtemp and the assignment would leave a staging folder nobody removes;
        # one that arrives meanwhile is raised as the block ends, inside the try, and cleans up below.
        with signals_held():
            try:
                dest.parent.mkdir(parents=True, exist_ok=True)
                stage = _Stage(Path(tempfile.mkdtemp(prefix=f".{dest.name}.scaffold-", dir=dest.parent)))
            except OSError as error:
                raise DestinationError(
                    f"cannot create {dest}: {error.strerror or error}; choose a --dest in a folder you can write to"
                ) from None
        yield _staged(stage)
    finally:
        # Held: a second Ctrl-C must not leave half a staging folder behind.
        with signals_held():
            if stage is not None:
                _remove(stage.path)
            if made_parents and (stage is None or not stage.landed):
                shutil.rmtree(created, ignore_errors=True)


def _staged(stage: _Stage | None) -> _Stage:
    assert stage is not None  # made in the held block above, or it raised
    return stage


def _remove(folder: Path) -> None:
    """Remove the staging folder, even while a child that was interrupted with us (git) still writes in it."""
    for _ in range(50):
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            return
        time.sleep(0.1)


_ANSWER_ERRORS = ("Validation error for question", "Invalid choice for", "invalid literal for")


_TEMPDIR_LOCK = threading.RLock()


@contextmanager
def _private_tempdir() -> Iterator[None]:
    """Copier's own temporary folders (template clones, update worktrees) go in one folder of scaffold's,
    removed however the block ends: an interrupted update would otherwise leave `copier._vcs.clone.*`
    folders in the system's temp folder."""
    # tempfile.tempdir is the process's: library callers on several threads take turns (re-entrant, since a
    # fill's fallback render may run inside another Copier block).
    with _TEMPDIR_LOCK:
        previous = tempfile.tempdir
        folder: str | None = None
        try:
            with signals_held():  # as in _staging: no interrupt between mkdtemp and the try that removes it
                folder = tempfile.mkdtemp(prefix="scaffold-copier-")
                tempfile.tempdir = folder
            yield
        finally:
            tempfile.tempdir = previous
            with signals_held():
                if folder is not None:
                    shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def copier_errors(template_source: str) -> Iterator[None]:
    """Turn Copier's exceptions into scaffold's, each one line naming what to fix, and no credentials
    of the source's URL in it (Copier's and git's own words may quote it)."""
    clean = gitutil.without_credentials
    template_source = clean(template_source)
    from copier.errors import CopierAnswersInterrupt, CopierError, UnsafeTemplateError
    from jinja2 import TemplateError
    from plumbum import CommandNotFound, ProcessExecutionError

    try:
        with warnings.catch_warnings(), _private_tempdir():
            # Copier warns about dirty local templates and old versions; scaffold's own output says what matters.
            warnings.simplefilter("ignore")
            yield
    except CopierAnswersInterrupt:
        raise KeyboardInterrupt from None
    except UnsafeTemplateError as error:
        raise UsageError(
            f"the template at {template_source} runs tasks, migrations or extensions ({clean(str(error))}); "
            "review it and pass --trust to allow them"
        ) from None
    except ValueError as error:
        message = clean(str(error))
        if message.startswith(_ANSWER_ERRORS):
            raise AnswerError(message.replace("Validation error for question", "invalid answer for")) from None
        raise TemplateSourceError(f"cannot use the template source {template_source}: {message}") from None
    except TemplateError as error:
        name, line = getattr(error, "name", None), getattr(error, "lineno", None)
        where = f" ({name}:{line})" if name else ""
        raise TemplateSourceError(f"the template failed to render{where}: {error}; fix the template") from None
    except CopierError as error:
        problem = clean(str(error))
        raise TemplateSourceError(f"Copier cannot use the template source {template_source}: {problem}") from None
    except CommandNotFound:
        gitutil.require_git()  # says which: missing, or too old
        raise ExternalToolError("git could not be run; check that the git on PATH works") from None
    except ProcessExecutionError as error:
        cause = gitutil.error_cause(str(error.stderr))
        if isinstance(error.retcode, int) and error.retcode < 0:
            # Killed by a signal (out of memory, a watchdog): the machine's trouble, not the source's.
            raise ExternalToolError(
                f"git was killed by signal {-error.retcode} while reading {template_source}; run it again"
            ) from None
        raise TemplateSourceError(
            f"cannot fetch the template source {template_source}: {cause or clean(str(error))}"
        ) from None
    # After ProcessExecutionError, which is an OSError too.
    except OSError as error:
        where = f" {error.filename}" if error.filename else ""
        raise ExternalToolError(f"cannot read or write{where}: {error.strerror or error}") from None


def _run_copier(request: RenderRequest, target: Path) -> None:
    from copier import run_copy

    with copier_errors(request.source.url):
        run_copy(
            request.source.url,
            target,
            data={"template": request.template, **request.answers},
            defaults=request.defaults,
            unsafe=request.trust,
            quiet=True,
            overwrite=True,
            # A checkout renders its working tree, not its newest tag.
            vcs_ref="HEAD" if request.source.origin == "checkout" else None,
        )


def _check_merge(rendered: Path, dest: Path) -> None:
    """Before --force moves anything: no writing through links, no file/folder clashes."""
    for src in sorted(rendered.rglob("*")):
        rel = src.relative_to(rendered)
        target = dest / rel
        if target.is_symlink():
            raise DestinationError(f"{target} is a symbolic link; scaffold never writes through links: remove it first")
        if target.exists() and src.is_dir() != target.is_dir():
            kind = "a folder" if target.is_dir() else "a file"
            raise DestinationError(f"{target} is {kind} where the template has the opposite; move it away first")
        # Every folder a file lands in must take it: a merge that stops half-way cannot be undone.
        if target.parent.is_dir() and not os.access(target.parent, os.W_OK | os.X_OK):
            raise DestinationError(f"cannot write into {target.parent}; make it writable, then run again")


def _move_into_place(rendered: Path, dest: Path, force: bool) -> None:
    """Put the render at `dest`: one rename, which the OS refuses when something is there by now."""
    try:
        # rename(2) replaces an empty folder and fails on a non-empty one, atomically: a destination that
        # filled up while Copier rendered (a user's file, another scaffold run) is never merged into.
        rendered.rename(dest)
        return
    except OSError as error:
        occupied = error.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR)
        if not occupied:
            raise ExternalToolError(f"cannot move the project into {dest}: {error.strerror or error}") from None
        if not force or not dest.is_dir():
            raise DestinationError(
                f"{dest} appeared (or filled up) while the project was rendered, and nothing was written into "
                "it; run again with another name or --dest, or pass --force to render into it"
            ) from None
    _check_merge(rendered, dest)
    for src in sorted(rendered.rglob("*")):
        target = dest / src.relative_to(rendered)
        try:
            if src.is_dir() and not src.is_symlink():
                target.mkdir(exist_ok=True)
            else:
                src.replace(target)
        except OSError as error:
            raise ExternalToolError(
                f"the --force merge into {dest} stopped at {target}: {error.strerror or error}; the files moved "
                "so far are in place ('git status' there shows them)"
            ) from None


def generate(request: RenderRequest, transaction: Transaction) -> Rendered:
    """Render, optionally `git init` + commit, then move the project to `request.dest`.

    An interrupt before the move leaves nothing; the move is the transaction's commit point,
    after which the project is the user's (and `transaction.done` says so).
    """
    dest = request.dest
    check_destination(dest, request.force)
    with _staging(dest) as stage:
        rendered = stage.path / dest.name
        _run_copier(request, rendered)
        if not rendered.is_dir():
            raise ExternalToolError(f"Copier rendered nothing for template {request.template!r}")
        if not (rendered / ANSWERS_FILE).is_file():
            raise TemplateSourceError(
                f"the {request.template} template writes no {ANSWERS_FILE}, which 'scaffold update', "
                "'copier update' and 'scaffold fill' need; add "
                f"templates/{request.template}/{{{{_copier_conf.answers_file}}}}.jinja to the template"
            )
        version = read_answers(rendered).get("_commit") or request.source.version
        # What Copier rendered (a home's newest tag, whatever commits follow it) must be where the project
        # points: teammates, CI and plain `copier update` fetch it there, where this path does not exist.
        recorded = request.source.recorded(str(version) if version else None)
        if recorded.source != request.source.url:
            set_answer(rendered, "_src_path", recorded.source)
        skipped, repo = _git_skip(request, dest)
        commit = None
        if skipped is None:
            gitutil.git("init", "-q", "-b", "main", cwd=rendered)
            checkpoint("render.commit", path=rendered)
            message = f"Render the {request.template} template ({version or 'unversioned'}) with scaffold"
            commit = gitutil.commit_all(rendered, message)
        files = sum(1 for p in rendered.rglob("*") if p.is_file() and ".git" not in p.relative_to(rendered).parts)
        result = Rendered(
            dest,
            request.template,
            version,
            files,
            commit,
            git_skipped=skipped,
            enclosing_repo=repo,
            credentials_left_out=recorded.credentials_left_out,
            remote_passed_over=recorded.passed_over,
        )
        # One scaffold at a time moves a project into the folder: two --force merges must not interleave.
        with folder_lock(dest.parent), transaction.commit("render.move", dest=dest):
            _move_into_place(rendered, dest, request.force)
            stage.landed = True
            transaction.landed(result)
    checkpoint("render.moved", dest=dest)
    return result


def _git_skip(request: RenderRequest, dest: Path) -> tuple[GitSkip | None, Path | None]:
    """Why the render gets no commit of its own, if it does not."""
    if not request.git:
        return "no-git", None
    if (repo := gitutil.enclosing_repo(dest)) is not None:
        return "inside-repo", repo
    if not gitutil.git_available():
        return "git-missing", None
    return None, None


def read_answers(project: Path) -> dict[str, Any]:
    path = project / ANSWERS_FILE
    try:
        if not project.exists():
            raise NotAProjectError(f"{project} does not exist; give the folder of a generated project")
        if not project.is_dir():
            raise NotAProjectError(f"{project} is not a folder; give the folder of a generated project")
    except OSError as error:  # a name too long for the system
        raise NotAProjectError(f"cannot read {project}: {error.strerror or error}") from None
    if not path.is_file():
        raise NotAProjectError(
            f"{project} has no {ANSWERS_FILE}, so it was not generated by scaffold or Copier; "
            "run this command inside a generated project"
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise NotAProjectError(f"cannot read {path}: {describe_yaml_error(error)}; restore it from git") from None
    if not isinstance(data, dict):
        raise NotAProjectError(f"{path} is not a mapping of answers; restore it from git")
    for key in ("_src_path", "_commit"):
        value = data.get(key)
        if value is None:
            continue
        text = str(value)
        # Both reach git's command line (ls-remote, clone): a value starting with '-' would be read as an
        # option (`--upload-pack=...` runs a command), also once Copier's `git+` is dropped (`git_url`), and
        # a line break is never part of a path or version.
        if text.startswith("-") or git_url(text).startswith("-") or any(ord(char) < 32 for char in text):
            raise NotAProjectError(
                f"{path} has {key}: {text[:60]!r}, which is not a template source or version; restore it from git"
            )
    return data


def source_location(project: Path, src: str) -> str:
    """Where Copier finds `_src_path`: a URL as recorded (Copier reads `git+` and `gh:` itself), `~/...`
    expanded, a relative path from the project."""
    if is_remote(src):
        return src
    path = Path(src).expanduser()
    return str(path if path.is_absolute() else (project / path).resolve())


def git_location(project: Path, src: str) -> str:
    """Where git finds `_src_path` (ls-remote, clone): Copier's forms turned into git's (`git_url`:
    `git+/path`, `gh:owner/repo`), then as `source_location`."""
    return source_location(project, git_url(src))


def set_answer(project: Path, key: str, value: str) -> None:
    """Rewrite one top-level `key:` line of the answers file (atomically), keeping Copier's comments and order."""
    from generator.plumbing.atomic import write_atomic

    path = project / ANSWERS_FILE
    line = f"{key}: {yaml.safe_dump(value).strip().removesuffix(chr(10) + '...')}"
    lines = path.read_text(encoding="utf-8").splitlines()
    for index, current in enumerate(lines):
        if current.startswith(f"{key}:"):
            lines[index] = line
            break
    else:
        lines.append(line)
    write_atomic(path, "\n".join(lines) + "\n")

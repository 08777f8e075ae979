"""Render a template with Copier into a staging folder, commit it, and move it into place.

The staging folder sits beside the destination (same filesystem, so the final move is
a rename): a failure or Ctrl-C at any point leaves the destination as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator import gitutil
from generator.errors import AnswerError, DestinationError, ExternalToolError, TemplateSourceError, UsageError
from generator.source import TemplateSource


@dataclass(frozen=True)
class RenderRequest:
    """Everything `generate` needs; the CLI builds it from flags."""

    source: TemplateSource
    template: str
    dest: Path
    answers: Mapping[str, Any]
    defaults: bool
    force: bool = False
    git: bool = True
    trust: bool = False


@dataclass(frozen=True)
class RenderResult:
    dest: Path
    commit: str | None
    git_skipped_reason: str | None
    files: int


def check_destination(dest: Path, force: bool) -> None:
    """Refuse destinations we could damage; never deletes anything."""
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


@contextmanager
def _staging(dest: Path) -> Iterator[Path]:
    created = dest.parent
    while not created.parent.exists():
        created = created.parent
    made_parents = not created.exists()
    dest.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{dest.name}.scaffold-", dir=dest.parent))
    succeeded = False
    try:
        yield stage
        succeeded = True
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        if made_parents and not succeeded:
            shutil.rmtree(created, ignore_errors=True)


def _run_copier(request: RenderRequest, target: Path) -> None:
    from copier import run_copy
    from copier.errors import CopierError, UnsafeTemplateError
    from jinja2 import TemplateError

    try:
        with warnings.catch_warnings():
            # Copier warns about dirty local templates and old versions; scaffold's own output says what matters.
            warnings.simplefilter("ignore")
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
    except UnsafeTemplateError as error:
        raise UsageError(
            f"template {request.source.url} runs tasks or extensions ({error}); review it and pass --trust to allow"
        ) from None
    except ValueError as error:
        raise AnswerError(str(error).replace("Validation error for question", "invalid answer for")) from None
    except TemplateError as error:
        name, line = getattr(error, "name", None), getattr(error, "lineno", None)
        where = f" ({name}:{line})" if name else ""
        raise TemplateSourceError(
            f"the {request.template} template failed to render{where}: {error}; fix the template"
        ) from None
    except CopierError as error:
        raise TemplateSourceError(f"Copier cannot render from {request.source.url}: {error}") from None
    except Exception as error:
        if type(error).__name__ == "ProcessExecutionError":
            lines = [line for line in str(getattr(error, "stderr", "")).splitlines() if line.strip()]
            raise TemplateSourceError(
                f"cannot fetch templates from {request.source.url}: {lines[-1] if lines else error}"
            ) from None
        raise


def _move_into_place(rendered: Path, dest: Path) -> None:
    if not dest.exists():
        rendered.rename(dest)
        return
    if not any(dest.iterdir()):
        dest.rmdir()
        rendered.rename(dest)
        return
    for src in sorted(rendered.rglob("*")):
        target = dest / src.relative_to(rendered)
        if src.is_dir() and not src.is_symlink():
            target.mkdir(exist_ok=True)
        else:
            src.replace(target)


def generate(request: RenderRequest) -> RenderResult:
    """Render, optionally `git init` + commit, then move the project to `request.dest`."""
    dest = request.dest
    check_destination(dest, request.force)
    with _staging(dest) as stage:
        rendered = stage / dest.name
        _run_copier(request, rendered)
        if not rendered.is_dir():
            raise ExternalToolError(f"Copier rendered nothing for template {request.template!r}")
        commit, skipped = None, None
        if not request.git:
            skipped = "--no-git"
        elif (repo := gitutil.enclosing_repo(dest)) is not None:
            skipped = f"{dest} is inside the git repository {repo}"
        elif not gitutil.git_available():
            skipped = "git is not installed"
        if skipped is None:
            gitutil.git("init", "-q", "-b", "main", cwd=rendered)
            version = request.source.version or "unversioned"
            commit = gitutil.commit_all(rendered, f"Render the {request.template} template ({version}) with scaffold")
        files = sum(1 for p in rendered.rglob("*") if p.is_file() and ".git" not in p.relative_to(rendered).parts)
        _move_into_place(rendered, dest)
    return RenderResult(dest=dest, commit=commit, git_skipped_reason=skipped, files=files)

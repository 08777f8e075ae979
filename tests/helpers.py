"""Shared test helpers: run commands, render templates with real Copier, build file trees."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
# The regions of a service rendered with the defaults: domain, routes, resources, settings (two), their
# tests (two), AGENTS.md's notes and pyproject.toml's dependencies.
SERVICE_REGIONS = 9
# Every template renders these for AI assistants (tests/test_assistant_files.py checks what they say),
# and AGENTS.md holds one fill region of its own.
ASSISTANT_FILES = frozenset({"AGENTS.md", "CLAUDE.md", ".mcp.json"})
AGENTS_REGION = "AGENTS.md#notes"
# The Python templates' pyproject.toml: the third-party packages a fill needs (empty fallback).
DEPENDENCIES_REGION = "pyproject.toml#dependencies"


def run(
    cmd: Sequence[str | os.PathLike[str]],
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    timeout: float = 900,
) -> subprocess.CompletedProcess[str]:
    """Run a command, capture text output, and fail with both streams shown."""
    result = subprocess.run(
        [str(part) for part in cmd],
        cwd=cwd,
        env=dict(env) if env is not None else None,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, cmd))} exited {result.returncode}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        )
    return result


def default_sigint() -> None:
    """For a child that must feel Ctrl-C: a test run started with SIGINT ignored (a background job)
    passes that on, and Python installs its KeyboardInterrupt handler only when SIGINT is not ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def scaffold_interrupted(
    args: Sequence[str], cwd: Path, delay: float, signum: int, when: Callable[[], object] | None = None
) -> tuple[int, str]:
    """Run `scaffold ARGS`, send it `signum` once `when()` holds (polled; it may hold only briefly) or,
    without `when`, after `delay` seconds; return its exit code and stderr. With `when`, a run that ends
    before the condition was seen is returned as it ended, unsignalled."""
    process = subprocess.Popen(
        [sys.executable, "-m", "generator", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
        preexec_fn=default_sigint,
    )
    if when is None:
        time.sleep(delay)
    else:
        deadline = time.monotonic() + 120
        while process.poll() is None and not when() and time.monotonic() < deadline:
            time.sleep(0.005)
    if process.poll() is None:
        process.send_signal(signum)
    _, err = process.communicate(timeout=120)
    return process.returncode, err


def wait_until(condition: Callable[[], object], what: str, timeout: float = 30) -> None:
    """Poll `condition` until it is true; fail naming `what` after `timeout` seconds.

    The deadline only bounds a failure: a passing test waits exactly as long as the condition takes,
    so it is generous, for a loaded machine. An OSError (a server not listening yet) counts as false.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            if condition():
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:g} s waiting for {what}")
        time.sleep(0.05)


def cpu_seconds() -> float:
    """CPU seconds this process has used so far (not its children's: one an earlier test started, reaped
    meanwhile, would count its whole life). Bounds on how long a piece of work may take (linear, not
    quadratic) are taken in CPU time: wall-clock bounds failed when other processes loaded the machine,
    and a quadratic blowup still costs the CPU what it did."""
    return time.process_time()


def terminate_self() -> None:
    """SIGTERM to this process, as `kill` would send it. `main` turns it into KeyboardInterrupt as soon as
    the signal is not held, so whatever code runs right after this shows whether it was."""
    os.kill(os.getpid(), signal.SIGTERM)


@contextlib.contextmanager
def sigterm_at(point: str, call: int = 1) -> Iterator[None]:
    """SIGTERM to this process when scaffold passes checkpoint `point` for the `call`-th time
    (the transaction's public fault hook; see generator.plumbing.transaction.fault_hook)."""
    from generator.plumbing.transaction import fault_hook

    calls = 0

    def hook(name: str, details: Mapping[str, object]) -> None:
        nonlocal calls
        if name == point:
            calls += 1
            if calls == call:
                terminate_self()

    with fault_hook(hook):
        yield


def build_file_tree(root: Path, spec: Mapping[str, str | bytes]) -> None:
    """Write `path -> content` (text is dedented) under root."""
    for rel, content in spec.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content), encoding="utf-8")


def render_template(template: str, dest: Path, data: Mapping[str, Any] | None = None) -> Path:
    """Render one of this repository's templates with real Copier and `--defaults`."""
    from copier import run_copy

    answers: dict[str, Any] = {"template": template, "project_name": dest.name}
    answers.update(data or {})
    run_copy(
        str(REPO_ROOT),
        dest,
        data=answers,
        defaults=True,
        quiet=True,
        vcs_ref="HEAD",
    )
    return dest


def isolate(patch: Any, home: Path) -> None:
    """Give a test a fresh HOME, no XDG overrides, no scaffold/Anthropic variables but SCAFFOLD_RERANK=0
    (below), no git identity."""
    patch.setenv("HOME", str(home))
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "COPIER_TEMPLATE"):
        patch.delenv(var, raising=False)
    for var in list(os.environ):
        if var.startswith(("SCAFFOLD_", "ANTHROPIC_", "GIT_")):
            patch.delenv(var, raising=False)
    patch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    patch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    # The fill step re-ranks its context by default: one call before the fill's. The fill tests script
    # the model's answers call by call, so the re-rank is off here and tested on its own, with the
    # setting unset (tests/test_context_rerank.py).
    patch.setenv("SCAFFOLD_RERANK", "0")


def venv_bin(venv: Path, name: str) -> Path:
    folder = "Scripts" if sys.platform == "win32" else "bin"
    return venv / folder / name


def tree_snapshot(root: Path) -> dict[str, bytes]:
    """Every file under root with its bytes, to prove a failing command wrote nothing."""
    if not root.exists():
        return {}
    return {
        p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else b"<dir>") for p in sorted(root.rglob("*"))
    }


# Commits a test makes itself, on machines with no git identity.
GIT_IDENTITY = ["-c", "user.name=t", "-c", "user.email=t@t"]
# A template file with one region, for template repositories made by init_template_repo.
GREET_TEMPLATE = """\
    {% from "includes/regions.jinja" import region %}
    def greet() -> str:
    {% call region("greet", "Return the greeting", indent="    ") %}
        return "{{ greeting }}"
    {% endcall %}
    """


def release_template(repo: Path, files: Mapping[str, str], tag: str) -> None:
    """Commit `files` to a template repository made by init_template_repo and tag the commit."""
    build_file_tree(repo, files)
    run(["git", *GIT_IDENTITY, "add", "-A"], cwd=repo)
    run(["git", *GIT_IDENTITY, "commit", "-q", "-m", f"release {tag}"], cwd=repo)
    run(["git", "tag", tag], cwd=repo)


def init_template_repo(root: Path, spec: Mapping[str, str | bytes], tag: str | None = "1.0.0") -> Path:
    """A minimal template repository in scaffold's layout, committed (and tagged) with git."""
    base: dict[str, str | bytes] = {
        "copier.yml": """\
            _subdirectory: "templates/{{ template }}"
            template:
              type: str
              choices:
                "mini - a minimal template": mini
            project_name:
              type: str
            description:
              type: str
              default: a project
            ---
            !include templates/*/questions.yml
            """,
        "templates/mini/questions.yml": """\
            greeting:
              type: str
              default: hello
              when: "{{ template == 'mini' }}"
            """,
        "templates/mini/{{_copier_conf.answers_file}}.jinja": "{{ _copier_answers|to_nice_yaml -}}\n",
        "templates/mini/README.md.jinja": "# {{ project_name }}\n\n{{ greeting }}\n",
    }
    base.update(spec)
    build_file_tree(root, base)
    run(["git", "init", "-q", "-b", "main"], cwd=root)
    run(["git", *GIT_IDENTITY, "add", "-A"], cwd=root)
    run(["git", *GIT_IDENTITY, "commit", "-q", "-m", "template"], cwd=root)
    if tag:
        run(["git", "tag", tag], cwd=root)
    return root


def ci_checks(project: Path) -> str:
    """What the project's CI runs: its workflow runs `make check`, so the commands `make -n check` would run."""
    import yaml

    workflow = yaml.safe_load((project / ".github/workflows/ci.yml").read_text(encoding="utf-8"))
    commands = [step["run"] for job in workflow["jobs"].values() for step in job["steps"] if "run" in step]
    assert "make check" in commands, commands
    return run(["make", "-n", "check"], cwd=project).stdout


def markdown_texts(text: str) -> list[str]:
    """The plain text of every paragraph, heading and table cell of a Markdown document, as GitHub renders
    it (CommonMark with tables and strikethrough); inline markup shows as <type>, so text that renders as
    markup never equals plain text."""
    from markdown_it import MarkdownIt

    rendered = []
    for token in MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(text):
        if token.type == "inline":
            parts = [c.content if c.type == "text" else f"<{c.type}>" for c in token.children or []]
            rendered.append("".join(parts))
    return rendered

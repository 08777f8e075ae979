"""Thin helpers around the git command line, safe on machines with no git identity."""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from pathlib import Path

from generator.errors import ExternalToolError

FALLBACK_NAME = "scaffold"
FALLBACK_EMAIL = "scaffold@localhost"


# Copier's update needs `git worktree` and sparse features from around 2.27 on.
MIN_GIT = (2, 27)


def git_available() -> bool:
    return shutil.which("git") is not None


@functools.cache
def _git_version() -> tuple[int, ...] | None:
    try:
        out = subprocess.run(["git", "--version"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return None
    match = re.search(r"(\d+)\.(\d+)", out)
    return tuple(int(part) for part in match.groups()) if match else None


def git_version() -> tuple[int, ...] | None:
    """The version of the git on PATH (major, minor), or None when there is none."""
    return _git_version() if git_available() else None


def git_problem() -> tuple[str, str] | None:
    """What is wrong with the git on PATH and how to fix it, or None when it will do (`require_git`, doctor)."""
    wanted = ".".join(map(str, MIN_GIT))
    version = git_version()
    if version is None:
        return (
            f"scaffold needs git {wanted} or newer on PATH, and there is none",
            "install git (e.g. 'apt-get install git', 'brew install git') and run the command again",
        )
    if version < MIN_GIT:
        found = ".".join(map(str, version))
        return f"scaffold needs git {wanted} or newer on PATH, and found git {found}", "upgrade git"
    return None


def require_git() -> None:
    """The one check, and the one message, wherever scaffold needs git: on PATH and recent enough."""
    problem = git_problem()
    if problem is not None:
        raise ExternalToolError(": ".join(problem))


def git(
    *args: str, cwd: Path, check: bool = True, env: dict[str, str] | None = None, timeout: float | None = None
) -> str:
    """Run git and return its stdout; failures (and a `timeout` passed) become ExternalToolError naming the command."""
    require_git()
    merged = {**os.environ, **(env or {})}
    # A user's pager or editor settings must never make scaffold hang waiting on a terminal.
    merged.update({"GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat", "GIT_EDITOR": "true"})
    try:
        result = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=merged,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            check=False,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        if not check:
            return ""
        raise ExternalToolError(f"git {args[0]} did not answer within {timeout:.0f} s in {cwd}") from None
    if check and result.returncode != 0:
        cause = error_cause(result.stderr or result.stdout)
        command = without_credentials(" ".join(args))  # a source's URL may be among them
        raise ExternalToolError(f"git {command} failed in {cwd}: {cause or 'no output'}")
    return result.stdout


def error_cause(output: str) -> str:
    """The line of git's output that says what went wrong ("" for no output), without credentials."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    # git ends many errors with "hint:" lines; the cause is the fatal:/error: line.
    cause = next((line for line in lines if line.startswith(("fatal:", "error:"))), lines[-1] if lines else "")
    return without_credentials(cause)


# A URL's scheme and the user part of its authority, up to its last `@` before the host
# (`https://TOKEN@`, `https://user:p@ss@`, `https://ci:Pa'ss@`: git takes quotes in a password too).
_USER_PART = re.compile(r"\b([a-z][a-z0-9+.-]*://)([^/?#\s]*)@", re.IGNORECASE)
# A user name that is a token (GitHub's and GitLab's prefixes, or long and mixing letters and digits).
_TOKEN_USER = re.compile(r"^(?:gh[pousr]_|github_pat_|glpat-)|^(?=.*[A-Za-z])(?=.*\d)\S{32,}$")


def without_credentials(text: str) -> str:
    """`text` with every URL in it stripped of what lets a reader in: a password, and over http(s) a
    user name that is a token (`https://ghp_...@github.com`). A login stays: `ssh://git@host`,
    `https://org@dev.azure.com/...` (Azure DevOps' own clone URL).

    A source URL is recorded in every project made from it (`_src_path`, committed) and shown in
    messages; git's credential helper, not the URL, is where a token belongs."""

    def kept(match: re.Match[str]) -> str:
        scheme, user = match.group(1), match.group(2)
        login, colon, _ = user.partition(":")
        over_http = scheme.lower().removeprefix("git+") in ("http://", "https://")
        # Over http(s), a token as the user name, or the conventional name a token's password goes with.
        if over_http and (_TOKEN_USER.search(login) or (colon and login.lower() in ("x-access-token", "oauth2"))):
            return scheme
        if not colon:
            return match.group(0)  # a login alone
        return f"{scheme}{login}@" if login else scheme

    return _USER_PART.sub(kept, text)


def has_credentials(url: str) -> bool:
    return without_credentials(url) != url


def identity_env(cwd: Path) -> dict[str, str]:
    """Author/committer variables to use when git has no identity configured for `cwd`."""
    env: dict[str, str] = {}
    if not git("config", "user.name", cwd=cwd, check=False).strip():
        env["GIT_AUTHOR_NAME"] = env["GIT_COMMITTER_NAME"] = FALLBACK_NAME
    if not git("config", "user.email", cwd=cwd, check=False).strip():
        env["GIT_AUTHOR_EMAIL"] = env["GIT_COMMITTER_EMAIL"] = FALLBACK_EMAIL
    return env


def commit_all(cwd: Path, message: str) -> str:
    """Stage everything under `cwd` and commit it; return the new commit's hash."""
    git("add", "-A", cwd=cwd)
    git("commit", "-q", "--no-verify", "--no-gpg-sign", "-m", message, cwd=cwd, env=identity_env(cwd))
    return git("rev-parse", "HEAD", cwd=cwd).strip()


def commit_paths(cwd: Path, paths: list[str], message: str) -> str:
    """Stage just `paths` (relative to `cwd`, even if ignored: the caller chose them) and commit them."""
    git("add", "-f", "--", *paths, cwd=cwd)
    git(
        "commit", "-q", "--no-verify", "--no-gpg-sign", "-m", message, "--", *paths,
        cwd=cwd, env=identity_env(cwd),
    )  # fmt: skip
    return git("rev-parse", "HEAD", cwd=cwd).strip()


def enclosing_repo(path: Path) -> Path | None:
    """The work tree containing `path` (or its nearest existing ancestor), if any."""
    probe = path
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        probe = probe.parent
    if not git_available():
        return None
    top = git("rev-parse", "--show-toplevel", cwd=probe, check=False).strip()
    return Path(top) if top else None


def is_dirty(cwd: Path) -> list[str]:
    """Paths with uncommitted changes (tracked or untracked, ignoring .gitignore'd files)."""
    out = git("status", "--porcelain", "--untracked-files=all", cwd=cwd)
    return [line[3:] for line in out.splitlines() if line.strip()]

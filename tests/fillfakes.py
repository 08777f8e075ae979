"""Answers a fake model gives to fill requests, built from the request itself.

A fill request names the regions it wants in its JSON schema (`required`); these helpers
read the project's regions and answer with bodies that pass the checks (the fallback plus
a tagged comment line) or fail them (a syntax error), so tests can script every rung of
the ladder against the real SDK and `tests/fakeapi.py`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from generator.fill.regions import Region, find_regions
from generator.results import FillOffer, SilentReporter
from tests.fakeapi import Recorded, Reply, Usage
from tests.helpers import run, tree_snapshot

TAG = "filled by the fake model"
KEY = "sk-ant-test-0123456789abcdef-NEVER-WRITTEN"


def requested(request: Recorded) -> list[str]:
    """The region keys a fill request asks for."""
    return list(request.body["output_config"]["format"]["schema"]["required"])


def asked_for(request: Recorded) -> list[str]:
    """The regions a call wants: those a repair call lists, else every region the schema names.

    Repair calls keep the first call's schema (it is part of the cached prompt) and list the
    regions to write again as `<region key="...">` elements.
    """
    listed = re.findall(r'<region key="([^"]+)">', request.body["messages"][0]["content"])
    return listed or requested(request)


def tagged(region: Region, tag: str = TAG) -> str:
    """The fallback body plus one comment line in the file's syntax: valid wherever the fallback is."""
    line = f"<!-- {tag} -->\n" if region.comment == "<!--" else f"{region.indent}{region.comment} {tag}\n"
    body = region.body if region.body.endswith("\n") or not region.body else region.body + "\n"
    return body + line


def broken(region: Region) -> str:
    """A body no checker accepts for code files."""
    if region.language == "python":
        return f"{region.indent}def broken(:\n"
    if region.language == "bash":
        return f"{region.indent}if then fi (\n"
    if region.language == "hcl":
        return 'resource "x" {\n'
    return f"{region.comment} scaffold:end {region.id}\n"


def region_keys(project: Path) -> list[str]:
    return [region.key for region in find_regions(project)]


def answer(project: Path, keys: Iterable[str], make: Callable[[Region], str] = tagged) -> str:
    regions = {region.key: region for region in find_regions(project)}
    return json.dumps({key: make(regions[key]) for key in keys})


def valid_reply(project: Path, usage: Usage | None = None, thinking: str | None = None) -> Callable[[Recorded], Reply]:
    """A responder that fills whatever is asked with valid bodies."""

    def respond(request: Recorded) -> Reply:
        return Reply.message(answer(project, requested(request)), usage=usage, thinking=thinking)

    return respond


def broken_reply(project: Path) -> Callable[[Recorded], Reply]:
    """A responder whose every body fails the checks."""

    def respond(request: Recorded) -> Reply:
        return Reply.message(answer(project, requested(request), broken))

    return respond


def outside_regions(project: Path) -> dict[str, str]:
    """Each region file with its region bodies blanked: what a fill must never change."""
    texts: dict[str, str] = {}
    for region in find_regions(project):
        lines = texts.get(region.path, (project / region.path).read_text()).splitlines(keepends=True)
        # Blank by marker lines rather than numbers: earlier fills may have moved them.
        start = next(i for i, line in enumerate(lines) if f"scaffold:fill {region.id}" in line)
        end = next(i for i, line in enumerate(lines) if f"scaffold:end {region.id}" in line)
        texts[region.path] = "".join(lines[: start + 1] + lines[end:])
    return texts


def worktree(project: Path) -> dict[str, bytes]:
    """The project's files without .git, whose index git refreshes on any status call."""
    return {path: data for path, data in tree_snapshot(project).items() if not path.startswith(".git/")}


def commits(project: Path) -> list[str]:
    return run(["git", "log", "--format=%s"], cwd=project).stdout.splitlines()


class Offers(SilentReporter):
    """A reporter that keeps each fill offer it is asked about and answers `accept`."""

    def __init__(self, accept: bool) -> None:
        self.accept = accept
        self.offers: list[FillOffer] = []

    def confirm_fill(self, offer: FillOffer) -> bool:
        self.offers.append(offer)
        return self.accept

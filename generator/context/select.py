"""Selection: which sections of the knowledge home go into a task's prompt, and why.

`select` is a pure function of the task, the context map, an index of sections and the
budget: it reads no files (the index answers from memory) and is tested without a disk.

Order of priority, each step skipping sections an earlier step already chose:

1. the core documents (`patterns.md`, `architecture.md`), always, whole;
2. the documents context.yml maps to the task's kind, in the listed order;
3. `project-contexts/<project>.md` when the task names a project and the file exists;
4. the `top_k` sections of the ranked folders (decisions, incidents, runbooks,
   anti-patterns) that BM25 scores highest against the task text, best first.

The budget (default 24,000 estimated tokens, see `tokens.py`) covers the whole prompt. If
the frame and the core documents do not fit, that is an error; after them, candidates are
taken in priority order while they fit, so a large section is left out whole (documents are
cut at section boundaries) and a smaller, lower-priority one may still fit. Everything left
out is reported with its size and the reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Protocol

from generator.context.documents import TRAIL_SEPARATOR, Section
from generator.context.kinds import ContextMap, DocRef
from generator.context.tokens import DEFAULT_BUDGET
from generator.errors import BudgetError

__all__ = ["DEFAULT_BUDGET", "Document", "Index", "Pick", "Priority", "Selection", "Task", "fit", "gather", "select"]

PROJECT_FOLDER = "project-contexts"
_PART = re.compile(r" \(part \d+\)$")


class Priority(IntEnum):
    CORE = 0
    KIND = 1
    PROJECT = 2
    RANKED = 3


@dataclass(frozen=True)
class Task:
    """What the prompt is for: free text, or a template's answers with a description.

    `kind` skips classification; `project` selects `project-contexts/<project>.md`.
    """

    text: str
    kind: str | None = None
    project: str | None = None
    answers: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_answers(cls, answers: Mapping[str, Any], text: str | None = None) -> Task:
        """A task for a project being generated: the kind is the template, the text its description."""
        template = answers.get("template")
        project = answers.get("project_name")
        return cls(
            text=text if text is not None else str(answers.get("description", "")),
            kind=str(template) if template else None,
            project=str(project) if project else None,
            answers=dict(answers),
        )

    def query(self) -> str:
        """The text BM25 ranks against: the task, the project name and the answers' words."""
        parts = [self.text]
        if self.project:
            parts.append(self.project.replace("-", " ").replace("_", " "))
        for key, value in self.answers.items():
            if isinstance(value, str) and not key.startswith("_") and value not in self.text:
                parts.append(value)
        return "\n".join(parts)


class Index(Protocol):
    """What selection needs from an index of sections (`documents.Library` is one)."""

    def paths(self) -> list[str]: ...

    def sections_of(self, path: str) -> list[Section] | None: ...

    def rank(self, query: str, folders: Sequence[str], limit: int) -> list[tuple[Section, float]]: ...


@dataclass(frozen=True)
class Pick:
    """A section chosen as a candidate, with its priority and the reason for it."""

    section: Section
    priority: Priority
    reason: str


@dataclass(frozen=True)
class Document:
    """A section in the prompt or left out of it: its file, heading path, estimated tokens and why.

    For what was left out, `section` may summarise a run of sections of one document, and is
    empty for a document that is missing.
    """

    path: str
    section: str
    tokens: int
    reason: str


@dataclass(frozen=True)
class Selection:
    """The outcome: chosen sections in prompt order, and what was left out."""

    picks: tuple[Pick, ...]
    omitted: tuple[Document, ...]
    warnings: tuple[str, ...]


Cost = Callable[[Pick], int]


def select(
    task: Task,
    kind: str,
    cmap: ContextMap,
    index: Index,
    budget: int,
    frame_tokens: int,
    cost: Cost,
    rank: bool = True,
) -> Selection:
    """Choose the sections for `task` of `kind` within `budget` (see the module docstring).

    `frame_tokens` is the cost of the prompt without any section; `cost(pick)` the cost of
    one section's block in it. `rank=False` skips the BM25 step (no task text to rank by).
    """
    candidates, missing, warnings = gather(task, kind, cmap, index, rank)
    picks, over = fit(candidates, budget, frame_tokens, cost)
    return Selection(tuple(picks), tuple(missing + merge_omissions(over)), tuple(warnings))


def gather(
    task: Task, kind: str, cmap: ContextMap, index: Index, rank: bool = True
) -> tuple[list[Pick], list[Document], list[str]]:
    """Every candidate in priority order, plus documents that were asked for but are missing."""
    picks: list[Pick] = []
    missing: list[Document] = []
    warnings: list[str] = []
    seen: set[tuple[str, int]] = set()

    def add(sections: Sequence[Section], priority: Priority, reason: str) -> None:
        for section in sections:
            if section.key not in seen:
                seen.add(section.key)
                picks.append(Pick(section, priority, reason))

    for ref in cmap.core:
        sections = _resolve(ref, index)
        if sections:
            add(sections, Priority.CORE, "core document, always included")
        else:
            where = f"{cmap.path}:{ref.line}: " if ref.line else ""
            warnings.append(f"{where}core document {ref} is missing from the knowledge home")
            missing.append(Document(str(ref), "", 0, "core document missing"))

    spec = cmap.kinds.get(kind)
    for ref in spec.documents if spec else ():
        sections = _resolve(ref, index)
        if sections:
            add(sections, Priority.KIND, f"listed for kind '{kind}' in context.yml")
        else:
            exists = not ref.is_folder and index.sections_of(ref.path) is not None
            what = "names no section of it" if exists else "matches no document"
            warnings.append(f"{cmap.path}:{ref.line}: kinds.{kind}.documents: {ref} {what}; skipped")
            missing.append(Document(str(ref), ref.heading or "", 0, f"listed for kind '{kind}' but missing"))

    if task.project:
        path = f"{PROJECT_FOLDER}/{task.project}.md"
        project_sections = index.sections_of(path)
        if project_sections:
            add(project_sections, Priority.PROJECT, f"project context for '{task.project}'")
        else:
            missing.append(Document(path, "", 0, f"no project context for '{task.project}'"))

    if rank and cmap.top_k and task.text.strip():
        add_ranked(task, cmap, index, seen, picks)
    return picks, missing, warnings


def add_ranked(task: Task, cmap: ContextMap, index: Index, seen: set[tuple[str, int]], picks: list[Pick]) -> None:
    """The best BM25 sections not chosen yet, at most `per_document` from one document.

    They are grouped by document (documents by their best rank, sections in file order) so
    the prompt reads each document top-down.
    """
    limit = cmap.top_k * max(cmap.per_document, 1) + len(seen)
    ranked: list[tuple[Section, str]] = []
    per_document: dict[str, int] = {}
    for section, score in index.rank(task.query(), cmap.ranked_folders, limit):
        if section.key in seen or per_document.get(section.path, 0) >= cmap.per_document:
            continue
        per_document[section.path] = per_document.get(section.path, 0) + 1
        reason = f"BM25 rank {len(ranked) + 1} (score {score:.2f}) among {section.folder}/ for the task text"
        ranked.append((section, reason))
        if len(ranked) == cmap.top_k:
            break
    order = {path: position for position, path in enumerate(dict.fromkeys(s.path for s, _ in ranked))}
    for section, reason in sorted(ranked, key=lambda item: (order[item[0].path], item[0].ordinal)):
        seen.add(section.key)
        picks.append(Pick(section, Priority.RANKED, reason))


def _resolve(ref: DocRef, index: Index) -> list[Section]:
    if ref.is_folder:
        return [s for path in index.paths() if path.startswith(ref.path) for s in index.sections_of(path) or []]
    sections = index.sections_of(ref.path) or []
    if not ref.heading:
        return sections
    wanted = ref.heading.casefold()
    return [
        section
        for section in sections
        if any(_PART.sub("", name).casefold() == wanted for name in section.trail.split(TRAIL_SEPARATOR))
    ]


def fit(candidates: Sequence[Pick], budget: int, frame_tokens: int, cost: Cost) -> tuple[list[Pick], list[Document]]:
    """Take candidates in order while they fit; the core ones must all fit."""
    core = [pick for pick in candidates if pick.priority is Priority.CORE]
    core_cost = sum(cost(pick) for pick in core)
    if frame_tokens + core_cost > budget:
        paths = ", ".join(dict.fromkeys(pick.section.path for pick in core)) or "none"
        raise BudgetError(
            f"a budget of {budget:,} tokens is too small: the prompt frame with the task needs "
            f"{frame_tokens:,} and the core documents ({paths}) {core_cost:,}; "
            f"use --budget {frame_tokens + core_cost:,} or more"
        )
    remaining = budget - frame_tokens
    chosen: list[Pick] = []
    omitted: list[Document] = []
    for pick in candidates:
        tokens = cost(pick)
        if tokens <= remaining:
            chosen.append(pick)
            remaining -= tokens
        else:
            omitted.append(Document(pick.section.path, pick.section.trail, tokens, "over budget"))
    return chosen, omitted


def merge_omissions(omitted: Sequence[Document]) -> list[Document]:
    """Collapse runs of omitted sections of one document (a huge file's parts) into one entry."""
    runs: list[list[Document]] = []
    for item in omitted:
        if runs and runs[-1][0].path == item.path and runs[-1][0].reason == item.reason:
            runs[-1].append(item)
        else:
            runs.append([item])
    merged = []
    for run in runs:
        if len(run) == 1:
            merged.append(run[0])
            continue
        label = f"{run[0].section} … {run[-1].section} ({len(run)} sections)"
        merged.append(Document(run[0].path, label, sum(item.tokens for item in run), run[0].reason))
    return merged

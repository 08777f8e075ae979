"""Selection: which sections of the knowledge home go into a task's prompt, and why.

`select` is a function of the task, the context map, an index of sections and the budget: it
opens no file itself (the index answers, and reads the few documents whose references it
follows) and is tested without a disk.

Order of priority, each step skipping sections an earlier step already chose:

1. the core documents (`patterns.md`, `architecture.md`) by section: their general sections
   always, and the sections written for a kind (`core_sections` in context.yml) only for
   tasks of that kind (or, for a classified task, of a kind its keywords also match);
2. the documents context.yml maps to the task's kind, in the listed order;
3. `project-contexts/<project>.md` when the task names a project and the file exists (when it
   names none, the context of the project it seems to be about follows step 4: see
   `_inferred_project`);
4. documents of the ranked folders (decisions, incidents, runbooks, anti-patterns) by
   relevance: BM25 scores their sections against the task text, a document scores its best
   section plus half its second best (of the sections the task's kind may get), and the
   documents scoring at least `cutoff` (0.7) of the best one are kept, at most
   `max_documents` (3); then up to `related` (2) documents the best one refers to, that
   refer to it, or that match its title (`_related`). A short
   document (up to `WHOLE_DOCUMENT_TOKENS`) goes in whole, a long one with its
   `per_document` best sections.

   With a re-rank (`rerank`, `generator.context.rerank`), the model chooses among the documents
   step 4 kept and the next best instead; what step 4 took whatever the score (a superseded
   document's successor, the inferred project) stays.

The budget (default 24,000 estimated tokens, see `tokens.py`) covers the whole prompt. If
the frame and the core documents do not fit, that is an error; after them, candidates are
taken in priority order while they fit, so a large section is left out whole (documents are
cut at section boundaries) and a smaller, lower-priority one may still fit. Everything left
out is reported with its size and the reason.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Literal, Protocol

from generator.context.documents import query_terms
from generator.context.kinds import ContextMap, DocRef, split_words
from generator.context.links import Retired, without_numbered_references
from generator.context.sections import (
    TRAIL_SEPARATOR,
    Piece,
    Section,
    is_readme,
    names_heading,
    paths_under,
    split_part,
    title_of,
)
from generator.context.tokens import DEFAULT_BUDGET
from generator.errors import BudgetError

if TYPE_CHECKING:
    from generator.context.rerank import Rerank

__all__ = [
    "DEFAULT_BUDGET",
    "Document",
    "Index",
    "Pick",
    "Priority",
    "Ranked",
    "Selection",
    "Task",
    "fit",
    "gather",
    "select",
]

PROJECT_FOLDER = "project-contexts"
# A ranked document this small goes in whole: an ADR's consequences matter as much as its decision.
WHOLE_DOCUMENT_TOKENS = 1_500
# How many of the best sections ranking looks at, before they are grouped into documents.
RANK_POOL = 300
# A document's score: its best section's, plus this share of its second best.
SECOND_SECTION_SHARE = 0.5
# A document related to the best one (see `_related`) needs this share of the best score on the task,
RELATED_CUTOFF = 0.3
# and this share of the closest match to the best document's title;
RELATED_SHARE = 0.9
# One that refers to the best document, or that it refers to, needs this share of the best score:
# a reference is its author saying the two belong together, so the task need give it little
# (docs/benchmarks.md, "Context selection quality", for how it was chosen).
LINKED_CUTOFF = 0.05
# How many project-context sections the ranking looks at to tell which project a task is about,
PROJECT_POOL = 30
# and how close the next project may come: closer, and the task is not about one of them.
PROJECT_MARGIN = 0.8
# A ranked document shares at least this many of the task's words with it (all of them, if the
# task has fewer): one word in common ("keep", "nightly") is how a home that has nothing on a
# task still scores its best document, and the cutoff, relative to that best, lets it in.
MIN_SHARED_WORDS = 2


Source = Literal["core", "kind", "project", "ranked"]


class Priority(IntEnum):
    CORE = 0
    KIND = 1
    PROJECT = 2
    RANKED = 3

    @property
    def source(self) -> Source:
        """`Document.source` for what this rule takes."""
        return _SOURCES[self]


_SOURCES: dict[Priority, Source] = {
    Priority.CORE: "core",
    Priority.KIND: "kind",
    Priority.PROJECT: "project",
    Priority.RANKED: "ranked",
}


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

    def query(self, unranked: Collection[str], names: Callable[[str], bool] = lambda key: False) -> str:
        """The text BM25 ranks against: the task (less the documents it names by number, "ADR 8", that
        `names`: `links.without_numbered_references`), the project name and `ranked_answers`."""
        parts = [without_numbered_references(self.text, names)]
        if self.project:
            parts.append(self.project.replace("-", " ").replace("_", " "))
        parts += self.ranked_answers(unranked).values()
        return "\n".join(parts)

    def ranked_answers(self, unranked: Collection[str]) -> dict[str, str]:
        """The answers that say what the project is about, by name: text not already in the task,
        of a question not internal (`_`) and not named `unranked` (`ContextMap.unranked_answers`)."""
        return {
            key: value
            for key, value in self.answers.items()
            if isinstance(value, str) and not key.startswith("_") and key not in unranked and value not in self.text
        }


class Index(Protocol):
    """What selection needs from an index of sections (`documents.Library` is one)."""

    def paths(self) -> list[str]:
        """Every document with a section, sorted."""
        ...

    def sections_of(self, path: str) -> list[Section] | None: ...

    def absent_because(self, path: str) -> str | None:
        """Why a file of the home has no section ("is empty"), or None when there is no such file."""
        ...

    def piece(self, section: Section, *, peek: bool = False) -> Piece:
        """A section's text as redaction takes it (with what surrounds a part of a long section); with
        `peek`, for a look before choosing (a re-rank's card), not for the prompt."""
        ...

    def rank(self, query: str, folders: Sequence[str], limit: int) -> list[tuple[Section, float]]: ...

    def rank_among(self, query: str, paths: Sequence[str], limit: int) -> list[tuple[Section, float]]:
        """`rank` among the sections of `paths` alone."""
        ...

    def neighbours(self, path: str, among: Collection[str]) -> list[str]: ...

    def named_in(self, text: str) -> list[str]:
        """The documents a task names ("ADR 8", a file name), as documents refer to each other."""
        ...

    def unresolved_in(self, text: str) -> list[str]:
        """Warnings for the task's references by number that name no one document ("ADR 11" that two
        documents have, "ADR 7" that none has)."""
        ...

    def names_document(self, key: str) -> bool:
        """Whether a reference's key (`num:adr:2`) names a document of the home."""
        ...

    def retired(self, path: str) -> Retired | None:
        """Whether a document says it is superseded or deprecated, with its successors."""
        ...

    def words_in(
        self, paths: Sequence[str], words: Sequence[str], enough: int | None = None
    ) -> dict[str, set[str]]: ...


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
    # The rule that took it, or would have: "core", "kind" (listed for the kind in context.yml),
    # "project" (the project's context) or "ranked" (relevant to the task). `reason` says it in
    # prose, for people; this is for programs (`--json`, the evaluation).
    source: Source


@dataclass(frozen=True)
class Ranked:
    """A document the ranking considered: its score, whether it was kept, and why (or why not)."""

    path: str
    score: float
    kept: bool
    reason: str


@dataclass(frozen=True)
class Selection:
    """The outcome: chosen sections in prompt order, and what was left out.

    `omitted` is what was asked for but is missing or over budget; `cut` the core sections
    written for other kinds; `ranking` every document the ranking considered.
    """

    picks: tuple[Pick, ...]
    omitted: tuple[Document, ...]
    warnings: tuple[str, ...]
    cut: tuple[Document, ...] = ()
    ranking: tuple[Ranked, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass
class Gathered:
    """Every candidate in priority order, and the rest of what `select` reports."""

    picks: list[Pick] = field(default_factory=list)
    missing: list[Document] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    cut: list[Document] = field(default_factory=list)
    ranking: list[Ranked] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


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
    also: Sequence[str] = (),
    rerank: Rerank | None = None,
) -> Selection:
    """Choose the sections for `task` of `kind` within `budget` (see the module docstring).

    `frame_tokens` is the cost of the prompt without any section; `cost(pick)` the cost of
    one section's block in it. `rank=False` skips the BM25 step (no task text to rank by).
    `also` names other kinds whose core sections the task gets (kinds its keywords match).
    `rerank` has a model choose among the ranked documents (`_rerank`).
    """
    found = gather(
        task, kind, cmap, index, rank, also, rerank, lambda picks: _core_fits(picks, budget, frame_tokens, cost)
    )
    picks, over = fit(found.picks, budget, frame_tokens, cost)
    omitted = tuple(found.missing + merge_omissions(over))
    return Selection(
        tuple(picks), omitted, tuple(found.warnings), tuple(found.cut), tuple(found.ranking), tuple(found.notes)
    )


def gather(
    task: Task,
    kind: str,
    cmap: ContextMap,
    index: Index,
    rank: bool = True,
    also: Sequence[str] = (),
    rerank: Rerank | None = None,
    affordable: Callable[[Sequence[Pick]], None] | None = None,
) -> Gathered:
    """Every candidate in priority order, plus documents that were asked for but are missing.

    `affordable` raises if the picks so far cannot make a prompt (`BudgetError`): asked before a
    re-rank, so that a call is not paid for a selection that fails anyway."""
    found = Gathered()
    seen: set[tuple[str, int]] = set()

    def add(sections: Sequence[Section], priority: Priority, reason: str) -> None:
        for section in sections:
            if section.key not in seen:
                seen.add(section.key)
                found.picks.append(Pick(section, priority, reason))

    wanted = [kind, *also]
    for ref in cmap.core:
        sections = _resolve(ref, index)
        if not sections:
            if not cmap.fallback:
                where = f"{cmap.path}:{ref.line}: " if ref.line else ""
                why = _why_absent(ref, index)
                found.warnings.append(f"{where}core document {ref} {why or 'is missing from the knowledge home'}")
                reason = f"core document {why or 'missing'}"
                found.missing.append(Document(str(ref), "", 0, reason, Priority.CORE.source))
            continue
        for section in sections:
            owners = core_section_kinds(section, cmap)
            if not owners:
                add([section], Priority.CORE, "core document, always included")
                continue
            mine = [name for name in wanted if name in owners]
            if mine:
                add([section], Priority.CORE, f"core document, its section for kind '{mine[0]}'")
            else:
                reason = f"core section for kind {' and '.join(repr(name) for name in owners)}, not '{kind}'"
                found.cut.append(Document(section.path, section.trail, section.tokens, reason, Priority.CORE.source))

    spec = cmap.kinds.get(kind)
    listed = _Retirements(index, cmap.ranked_folders)
    for ref in spec.documents if spec else ():
        if not ref.applies(task.answers):
            conditions = ", ".join(f"{name} is {' or '.join(values)}" for name, values in ref.when)
            for section in _resolve(ref, index):
                reason = f"listed for kind '{kind}' when {conditions}; this project's answers differ"
                found.cut.append(Document(section.path, section.trail, section.tokens, reason, Priority.KIND.source))
            continue
        sections = _resolve(ref, index)
        current = [ref.path] if ref.is_folder or ref.heading or not sections else listed.in_force(ref.path)
        if current != [ref.path]:
            # A listed decision that was superseded: its successor is what the kind needs now.
            retired = listed.retired[ref.path]
            where = f"{cmap.path}:{ref.line}: kinds.{kind}.documents: {ref} says it is {retired.status}"
            found.warnings.append(f"{where}; list {' and '.join(current)} instead" if current else f"{where}; skipped")
            for path in current:
                reason = f"listed for kind '{kind}' in context.yml as {ref}, which says it is {retired.status}"
                add(index.sections_of(path) or [], Priority.KIND, f"{reason}: in its place")
        elif sections:
            add(sections, Priority.KIND, f"listed for kind '{kind}' in context.yml")
        elif not cmap.fallback:
            why = _why_absent(ref, index)
            found.warnings.append(
                f"{cmap.path}:{ref.line}: kinds.{kind}.documents: {ref} {why or 'matches no document'}; skipped"
            )
            missing = f"listed for kind '{kind}' but {why or 'missing'}"
            found.missing.append(Document(str(ref), ref.heading or "", 0, missing, Priority.KIND.source))

    if task.project:
        path = f"{PROJECT_FOLDER}/{task.project}.md"
        # Only a project's own context: `--project README` names the folder's README, no project.
        project_sections = index.sections_of(path) if project_name(path) else None
        if project_sections:
            add(project_sections, Priority.PROJECT, f"project context for '{task.project}'")
        else:
            missing = f"no project context for '{task.project}'"
            found.missing.append(Document(path, "", 0, missing, Priority.PROJECT.source))

    if task.text.strip():
        _add_named(task, cmap, index, seen, found, wanted, listed)

    if rank and cmap.max_documents and task.text.strip():
        before = _Mark(len(found.picks), len(found.cut), len(found.ranking), frozenset(seen))
        ranking = add_ranked(task, cmap, index, seen, found, wanted)
        if rerank is not None and ranking.hits:
            if affordable is not None:
                affordable(found.picks)
            _rerank(task, kind, cmap, index, seen, found, wanted, ranking, rerank, before)
    # A core section for another kind that this kind lists (`patterns.md#Terraform modules`) is in the
    # prompt: not also reported as left out.
    taken = {(pick.section.path, pick.section.trail) for pick in found.picks}
    found.cut = [item for item in found.cut if (item.path, item.section) not in taken]
    return found


def _add_named(
    task: Task,
    cmap: ContextMap,
    index: Index,
    seen: set[tuple[str, int]],
    found: Gathered,
    wanted: Sequence[str],
    retirements: _Retirements,
) -> None:
    """The documents the task names ("what does ADR 8 say about caching"), whatever they score: the user
    asked for them. At most `max_documents` of them, the first named, so that a pasted listing of the
    home does not fill the budget before the ranking; one that says it no longer holds brings what
    holds in its place (`_Retirements`), as it would in the ranking."""
    query = task.query(cmap.unranked_answers, index.names_document)
    if cmap.max_documents:
        # Two 0011s from two branches merged, or an "ADR 7" no decision has: the user asked for one.
        found.warnings += index.unresolved_in(task.text)
    included = {key[0] for key in seen}  # a core or listed document named ("per patterns.md") is in as chosen there
    for path in [path for path in index.named_in(task.text) if path not in included][: cmap.max_documents]:
        current = retirements.in_force(path)
        retired = retirements.retired.get(path)
        reason = "named in the task"
        if retired is not None:
            reason += f"; it says it is {retired.status}" + (f", and {' and '.join(current)} holds" if current else "")
        for document in dict.fromkeys([path, *current]):
            # A long one's sections that the task's words score best ("what does the runbook say about
            # failover"), or its title and decision when none does.
            hits = index.rank_among(query, [document], cmap.per_document)
            sections = _ranked_sections(document, hits, index, cmap.per_document)
            said = reason if document == path else f"in force in place of {path}, which the task names"
            _add_sections(sections, said, cmap, seen, found, wanted, "")


@dataclass(frozen=True)
class _Mark:
    """Where the picks, the cuts and the ranking stood before the ranking step, and what was seen."""

    picks: int
    cuts: int
    ranking: int
    seen: frozenset[tuple[str, int]]


def _rerank(
    task: Task,
    kind: str,
    cmap: ContextMap,
    index: Index,
    seen: set[tuple[str, int]],
    found: Gathered,
    wanted: Sequence[str],
    ranking: Ranking,
    rerank: Rerank,
    before: _Mark,
) -> None:
    """The ranked documents as the model chooses them among those BM25 kept and the next best
    (`generator.context.rerank`): BM25's picks give way to the model's, each with its best
    sections as BM25 would have taken them. Those BM25 took whatever their score (`Ranking.fixed`)
    stay, as the kind's and the project's do; the model is told they are in. Without an answer,
    BM25's picks stay, with a warning.

    The one call selection makes outside the index: `rerank` is the caller's, which asks each
    request once however often selection runs (`rerank.Remembered`)."""
    from generator.context import rerank as reranking

    # The kind's documents, the project's and those the task names: in whatever the model chooses.
    earlier = [p.section.path for p in found.picks[: before.picks] if p.priority != Priority.CORE]
    given = sorted({*earlier, *ranking.fixed})
    kept = [pick.section.path for pick in found.picks[before.picks :] if pick.section.path not in ranking.fixed]
    totals = {path: _document_score([score for _, score in hits]) for path, hits in ranking.hits.items()}
    order = sorted(totals, key=lambda path: (-totals[path], path))
    limit = cmap.max_documents + cmap.related
    request = reranking.request_for(
        task.text, kind, given, list(dict.fromkeys(kept)), order, ranking.hits, index, limit
    )
    if not request.candidates:
        return
    # What the prompt carries anyway, for the request's redaction: a secret found there is one in the cards too.
    anyway = [pick for n, pick in enumerate(found.picks) if n < before.picks or pick.section.path in ranking.fixed]
    beside = tuple(index.piece(pick.section, peek=True) for pick in anyway)
    request = dataclasses.replace(request, beside=beside)
    answer = rerank(request)
    if answer.note:
        found.notes.append(answer.note)
    if answer.choices is None:
        if answer.error:  # none is no call made (`rerank.Probe`): nothing to say
            found.warnings.append(f"the re-rank by {answer.by} failed ({answer.error}); the documents are BM25's")
        return
    # BM25's own picks go; what it took whatever the score stays, sections seen and cuts alike.
    found.picks[before.picks :] = [p for p in found.picks[before.picks :] if p.section.path in ranking.fixed]
    found.cut[before.cuts :] = [cut for cut in found.cut[before.cuts :] if cut.path in ranking.fixed]
    fixed_seen = {key for key in seen if key[0] in ranking.fixed}
    seen.clear()
    seen.update(before.seen | fixed_seen)
    chosen = {choice.path: (position, choice.why) for position, choice in enumerate(answer.choices, start=1)}
    for path, (position, why) in chosen.items():
        reason = f"chosen by {answer.by}, {position} of {len(chosen)}" + (f": {why}" if why else "")
        sections = _ranked_sections(path, list(ranking.hits.get(path, [])), index, cmap.per_document)
        _add_sections(sections, reason, cmap, seen, found, wanted, suffix="")
    shown = {candidate.path for candidate in request.candidates}
    for position, item in enumerate(found.ranking[before.ranking :], start=before.ranking):
        if item.path in chosen:
            was = "kept" if item.kept else "cut"
            why = chosen[item.path][1]
            reason = f"chosen by {answer.by}" + (f": {why}" if why else "") + f" (BM25 {was} it)"
            found.ranking[position] = Ranked(item.path, item.score, True, reason)
        elif item.path in shown:
            was = "BM25 had kept it" if item.kept else f"BM25 had cut it too: {item.reason.removeprefix('cut: ')}"
            found.ranking[position] = Ranked(item.path, item.score, False, f"cut: not chosen by {answer.by} ({was})")


def core_section_kinds(section: Section, cmap: ContextMap) -> list[str]:
    """The kinds a section is written for (none: it is general), by its headings (`core_sections`)."""
    return kinds_claiming(section.trail, cmap)


def kinds_claiming(trail: str, cmap: ContextMap) -> list[str]:
    """The kinds whose `core_sections` claim the section with this heading path (`core_section_kinds`)."""
    headings = trail.split(TRAIL_SEPARATOR)[1:]
    if not headings:
        return []  # the title and the text before the first section belong to everyone
    return list(cmap.claiming(split_words(" ".join(split_part(heading)[0] for heading in headings))))


def other_kinds(section: Section, cmap: ContextMap, wanted: Sequence[str]) -> list[str]:
    """The kinds a section is written for when none is one of `wanted` (the task's kind and those its
    keywords also match): such a section is not for this task. Empty for any other section."""
    owners = core_section_kinds(section, cmap)
    return owners if not any(name in owners for name in wanted) else []


@dataclass(frozen=True)
class Ranking:
    """What `add_ranked` scored, for a re-rank: each document's sections that the task's kind may
    get, with their scores; and the documents it took whatever their score (a superseded one's
    successor, the inferred project's context), which a re-rank is told of but does not choose."""

    hits: Mapping[str, list[tuple[Section, float]]]
    fixed: frozenset[str]


def add_ranked(
    task: Task, cmap: ContextMap, index: Index, seen: set[tuple[str, int]], found: Gathered, wanted: Sequence[str]
) -> Ranking:
    """The documents of the ranked folders that score close enough to the best one, and its relatives.

    Sections are scored by BM25 and grouped by document; a document scores its best section
    plus `SECOND_SECTION_SHARE` of its second best. Those at `cutoff` of the best score or
    more that share `MIN_SHARED_WORDS` of the task's words are kept, best first, up to
    `max_documents`; documents an earlier step included (listed for the kind, the project's)
    count as kept but add nothing. Then up to `related` documents close to the best one (see
    `_related`), unless the best shares too few words, and the context of the project the
    task seems to be about (see `_inferred_project`). As in the core documents, a section whose
    heading says it is for other kinds (a rollback runbook's "Steps for infrastructure
    (Terraform)" in a script's prompt) is cut, and it does not score its document: a document
    matching the task only in such sections is listed as cut.

    Returns what it scored and took (`Ranking`).
    """
    scores: dict[str, list[tuple[Section, float]]] = {}
    # A section written for other kinds is cut from this task's prompt (`_add_sections`), so it
    # does not score its document either: a rollback runbook whose Terraform steps match a
    # script task's words would otherwise be chosen for them and go in by its other sections.
    # A document an earlier step included is in the prompt whole: all its sections count.
    chosen = {key[0] for key in seen}
    elsewhere: dict[str, list[tuple[float, list[str]]]] = {}
    query = task.query(cmap.unranked_answers, index.names_document)
    for section, score in index.rank(query, cmap.ranked_folders, RANK_POOL):
        owners = other_kinds(section, cmap, wanted)
        if owners and section.path not in chosen:
            elsewhere.setdefault(section.path, []).append((score, owners))
        else:
            scores.setdefault(section.path, []).append((section, score))
    start = len(found.ranking)
    best, fixed = _rank_documents(query, cmap, index, seen, found, wanted, scores) if scores else (None, set())
    entered = {item.path for item in found.ranking[start:]}  # a successor may be in already
    for path, matches in elsewhere.items():
        if path not in scores and path not in entered:
            kinds = dict.fromkeys(name for _, owners in matches for name in owners)
            named = " and ".join(repr(name) for name in kinds)
            reason = f"cut: it matches the task only in sections for kind {named}, not '{wanted[0]}'"
            found.ranking.append(Ranked(path, _document_score([score for score, _ in matches]), False, reason))
    found.ranking[start:] = sorted(found.ranking[start:], key=lambda item: (-item.score, item.path))
    if best is not None and not task.project and PROJECT_FOLDER not in cmap.ranked_folders:
        project = _inferred_project(query, cmap, index, best, {key[0] for key in seen})
        if project is not None:
            path, hits, reason = project
            found.ranking.append(Ranked(path, _document_score([score for _, score in hits]), True, reason))
            _add_sections(_ranked_sections(path, hits, index, cmap.per_document), reason, cmap, seen, found, wanted)
            fixed.add(path)
    return Ranking(scores, frozenset(fixed))


def _rank_documents(
    query: str,
    cmap: ContextMap,
    index: Index,
    seen: set[tuple[str, int]],
    found: Gathered,
    wanted: Sequence[str],
    scores: Mapping[str, list[tuple[Section, float]]],
) -> tuple[float, set[str]]:
    """`add_ranked` once its sections are scored: the close documents and their relatives. Returns
    the best document's score, and the successors that took a superseded document's place."""
    totals = {path: _document_score([score for _, score in hits]) for path, hits in scores.items()}
    order = sorted(totals, key=lambda path: (-totals[path], path))
    best = totals[order[0]]
    chosen = {key[0] for key in seen}
    close = [path for path in order if path not in chosen and totals[path] >= cmap.cutoff * best]
    needed = _words_needed(query)[1]
    retirements = _Retirements(index, cmap.ranked_folders)
    enough, candidates = cmap.max_documents, {order[0], *close}
    while True:
        few, looked = _close_sharing_too_few(query, order[0], close, enough, index)
        # Only those whose words were looked up: a retired one's slot goes to one that was checked.
        passing = [path for path in close if path in looked and path not in few]
        kept = retirements.keep(passing, cmap.max_documents, chosen)
        if len(kept) >= cmap.max_documents or len(looked) >= len(candidates):
            break
        enough += cmap.max_documents - len(kept)  # retired ones without a successor: look further
    close = kept
    # A best document that shares one word with the task says the home has nothing on it: what
    # is related to that document is no closer to the task. A retired best document still leads
    # to its relatives: the incidents and runbooks about what it decided are as much on topic.
    taken = set(close) | chosen | set(retirements.retired)
    quote = order[0] not in retirements.retired
    related = {} if order[0] in few else _related(order[0], totals, taken, cmap, index, quote)
    if related:  # a retired one's successor stands in for it (`stands_in_for`), not as a related one
        related = {
            path: related[path] for path in retirements.keep(list(related), len(related), taken) if path in related
        }
    found.warnings += retirements.unresolved()
    retired_here = retirements.retired
    positions = {path: position for position, path in enumerate(order, start=1)}

    def bm25(path: str) -> str:
        return f"BM25 rank {positions[path]} (score {totals[path]:.2f}, {totals[path] / best:.0%} of the best)"

    for path in order:
        score = totals[path]
        share = score / best
        if path in chosen:
            found.ranking.append(Ranked(path, score, True, "already included"))
            continue
        if path in retirements.stands_in_for:
            continue  # goes in where what it replaces would have, below
        if path in retired_here:
            retired = retired_here[path]
            placed = retirements.successors_of(path)
            if placed:
                now = f"; {' and '.join(placed)} in its place"
            elif retirements.followed(retired):
                named = ", ".join(retirements.followed(retired))
                now = f"; what it names ({named}) is in already, or does not hold either"
            else:
                now = ""
            found.ranking.append(Ranked(path, score, False, f"cut: it says it is {retired.status}{now}"))
            for successor in placed:
                reason = f"in place of {path}, which says it is {retired.status}"
                reason += f"; {bm25(successor)}" if successor in totals else ""
                hits = list(scores.get(successor, []))
                sections = _ranked_sections(successor, hits, index, cmap.per_document)
                if _add_sections(sections, reason, cmap, seen, found, wanted):
                    found.ranking.append(Ranked(successor, totals.get(successor, 0.0), True, reason))
                else:
                    cut = f"cut: {reason}, but none of its sections is for kind '{wanted[0]}'"
                    found.ranking.append(Ranked(successor, totals.get(successor, 0.0), False, cut))
            continue
        if path in related:
            reason = f"related to the best document ({order[0]}): {related[path]}; {bm25(path)}"
        elif path in close:
            reason = f"{bm25(path)} among {path.partition('/')[0]}/"
        elif path in few:
            common = ", ".join(f"'{word}'" for word in few[path]) or "none"
            reason = f"cut: it shares {len(few[path])} of the task's words ({common}); a ranked document needs {needed}"
            found.ranking.append(Ranked(path, score, False, reason))
            continue
        elif share < cmap.cutoff:
            # Rounded down: 59.8% read as "60%; the cutoff is 60%" beside a cut.
            shown = math.floor(share * 100 + 1e-9)  # and 0.57 is 57%, not 56.99...
            reason = f"cut: score {score:.2f} is {shown}% of the best ({best:.2f}); the cutoff is {cmap.cutoff:.0%}"
            found.ranking.append(Ranked(path, score, False, reason))
            continue
        else:
            found.ranking.append(Ranked(path, score, False, f"cut: already {cmap.max_documents} ranked documents"))
            continue
        found.ranking.append(Ranked(path, score, True, reason))
        _add_sections(_ranked_sections(path, scores[path], index, cmap.per_document), reason, cmap, seen, found, wanted)
    return best, set(retirements.stands_in_for)


class _Retirements:
    """Documents that say they no longer hold (`Index.retired`), met while choosing, and what
    stands in for them.

    A decision that was replaced is history, not guidance: in a prompt, the model would follow
    the SFTP exchange that ADR 0015 replaced. Its successor takes its place whatever its own
    score: the task matched the older one, and the newer says what holds now. Successors are
    documents of the ranked `folders` (a status naming a project's context or a README names no
    successor), at most `MAX_SUCCESSORS` of each document, followed `STEPS` supersessions at most.
    """

    STEPS = 3
    MAX_SUCCESSORS = 2

    def __init__(self, index: Index, folders: Collection[str]) -> None:
        self.index = index
        self.folders = set(folders)
        self.known: dict[str, Retired | None] = {}  # every status looked at
        self.stands_in_for: dict[str, str] = {}  # a successor -> the document it replaces
        self._in_force: dict[tuple[str, int], list[str]] = {}

    def keep(self, paths: Sequence[str], limit: int, taken: Collection[str]) -> list[str]:
        """The first `limit` of `paths` (best first), each retired one replaced by what holds in its
        place (`in_force`) that is not `taken` already, or by nothing."""
        kept: list[str] = []
        for path in paths:
            for current in self.in_force(path):
                if len(kept) < limit and current not in taken and current not in kept:
                    kept.append(current)
                    if current != path:
                        self.stands_in_for.setdefault(current, path)
            if len(kept) >= limit:
                break
        return kept

    def in_force(self, path: str, steps: int = STEPS) -> list[str]:
        """`[path]` if it holds; else what holds in its place, following `steps` supersessions at most
        (a cycle, or a longer chain, ends with nothing). Remembered: a home whose statuses all name
        each other is followed once per document and step."""
        if (path, steps) in self._in_force:
            return self._in_force[(path, steps)]
        self._in_force[(path, steps)] = []  # a cycle back to here adds nothing
        retired = self._status(path)
        if retired is None:
            current = [path]
        elif steps == 0:
            current = []
        else:
            found = (self.in_force(successor, steps - 1) for successor in self.followed(retired))
            current = list(dict.fromkeys(path for paths in found for path in paths))
        self._in_force[(path, steps)] = current
        return current

    def successors_of(self, path: str) -> list[str]:
        """What stands in for `path`, in the order it was kept."""
        return [successor for successor, replaced in self.stands_in_for.items() if replaced == path]

    def unresolved(self) -> list[str]:
        """A warning for each superseded document met whose status names nothing in the home: a typo
        in "Superseded by ADR 0051" would otherwise leave it out without a word."""
        return [
            f"{path} says it is superseded, but what its status names is not a document of "
            f"{', '.join(f'{folder}/' for folder in sorted(self.folders))}; it is left out, with nothing in its place"
            for path, retired in self.retired.items()
            if retired.status == "superseded" and retired.names_some and not self.followed(retired)
        ]

    def followed(self, retired: Retired) -> list[str]:
        """The successors of `retired` that are followed: those of the ranked folders, the first few."""
        return [path for path in retired.successors if path.partition("/")[0] in self.folders][: self.MAX_SUCCESSORS]

    @property
    def retired(self) -> dict[str, Retired]:
        """The documents met that say they no longer hold."""
        return {path: retired for path, retired in self.known.items() if retired is not None}

    def _status(self, path: str) -> Retired | None:
        if path not in self.known:
            self.known[path] = self.index.retired(path)
        return self.known[path]


def project_name(path: str) -> str | None:
    """The project whose context `path` is (`project-contexts/<name>.md`), or None (a README, a subfolder)."""
    folder, _, name = path.partition("/")
    stem = name.rpartition(".")[0]
    if folder != PROJECT_FOLDER or not stem or "/" in name or is_readme(name):
        return None
    return stem


def project_paths(paths: list[str]) -> list[str]:
    """The project contexts (`project_name`) among sorted `paths`: only those under the folder are looked at."""
    return [path for path in paths_under(paths, PROJECT_FOLDER) if project_name(path)]


def _inferred_project(
    query: str, cmap: ContextMap, index: Index, best: float, taken: set[str]
) -> tuple[str, list[tuple[Section, float]], str] | None:
    """The context of the project a task is about when it names none ("reminders went out twice").

    Project contexts are ranked apart from the other documents: one describes a whole service
    and shares words with many tasks, so among them it would crowd out the decision or the
    incident that answers the task. The best one joins, after the ranked documents and with its
    best sections only if it is long, when it scores at least `cutoff` of the best ranked
    document (the task is as much about that project as about its best document) and clearly
    more than the next project (`PROJECT_MARGIN`): near-identical contexts say nothing about
    which project it is. Like a ranked document, it must share `MIN_SHARED_WORDS` of the
    task's words.
    """
    if not project_paths(index.paths()):
        return None  # spares a ranking that could not find anything
    hits: dict[str, list[tuple[Section, float]]] = {}
    for section, score in index.rank(query, (PROJECT_FOLDER,), PROJECT_POOL):
        if project_name(section.path):
            hits.setdefault(section.path, []).append((section, score))
    totals = {path: _document_score([score for _, score in found]) for path, found in hits.items()}
    ranked = sorted(totals, key=lambda path: (-totals[path], path))
    if not ranked or ranked[0] in taken:
        return None
    path, score = ranked[0], totals[ranked[0]]
    runner_up = totals[ranked[1]] if len(ranked) > 1 else 0.0
    if score < cmap.cutoff * best or runner_up > PROJECT_MARGIN * score or _sharing_too_few(query, [path], index):
        return None
    reason = (
        f"project context for '{project_name(path)}': the task seems to be about it "
        f"(score {score:.2f}, {score / best:.0%} of the best document)"
    )
    return path, hits[path], reason


def _close_sharing_too_few(
    query: str, best: str, close: Sequence[str], wanted: int, index: Index
) -> tuple[dict[str, list[str]], set[str]]:
    """`_sharing_too_few` for the best document and the close ones, best first, until `wanted` pass;
    with the documents looked at.

    A general task can find hundreds of documents close to the best; looking up the words of
    all of them cost as much as the ranking (50 ms on 10,000 documents), for ones cut anyway.
    Those not looked at are cut as beyond `max_documents`.
    """
    pending = list(dict.fromkeys([best, *close]))  # the best is usually close[0]; it may be taken already
    few: dict[str, list[str]] = {}
    passed, start, batch = 0, 0, max(wanted, 1) * 2
    while start < len(pending) and (start == 0 or passed < wanted):
        chunk = pending[start : start + batch]
        found = _sharing_too_few(query, chunk, index)
        few.update(found)
        passed += sum(1 for path in chunk if path not in found and path in close)
        start, batch = start + batch, batch * 2  # doubling: a few lookups even when most are cut
    return few, set(pending[:start])


def _sharing_too_few(query: str, paths: Sequence[str], index: Index) -> dict[str, list[str]]:
    """Those of `paths` that share fewer than `MIN_SHARED_WORDS` of the words of `query` (the task's,
    `Task.query`), with the words they share."""
    words, needed = _words_needed(query)
    if needed < 2:
        return {}  # a task of one word: any document that scores shares it
    shared = index.words_in(list(dict.fromkeys(paths)), words, needed)
    return {path: sorted(found) for path, found in shared.items() if len(found) < needed}


def _words_needed(query: str) -> tuple[list[str], int]:
    """The words of `query` (the task's, for a project also its name and answers: `Task.query`), and
    how many of them a ranked document must share with it."""
    words = query_terms(query)
    return words, min(MIN_SHARED_WORDS, len(words))


def _add_sections(
    sections: Sequence[Section],
    reason: str,
    cmap: ContextMap,
    seen: set[tuple[str, int]],
    found: Gathered,
    wanted: Sequence[str],
    suffix: str = " for the task text",
) -> bool:
    """Pick `sections` but those for other kinds, which are cut; whether any was picked."""
    picked = False
    for section in sections:
        if section.key in seen:
            continue
        seen.add(section.key)
        owners = other_kinds(section, cmap, wanted)
        if owners:
            cut = f"section for kind {' and '.join(repr(name) for name in owners)}, not '{wanted[0]}'"
            found.cut.append(Document(section.path, section.trail, section.tokens, cut, Priority.RANKED.source))
            continue
        found.picks.append(Pick(section, Priority.RANKED, reason + suffix))
        picked = True
    return picked


def _related(
    top: str, totals: Mapping[str, float], taken: set[str], cmap: ContextMap, index: Index, quote_title: bool = True
) -> dict[str, str]:
    """Up to `related` documents about what the best document is about, with the reason for each.

    A task phrased by its symptoms ("listing shipments is slow") finds the document that names
    them (the incident) but not its neighbours that use other words (the anti-pattern "offset
    pagination on big tables"). Two things lead from the best document to them:

    - references, either way (`links`: "see ADR 0005", "(incident 0007)", markdown links): what
      its author, or theirs, said belongs with it. They join when the task gives them at least
      `LINKED_CUTOFF` of the best score, so a reference to something the task is not about
      stays out;
    - its title, as a second query: the documents matching it best (`RELATED_SHARE` of the
      closest match or more) join when the task gives them at least `RELATED_CUTOFF`.

    Only documents the task already scores that high are candidates, so only they are read.
    `MIN_SHARED_WORDS` does not apply: these join for using other words than the task.
    """
    sections = index.sections_of(top)
    if not cmap.related or not sections:
        return {}
    best = totals[top]

    def candidates(cutoff: float) -> list[str]:
        # A folder's README (an index of its documents) links to, and lists the titles of, all of them:
        # that says nothing of what it is about. Ranked on the task's words alone, as any document.
        return sorted(
            (
                path
                for path, score in totals.items()
                if path != top and path not in taken and score >= cutoff * best and not is_readme(path)
            ),
            key=lambda path: (-totals[path], path),
        )

    near_top = [] if is_readme(top) else candidates(LINKED_CUTOFF)
    linked = [(path, "one of the two refers to the other") for path in index.neighbours(top, near_top)]
    title = title_of(sections[0])
    eligible = set(candidates(RELATED_CUTOFF)) - {path for path, _ in linked}
    titled: list[tuple[str, str]] = []
    # The title query is a second ranking, as costly as the task's on a large home: not run when
    # it could add nothing.
    if eligible and len(linked) < cmap.related:
        matches: dict[str, list[float]] = {}
        for section, score in index.rank(title, cmap.ranked_folders, RANK_POOL):
            if section.path != top:
                matches.setdefault(section.path, []).append(score)
        near = {path: _document_score(hits) for path, hits in matches.items()}
        closest = max(near.values(), default=0.0)
        # A retired best document is not in the prompt: nothing of it is shown, its title included.
        matching = f"it matches that document's title '{title}'" if quote_title else "it matches that document's title"
        titled = [
            (path, matching)
            for path in sorted(near, key=lambda path: (-near[path], path))
            if near[path] >= RELATED_SHARE * closest and path in eligible
        ]
    related: dict[str, str] = {}
    for path, reason in linked + titled:
        if len(related) < cmap.related:
            related.setdefault(path, reason)
    return related


def _document_score(scores: list[float]) -> float:
    ordered = sorted(scores, reverse=True)
    return ordered[0] + (SECOND_SECTION_SHARE * ordered[1] if len(ordered) > 1 else 0.0)


def _ranked_sections(path: str, hits: list[tuple[Section, float]], index: Index, per_document: int) -> list[Section]:
    """A short document whole; a long one's best `per_document` sections (if none scored, as for a
    successor the task did not rank: its title and its "Decision" sections, then the next), in file
    order."""
    sections = index.sections_of(path) or []
    if sum(section.tokens for section in sections) <= WHOLE_DOCUMENT_TOKENS:
        return sections
    if not hits:  # a successor the task did not rank: its title, then what it decides
        deciding = [section for section in sections if "decision" in section.heading.casefold()]
        return sorted(
            list(dict.fromkeys([sections[0], *deciding, *sections]))[: max(per_document, 1)],
            key=lambda section: section.ordinal,
        )
    best = sorted(hits, key=lambda hit: -hit[1])[: max(per_document, 1)]
    return sorted((section for section, _ in best), key=lambda section: section.ordinal)


def _why_absent(ref: DocRef, index: Index) -> str | None:
    """Why a listed document that `_resolve` found nothing of gives no section; None when no file
    matches it. A document left empty, or skipped as unreadable, is not called missing."""
    if ref.path.startswith("context/"):  # copied from the repository's root
        return "is not found: paths in context.yml are relative to context/ (drop `context/`)"
    if ref.is_folder:
        return None
    if ref.heading and index.sections_of(ref.path) is not None:
        return "names no section of it"
    return index.absent_because(ref.path)


def _resolve(ref: DocRef, index: Index) -> list[Section]:
    if ref.is_folder:
        return [s for path in index.paths() if path.startswith(ref.path) for s in index.sections_of(path) or []]
    sections = index.sections_of(ref.path) or []
    if not ref.heading:
        return sections
    return [section for section in sections if names_heading(section.trail, ref.heading)]


def fit(candidates: Sequence[Pick], budget: int, frame_tokens: int, cost: Cost) -> tuple[list[Pick], list[Document]]:
    """Take candidates in order while they fit; the core ones must all fit."""
    _core_fits(candidates, budget, frame_tokens, cost)
    remaining = budget - frame_tokens
    chosen: list[Pick] = []
    omitted: list[Document] = []
    for pick in candidates:
        tokens = cost(pick)
        if tokens <= remaining:
            chosen.append(pick)
            remaining -= tokens
        else:
            omitted.append(Document(pick.section.path, pick.section.trail, tokens, "over budget", pick.priority.source))
    return chosen, omitted


def _core_fits(candidates: Sequence[Pick], budget: int, frame_tokens: int, cost: Cost) -> None:
    """BudgetError unless the frame and the core candidates fit in `budget`."""
    core = [pick for pick in candidates if pick.priority is Priority.CORE]
    core_cost = sum(cost(pick) for pick in core)
    if frame_tokens + core_cost > budget:
        paths = ", ".join(dict.fromkeys(pick.section.path for pick in core)) or "none"
        raise BudgetError(
            f"a budget of {budget:,} tokens is too small: the prompt frame with the task needs "
            f"{frame_tokens:,} and the core documents ({paths}) {core_cost:,}; "
            f"raise the budget (--budget, or budget in the API and MCP tools) to {frame_tokens + core_cost:,} or more"
        )


def merge_omissions(omitted: Sequence[Document]) -> list[Document]:
    """Collapse runs of omitted sections of one document (a huge file's parts) into one entry."""
    runs: list[list[Document]] = []
    for item in omitted:
        if runs and (runs[-1][0].path, runs[-1][0].reason, runs[-1][0].source) == (item.path, item.reason, item.source):
            runs[-1].append(item)
        else:
            runs.append([item])
    merged = []
    for run in runs:
        if len(run) == 1:
            merged.append(run[0])
            continue
        label = f"{run[0].section} … {run[-1].section} ({len(run)} sections)"
        merged.append(Document(run[0].path, label, sum(item.tokens for item in run), run[0].reason, run[0].source))
    return merged

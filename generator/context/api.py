"""scaffold's Python API for context injection, the one `scaffold context` itself uses.

    import generator

    generator.classify("add a /refunds endpoint to the billing API")        # -> "api"
    generator.get_context("infra")     # core + the kind's documents, as <documents>...</documents>
    generator.prompt("roll back the 2.3 release of billing-api")   # the complete prompt

`build_context` returns everything `scaffold context --json` prints (the chosen sections with
their reasons and token estimates, what was left out, the redactions). `explain_kind`,
`search_knowledge`, `read_document` and `list_documents` answer what an assistant asks of the
home (`scaffold mcp` serves them), each text redacted as in a prompt. Every function reads
the knowledge home resolved by `generator.context.home.resolve_home` (`home=` first, then
SCAFFOLD_HOME, the user config and the bundled copy) and never calls a network service.
"""

from __future__ import annotations

import dataclasses
import errno
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING, Any, TypeVar, cast

from generator.context.documents import lf_lines, redaction_cache
from generator.context.select import DEFAULT_BUDGET, Document, Ranked, Task
from generator.errors import (
    BudgetError,
    DocumentChangedError,
    EmptyTaskError,
    ExternalToolError,
    HomeError,
    IndexBehindError,
    IndexDamagedError,
    ScaffoldError,
    UnknownKindError,
    UsageError,
    check_text,
    did_you_mean,
)
from generator.settings import API_KEY, RERANK, Settings

__all__ = [
    "DEFAULT_BUDGET",
    "Classification",
    "ContextResult",
    "Document",
    "DocumentInfo",
    "DocumentText",
    "SearchHit",
    "SearchResult",
    "Task",
    "build_context",
    "classify",
    "count_tokens",
    "explain_kind",
    "get_context",
    "list_documents",
    "prompt",
    "read_document",
    "search",
    "search_knowledge",
]

_V = TypeVar("_V")

MAX_SEARCH_RESULTS = 50
SNIPPET_CHARACTERS = 280

if TYPE_CHECKING:
    from generator.context.documents import Library
    from generator.context.home import KnowledgeHome
    from generator.context.kinds import ContextMap
    from generator.context.redact import Finding, Shown
    from generator.context.rerank import Remembered, Rerank, RerankRequest
    from generator.context.sections import Section
    from generator.fill.pricing import Usage


@dataclass(frozen=True)
class ContextResult:
    """The outcome of `build_context`; `to_dict()` is the `scaffold context --json` object."""

    kind: str
    kind_reason: str
    documents: tuple[Document, ...]
    omitted: tuple[Document, ...]
    redactions: tuple[Finding, ...]
    tokens: int
    budget: int
    prompt: str
    context: str
    home: Path
    warnings: tuple[str, ...]
    notes: tuple[str, ...]
    cut: tuple[Document, ...] = ()
    ranking: tuple[Ranked, ...] = ()
    also_kinds: tuple[str, ...] = ()
    project: str | None = None
    project_reason: str = ""
    # (path, SHA-256) of each chosen document as its sections were read (see `Library.read`): a fill
    # records them, to tell later that a document its prompt carried has changed. A document whose
    # name holds a secret is left out: its name is not written anywhere, and `scaffold check` could
    # not find it by its redacted one.
    digests: tuple[tuple[str, str], ...] = ()
    # (model, usage, error) of each call the selection made (the model's re-rank), for a caller's accounts.
    calls: tuple[tuple[str, Usage, str], ...] = ()
    # The re-rank's request as sent, redacted, that decided the selection (none: no re-rank, or
    # nothing ranked to choose among); with a `rerank.Probe`, as it would be sent.
    rerank_request: RerankRequest | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "kind_reason": self.kind_reason,
            "documents": [vars(document) for document in self.documents],
            "omitted": [vars(item) for item in self.omitted],
            "cut": [vars(item) for item in self.cut],
            "ranking": [vars(item) for item in self.ranking],
            "redactions": [finding.to_dict() for finding in self.redactions],
            "tokens": self.tokens,
            "budget": self.budget,
            "warnings": list(self.warnings),
            "notes": list(self.notes),
            "home": str(self.home),
            "prompt": self.prompt,
        }


@dataclass(frozen=True)
class Classification:
    """`explain_kind`: a task's kind, why (the matched keywords, or the default), and what the kind is for."""

    kind: str
    reason: str
    keywords: tuple[str, ...]
    description: str
    kinds: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "reason": self.reason,
            "keywords": list(self.keywords),
            "description": self.description,
            "kinds": list(self.kinds),
        }


def classify(task: str, *, home: str | Path | None = None) -> str:
    """The kind of a free-text task by context.yml's keyword rules (its default kind if none match)."""
    return explain_kind(task, home=home).kind


def explain_kind(task: str, *, home: str | Path | None = None) -> Classification:
    """The kind of a free-text task, with the reason `scaffold context` reports for it."""
    from generator.context.kinds import classify as classify_text
    from generator.context.kinds import home_map

    if not task.strip():
        raise EmptyTaskError('the task text is empty; describe the task, e.g. "add a /refunds endpoint"')
    check_text("task text", task)
    cmap = home_map(_home(home).context_dir)
    kind, words = classify_text(task, cmap)
    spec = cmap.kinds.get(kind)
    return Classification(
        kind, _kind_reason(kind, words), tuple(words), spec.description if spec else "", tuple(cmap.kinds)
    )


def _only_meaning(given: str, names: Collection[str]) -> str | None:
    """The one of `names` that `given`, in other capitals, can mean ("BILLING-API", `--kind Infra`), as
    a document's path in other capitals is taken; None when it is one of them, or means none or two."""
    if given in names:
        return None
    same = [name for name in names if name.casefold() == given.casefold()]
    return same[0] if len(same) == 1 else None


def _recased_project(task: Task, projects: Collection[str]) -> tuple[Task, str | None]:
    """`task` with its project in other capitals made the one project it can mean (`_only_meaning`), and
    a note saying so; as it is otherwise."""
    meant = _only_meaning(task.project, projects) if task.project else None
    if meant is None:
        return task, None
    from generator.context.select import PROJECT_FOLDER

    note = f"project {task.project!r} taken for {meant!r} ({PROJECT_FOLDER}/{meant}.md)"
    return Task(task.text, task.kind, meant, task.answers), note


def _kind_reason(kind: str, words: list[str]) -> str:
    return f"keywords: {', '.join(words)}" if words else f"no keyword matched; default kind '{kind}'"


def get_context(task_type: str, *, home: str | Path | None = None, budget: int = DEFAULT_BUDGET) -> str:
    """The core documents and those context.yml lists for `task_type`, as `<documents>...`."""
    return build_context(Task("", kind=task_type), budget=budget, home=home, _with_task=False).context


def prompt(
    task: str,
    *,
    kind: str | None = None,
    project: str | None = None,
    budget: int = DEFAULT_BUDGET,
    home: str | Path | None = None,
) -> str:
    """The complete context-injected prompt for a task, ready to paste into any assistant."""
    return build_context(task, kind=kind, project=project, budget=budget, home=home).prompt


def build_context(
    task: str | Task,
    *,
    kind: str | None = None,
    project: str | None = None,
    budget: int = DEFAULT_BUDGET,
    home: str | Path | None = None,
    settings: Settings | None = None,
    rerank: bool | Rerank | None = None,
    _with_task: bool = True,
) -> ContextResult:
    """Select, redact and assemble the context for a task (see `generator.context`).

    `task` is free text or a `Task` (`Task.from_answers(answers)` for a project being
    generated). `kind` skips classification; `project` adds `project-contexts/<project>.md`
    (a name with no such file is warned about, listing the projects that have one);
    `budget` caps the whole prompt in estimated tokens. `rerank` has the model choose among
    the ranked documents (`generator.context.rerank`; it needs an API key), or the `Rerank`
    given; None leaves it to the settings (SCAFFOLD_RERANK: off unless set; the fill step passes
    its own choice, on by default).
    """
    reranker, notes = _reranker(rerank, settings)

    def attempt(loading: _Loading) -> ContextResult:
        if reranker:
            reranker.attempt()
        return _build_context(task, kind, project, budget, home, settings, _with_task, loading, reranker)

    result = _again_if_changed(attempt)
    notes = (*notes, *result.notes)
    if reranker is None:
        return dataclasses.replace(result, notes=notes)
    asked = reranker.asked[-1] if reranker.asked else None
    return dataclasses.replace(result, notes=notes, calls=reranker.calls(), rerank_request=asked)


def _reranker(wanted: bool | Rerank | None, settings: Settings | None) -> tuple[Remembered | None, tuple[str, ...]]:
    """The model re-rank asked for (`wanted`), or the settings' (SCAFFOLD_RERANK), and a note when
    the settings ask for one that cannot be had. Asked for by the caller without an API key: an error."""
    if wanted is not None and not isinstance(wanted, bool):
        if not callable(wanted):
            raise UsageError(f"rerank must be True, False, None or a Rerank, not {type(wanted).__name__}")
        from generator.context.rerank import Remembered

        return Remembered(wanted), ()
    config = settings or Settings.load()
    if not (config.rerank() if wanted is None else wanted):
        return None, ()  # without importing the re-rank's module: a few milliseconds of every run
    from generator.context.rerank import ModelRerank, Remembered, cache_dir
    from generator.plumbing.extras import AI, installed, require

    key = config.key
    if wanted:
        require(AI, "the model re-rank (--rerank)")
        if key is None:
            raise UsageError(
                f"the model re-rank needs an Anthropic API key: set {API_KEY.where_to_set()}, or leave out --rerank"
            )
    elif key is None or not installed(AI):
        where = RERANK.where(config.rerank_setting.origin)
        lacking = "no API key is set" if key is None else f"scaffold's 'ai' part is not installed ({AI.command})"
        return None, (f"{where} asks for the model re-rank, but {lacking}; the documents are BM25's",)
    config.check_ai()  # a bad timeout or retry count fails here, before any call
    return Remembered(ModelRerank(config, key, cache_dir())), ()


class _Loading:
    """How one attempt of `_again_if_changed` loads the home's library, and what it loaded; the index
    files of every attempt are noted in `used` (`_damaged_among`)."""

    def __init__(self, reread: Collection[str] = (), speculate: bool = False, used: set[Path] | None = None) -> None:
        self.reread = reread
        self.speculate = speculate
        self.loaded: list[Library] = []
        self.used = used if used is not None else set()

    def library(self, knowledge: KnowledgeHome) -> Library:
        from generator.context.documents import load_library

        library = load_library(knowledge.context_dir, reread=self.reread, speculate=self.speculate)
        self.loaded.append(library)
        if library.index_path is not None:
            self.used.add(library.index_path)
        return library

    def confirm(self) -> None:
        for library in self.loaded:
            library.confirm()

    def release(self) -> None:
        for library in self.loaded:
            library.release()


def _again_if_changed(build: Callable[[_Loading], _V]) -> _V:
    """`build` from the index as it is while the files are looked at (`load_library`'s `speculate`),
    kept if no file changed since the last update. Else `build` from the index brought up to
    date; once more if a document was saved between that update and the reading of its
    sections (an editor, a `git pull`: see `Library.read`), from an index that reads that
    document again whatever its stamps say. A document that keeps changing is the error."""
    used: set[Path] = set()
    try:
        return _attempts(build, used)
    except Exception as error:
        damaged = _damaged_among(used, error)
        if not damaged:
            raise
    # Once more, from an index built anew: the index is a cache, and damage SQLite could not see broke
    # this run far from where it was read.
    from generator.context.index import remove_database

    for path in damaged:
        remove_database(path)
    return _attempts(build, set())


def _attempts(build: Callable[[_Loading], _V], used: set[Path]) -> _V:
    try:
        return _speculatively(build, used)
    except IndexBehindError:
        pass  # a file changed since the last update: as a run that updates the index first
    except IndexDamagedError:
        pass  # removed: built anew below, as the "rebuilt transparently if corrupt" asks
    except DocumentChangedError as error:
        return _once(build, _Loading((error.path,), used=used))  # up to date: saved while this run read it
    try:
        return _once(build, _Loading(used=used))
    except IndexDamagedError:
        return _once(build, _Loading(used=used))  # found damaged where this run first read it: again, anew
    except DocumentChangedError as error:
        return _once(build, _Loading((error.path,), used=used))


def _once(build: Callable[[_Loading], _V], loading: _Loading) -> _V:
    """`build` with `loading`'s library, released after, whatever came of it (its index closed: a
    long-running server must not keep a removed index's files open)."""
    try:
        return build(loading)
    finally:
        loading.release()


def _damaged_among(used: set[Path], error: Exception) -> list[Path]:
    """The index files of `used` found damaged (`index.damage_found`) after `error`, one their use may have
    caused; none for a user's error (any ScaffoldError), or when nothing is damaged: then the error is
    scaffold's own, and is raised at once, the index kept."""
    import sqlite3

    from generator.context.index import damage_found

    if isinstance(error, ScaffoldError) or not isinstance(
        error, sqlite3.Error | TypeError | ValueError | LookupError | AttributeError
    ):
        return []
    return [path for path in sorted(used) if path.is_file() and damage_found(path)]


def _speculatively(build: Callable[[_Loading], _V], used: set[Path]) -> _V:
    """`build` from the index as the last update left it, confirmed by the look at the files before
    its result is returned: IndexBehindError if a file changed (see `load_library`)."""
    loading = _Loading(speculate=True, used=used)
    try:
        try:
            result = build(loading)
        except Exception:
            # An error from an index behind the files (a document changed since: DocumentChangedError)
            # is not the files' error: IndexBehindError instead.
            loading.confirm()
            raise
        loading.confirm()
        return result
    finally:
        loading.release()  # this attempt's library is done with, whatever came of it


def _build_context(
    task: str | Task,
    kind: str | None,
    project: str | None,
    budget: int,
    home: str | Path | None,
    settings: Settings | None,
    _with_task: bool,
    loading: _Loading,
    reranker: Remembered | None = None,
) -> ContextResult:
    from generator.context.assemble import assemble, render_block, render_documents, render_frame
    from generator.context.documents import query_terms
    from generator.context.kinds import classify as classify_text
    from generator.context.kinds import home_map, matching_kinds, mentioned_names
    from generator.context.redact import TASK, Piece, Redacted, Redactor, Shown
    from generator.context.select import PROJECT_FOLDER, Pick, select
    from generator.context.tokens import estimate_tokens

    if not isinstance(task, Task):
        task = Task(task)
    task = Task(task.text, task.kind if kind is None else kind, project or task.project, task.answers)
    if isinstance(budget, bool) or not isinstance(budget, int) or budget <= 0:
        raise UsageError(f"the budget must be a positive number of tokens, not {budget!r}")
    if _with_task and not task.text.strip():
        raise EmptyTaskError(
            'the task text is empty; describe the task, e.g. scaffold context "add a /refunds endpoint"'
        )
    for what, given in (("task text", task.text), ("project", task.project), ("kind", task.kind)):
        check_text(what, given)

    if _with_task and (alone := estimate_tokens(task.text)) > budget:
        # Before the index and the scan for secrets, which take seconds a megabyte of task.
        raise BudgetError(
            f"the task alone is ~{alone:,} tokens, more than the budget of {budget:,}; shorten it, or raise the "
            "budget (--budget, or budget in the API and MCP tools)"
        )

    knowledge = _home(home, settings)
    cmap = home_map(knowledge.context_dir)
    library = loading.library(knowledge)
    projects = _projects(library.paths())
    task, recased = _recased_project(task, projects)
    # The unknown-project warning is for a project asked for by name (--project, MCP's project), not for
    # the one a generated project's answers carry, which has no context yet; recased, it is known.
    project = task.project if project else None
    named = mentioned_names(task.text, projects)
    project_reason = "given" if task.project else ""
    if not task.project and len(named) == 1:
        task = Task(task.text, task.kind, named[0], task.answers)
        project_reason = "named in the task"
    also: list[str] = []
    kind_recased = None
    if task.kind is not None and not task.kind.strip():  # `--kind ""` (a variable unset in a script)
        raise UnknownKindError(f"the kind is empty; {cmap.path} defines: {', '.join(cmap.kinds)}")
    if given := (task.kind or "").strip():
        task = dataclasses.replace(task, kind=given)  # " api", pasted
        if meant := _only_meaning(given, cmap.kinds):  # `--kind Migration`, as --project is taken
            kind_recased = f"kind {given!r} taken for {meant!r}"
            task = dataclasses.replace(task, kind=meant)
        elif given not in cmap.kinds:
            from generator.context.redact import redacted_messages

            # It quotes what was given (a token pasted into the wrong flag), as the unknown --project warning does.
            hint = did_you_mean(given, cmap.kinds)
            defined = f"{cmap.path} defines: {', '.join(cmap.kinds)}"
            message = f"unknown kind {given!r}; {hint + ' ' if hint else ''}{defined}"
            raise UnknownKindError(redacted_messages([message])[0])
        chosen_kind, kind_reason = meant or given, "given"
    else:
        chosen_kind, words = classify_text(task.text, cmap, projects)
        kind_reason = _kind_reason(chosen_kind, words)
        also = [name for name in matching_kinds(task.text, cmap, projects) if name != chosen_kind]

    notes = [note for note in (knowledge.note(), recased, kind_recased) if note]
    if cmap.fallback:
        notes.append(
            f"{knowledge.context_dir / 'context.yml'} does not exist; using the bundled kinds and keywords "
            "(documents they list that this home lacks are skipped)"
        )
    if library.stubs:
        notes.append(
            f"not ranked until edited ({len(library.stubs)} unedited from new-decision/new-incident/new-runbook): "
            + ", ".join(library.stubs)
        )
    unused = _never_selected(library.paths(), cmap)
    if unused:
        notes.append(_never_selected_note(unused, cmap))
    warnings: list[str] = []  # after the library's, which are known once its files are (`Library.confirm`)
    if project and project not in projects:
        from generator.context.sections import is_readme

        listing = f"known projects: {', '.join(projects)}" if projects else f"{PROJECT_FOLDER}/ has none"
        # "No README.md" would send the user looking for one the folder may well have.
        readme = is_readme(f"{project}.md")
        why = "a README describes its folder, not a project" if readme else f"no {PROJECT_FOLDER}/{project}.md"
        warnings.append(f"unknown project {project!r}: {why} ({listing})")
    warnings += cmap.misspelt_answers(task.answers, task.ranked_answers(cmap.unranked_answers))

    redactor = Redactor(redaction_cache())
    shown = Shown(redactor)  # the headings and file names beside the texts, redacted too
    # A re-rank's request is redacted as the prompt is, by the same redactor (one cache, saved once).
    rerank = None
    if reranker:
        from generator.context import rerank as reranking

        rerank = reranker.redacting(lambda request: reranking.redacted(request, redactor))
    shown.add([task.project] if task.project else [])
    project_shown = shown(task.project) if task.project else None

    def shown_names(section: Section) -> tuple[str, str]:
        return shown(section.path, section.path), shown(section.trail, section.path)

    task_text = task.text
    findings: list[Finding] = []
    text_values: list[tuple[str, str]] = []  # what the texts gave away: a name's finding is not reported twice

    # Sections are scanned for secrets only once chosen (scanning is slow), and a redaction
    # can lengthen a section or the task: select again with the true sizes until they hold.
    true_cost: dict[tuple[str, int], int] = {}
    redacted: dict[tuple[str, int], Redacted] = {}

    def cost(pick: Pick) -> int:
        section = pick.section
        if section.key in true_cost:
            return true_cost[section.key]
        return estimate_tokens(render_block(*shown_names(section), "")) + section.tokens

    task_pending = _with_task
    while True:
        if _with_task:
            head, tail = render_frame(task_text, chosen_kind, project_shown)
        else:
            head, tail = "<documents>\n", "</documents>\n"
        frame_tokens = estimate_tokens(head) + estimate_tokens(tail)
        selection = select(task, chosen_kind, cmap, library, budget, frame_tokens, cost, _with_task, also, rerank)
        fresh = [pick for pick in selection.picks if pick.section.key not in redacted]
        pieces = [library.piece(p.section) for p in fresh]
        results = redactor.redact(pieces + ([Piece(TASK, 1, task.text)] if task_pending else []))
        shown.add(name for pick in fresh for name in (pick.section.path, pick.section.trail))
        grew = False
        if task_pending:
            task_result = results.pop()
            findings.extend(task_result.findings)
            shown.also(task_result.values, query_terms)
            text_values += task_result.values
            grew = estimate_tokens(task_result.text) > estimate_tokens(task_text)
            task_text, task_pending = task_result.text, False
        for pick, result in zip(fresh, results, strict=True):
            redacted[pick.section.key] = result
            shown.document(pick.section.path, result.values)
        # Every document's values first, then the names: a name may show another document's path.
        for pick, result in zip(fresh, results, strict=True):
            actual = estimate_tokens(render_block(*shown_names(pick.section), result.text))
            grew = grew or actual > cost(pick)
            true_cost[pick.section.key] = actual
        if not grew:
            break
    if _with_task:
        head, tail = render_frame(task_text, chosen_kind, project_shown)

    blocks: list[str] = []
    documents: list[Document] = []
    digests: dict[str, str] = {}
    for pick in selection.picks:
        section = pick.section
        if section.digest is not None:
            digests.setdefault(section.path, section.digest)
        blocks.append(render_block(*shown_names(section), redacted[section.key].text))
        tokens = true_cost[section.key]
        documents.append(Document(section.path, section.trail, tokens, pick.reason, pick.priority.source))
        findings.extend(redacted[section.key].findings)
        text_values += redacted[section.key].values
    listed = [*selection.omitted, *selection.cut]
    shown.add(
        [name for item in listed for name in (item.path, item.section)] + [item.path for item in selection.ranking]
    )
    warnings = [*library.warnings, *warnings]
    notes += selection.notes
    shown.add([*warnings, *selection.warnings, *notes])
    findings += shown.findings(text_values)
    redactor.save()

    text = assemble(head, blocks, tail)
    # The prompt was rendered from redacted names; everything else the result shows is redacted here.
    return ContextResult(
        kind=chosen_kind,
        kind_reason=kind_reason,
        documents=_shown_in(tuple(documents), shown),
        omitted=_shown_in(selection.omitted, shown),
        redactions=_shown_in(tuple(findings), shown),
        tokens=estimate_tokens(text),
        budget=budget,
        prompt=text,
        context=render_documents(blocks),
        home=knowledge.root,
        warnings=(*library.cache_warnings, *_shown_in((*warnings, *selection.warnings), shown)),
        notes=_shown_in(tuple(notes), shown),
        cut=_shown_in(selection.cut, shown),
        ranking=_shown_in(selection.ranking, shown),
        also_kinds=tuple(also),
        project=project_shown,
        project_reason=project_reason,
        digests=tuple((path, digest) for path, digest in digests.items() if shown(path, path) == path),
    )


def _never_selected(paths: list[str], cmap: ContextMap) -> dict[str, list[str]]:
    """The documents of each folder ("" for context/ itself) nothing selects: not core, not listed
    for a kind, not in a ranking folder, not a project's context (READMEs describe folders)."""
    from generator.context.sections import folder_of, is_readme
    from generator.context.select import PROJECT_FOLDER, project_name

    refs = [*cmap.core, *(ref for kind in cmap.kinds.values() for ref in kind.documents)]
    listed = {ref.path for ref in refs if not ref.is_folder}
    listed_folders = tuple(ref.path for ref in refs if ref.is_folder)
    unused: dict[str, list[str]] = {}
    for path in paths:
        folder = folder_of(path)
        if folder in cmap.ranked_folders or path in listed or path.startswith(listed_folders) or is_readme(path):
            continue
        if folder == PROJECT_FOLDER and project_name(path):
            continue
        unused.setdefault(folder, []).append(path)
    return unused


# Up to this many documents of a folder are named in the note, not counted: a core document whose
# entry in context.yml is misspelt is found by its name.
_NAMED_UNUSED = 3


def _never_selected_note(unused: dict[str, list[str]], cmap: ContextMap) -> str:
    def listed(folder: str, paths: list[str]) -> str:
        named = ", ".join(path.removeprefix(f"{folder}/") for path in paths)  # `adr/2023/x.md` as `2023/x.md`
        return (
            f"{f'{folder}/' if folder else 'context/ itself'} ({named if len(paths) <= _NAMED_UNUSED else len(paths)})"
        )

    where = ", ".join(listed(folder, paths) for folder, paths in unused.items())
    total = sum(map(len, unused.values()))
    ranked = f"the ranking folders ({', '.join(cmap.ranked_folders)})" if cmap.ranked_folders else "no ranking folder"
    in_map = "a context.yml (copy the bundled one into context/ first)" if cmap.fallback else str(cmap.path)
    # context/ itself is no folder ranking.folders can name: its documents move into one, or are listed.
    if set(unused) == {""}:
        fix = "move them into a ranking folder, or list them for a kind"
    elif "" in unused:
        fix = (
            "add their folders to ranking.folders (those in context/ itself: move them into one), "
            "or list them for a kind"
        )
    else:
        fix = "add their folders to ranking.folders, or list the documents for a kind"
    return (
        f"{total} document{'s are' if total != 1 else ' is'} never selected, in {where}: only the core documents, "
        f"those listed for a kind, the projects' contexts and {ranked} are; {fix}, in {in_map}"
    )


def _shown_in(value: _V, shown: Shown, document: str | None = None) -> _V:
    """`value` (strings, tuples of them, dataclasses of them) with `shown`'s secrets replaced in every
    string; in a dataclass with a `path` (a document, a ranked one, a finding), that document's too."""
    if isinstance(value, str):
        return cast(_V, shown(value, document))
    if isinstance(value, tuple):
        return cast(_V, tuple(_shown_in(item, shown, document) for item in value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        path = getattr(value, "path", None)
        about = path if isinstance(path, str) else document
        changes = {
            field.name: _shown_in(getattr(value, field.name), shown, about) for field in dataclasses.fields(value)
        }
        return cast(_V, dataclasses.replace(value, **changes))
    return value


# --- browsing the home ----------------------------------------------------------------------


@dataclass(frozen=True)
class SearchHit:
    """A section of the home that matches a query: file, heading path, first line, BM25 score, snippet."""

    path: str
    heading: str
    line: int
    score: float
    snippet: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "heading": self.heading,
            "line": self.line,
            "score": round(self.score, 3),
            "snippet": self.snippet,
        }


@dataclass(frozen=True)
class SearchResult:
    """`search`'s answer: the hits, and the query as an answer may echo it, a value that a hit holds
    as a secret redacted in it too (a guessed password echoed in clear beside the snippet that hid it
    said where it was), as `scaffold context` redacts a task."""

    query: str
    hits: tuple[SearchHit, ...]


def search_knowledge(query: str, *, limit: int = 10, home: str | Path | None = None) -> tuple[SearchHit, ...]:
    """The sections of every document in the home that BM25 ranks highest for `query`, best first,
    each with a snippet around the first query word (from the redacted text)."""
    return search(query, limit=limit, home=home).hits


def search(query: str, *, limit: int = 10, home: str | Path | None = None) -> SearchResult:
    """`search_knowledge`, with the query as its answer may show it (MCP's `search_knowledge` tool)."""
    if not query.strip():
        raise EmptyTaskError('the search query is empty; give a few words, e.g. "database connection pool"')
    check_text("search query", query)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_SEARCH_RESULTS:
        raise UsageError(f"the limit must be a whole number from 1 to {MAX_SEARCH_RESULTS}, not {limit!r}")
    return _again_if_changed(lambda loading: _search(query, limit, home, loading))


def _search(query: str, limit: int, home: str | Path | None, loading: _Loading) -> SearchResult:
    from generator.context.sections import folder_of

    library = loading.library(_home(home))
    folders = sorted({folder_of(path) for path in library.paths()})
    ranked = library.rank(query, folders, limit)
    texts, shown, query_shown = _redacted(library, [section for section, _ in ranked], query)
    hits = tuple(
        SearchHit(
            shown(section.path, section.path),
            shown(section.trail, section.path),
            section.line,
            score,
            _snippet(text, query, section),
        )
        for (section, score), text in zip(ranked, texts, strict=True)
    )
    return SearchResult(query_shown, hits)


@dataclass(frozen=True)
class DocumentText:
    """One document of the home, its likely secrets redacted, and where they were."""

    path: str
    text: str
    redactions: tuple[Finding, ...]
    # Set when the file is larger than a document may be, and `text` is only its first part: why, and what to do.
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "path": self.path,
            "text": self.text,
            "redactions": [finding.to_dict() for finding in self.redactions],
        }
        if self.note is not None:
            data["note"] = self.note
        return data


def read_document(path: str, *, home: str | Path | None = None) -> DocumentText:
    """A file of the home's `context/` folder by its path relative to it, with likely secrets redacted.

    Refuses absolute paths, `..`, hidden names, symlinks that lead out of `context/` and those that
    lead to a hidden name inside it.
    """
    from generator.context.redact import Piece, Redactor
    from generator.context.sections import LEADS_HIDDEN, LEADS_OUT, NotText, document_bytes

    knowledge = _home(home)
    file = _inside_context(path, knowledge.context_dir)
    root = knowledge.context_dir.resolve()
    rel = file.relative_to(root).as_posix()
    try:
        # Read as the index reads it (a file larger than a document may be: its first part, with a note),
        # and checked again: a file can become a link out of context/ after the check above.
        data, cut, _ = document_bytes(root, rel)
    except OSError as error:
        if error.errno == errno.EACCES and error.strerror == LEADS_OUT:
            raise UsageError(_LEADS_OUT_OF_CONTEXT.format(path=path)) from None
        if error.errno == errno.EACCES and error.strerror == LEADS_HIDDEN:
            raise UsageError(_LEADS_TO_HIDDEN.format(path=path)) from None
        raise HomeError(f"cannot read {file}: {error.strerror or error}") from None
    except NotText as error:
        raise UsageError(f"{path} is {error}") from None
    text = lf_lines(data.decode("utf-8-sig"))  # as the prompt quotes it: a CRLF checkout reads the same
    redactor = Redactor(redaction_cache())
    result = redactor.redact([Piece(rel, 1, text)])[0]
    redactor.save()
    return DocumentText(rel, result.text, result.findings, cut)


@dataclass(frozen=True)
class DocumentInfo:
    """A document selection can draw on: its path in `context/`, its title, its estimated tokens."""

    path: str
    title: str
    tokens: int


def list_documents(*, home: str | Path | None = None) -> tuple[DocumentInfo, ...]:
    """Every markdown document of the home that selection indexes, by path."""
    return _again_if_changed(lambda loading: _list_documents(home, loading))


def _list_documents(home: str | Path | None, loading: _Loading) -> tuple[DocumentInfo, ...]:
    from generator.context.redact import NAMES_A_SECRET, Redactor, Shown

    library = loading.library(_home(home))
    documents = []
    naming: list[Section] = []
    for path in library.paths():
        sections = library.sections_of(path) or []
        title = sections[0].trail.split(" > ")[0] if sections else path
        documents.append(DocumentInfo(path, title, sum(section.tokens for section in sections)))
        if NAMES_A_SECRET.search(title):
            naming += sections
    # A secret in a title or a file name, as `build_context` redacts it (scanned once, then cached); and
    # in a title that names a secret, what its document gives away (`# Admin password (...)` over
    # `password: ...`). Only those documents: the first listing of a home would otherwise scan them all.
    redactor = Redactor(redaction_cache())
    shown = Shown(redactor)
    for section, result in zip(naming, redactor.redact([library.piece(s) for s in naming]), strict=True):
        shown.document(section.path, result.values)
    shown.add(name for info in documents for name in (info.path, info.title))
    redactor.save()
    return tuple(DocumentInfo(shown.own(info.path), shown(info.title, info.path), info.tokens) for info in documents)


_LEADS_OUT_OF_CONTEXT = "{path!r} leads out of the knowledge home's context/ folder (a symlink); refused"
_LEADS_TO_HIDDEN = "{path!r} leads to a hidden file or folder (a symlink to a name starting with '.'); refused"


def _inside_context(path: str, context_dir: Path) -> Path:
    """The file `path` names inside `context_dir`, or a UsageError that says why it is refused."""
    from generator.context.sections import undecodable

    outside = (
        f"{path!r} is not a document of the knowledge home: paths are relative to its context/ folder, "
        "e.g. decisions/NNNN-title.md, as search results give them"
    )
    if not path.strip():
        raise UsageError("the document path is empty; give one relative to context/, e.g. patterns.md")
    posix = PurePosixPath(path)
    if posix.is_absolute() or PureWindowsPath(path).drive or "\\" in path or "\0" in path or undecodable(path):
        raise UsageError(outside)
    if any(part == ".." or part.startswith(".") for part in posix.parts):
        raise UsageError(outside)
    try:
        root = context_dir.resolve()
        candidate = (root / posix).resolve()
        if not candidate.is_relative_to(root):
            raise UsageError(_LEADS_OUT_OF_CONTEXT.format(path=path))
        if any(part.startswith(".") for part in candidate.relative_to(root).parts):
            raise UsageError(_LEADS_TO_HIDDEN.format(path=path))
        if not candidate.exists() and len(posix.parts) > 1 and posix.parts[0] == "context":
            return _inside_context(PurePosixPath(*posix.parts[1:]).as_posix(), context_dir)  # "context/x.md" is x.md
        if not candidate.is_file():
            raise UsageError(f"no document {path!r} in {context_dir}")
    except OSError as error:  # a name too long
        raise UsageError(f"no document {path!r} in {context_dir} ({error.strerror or error})") from None
    except RuntimeError:  # a loop of links: Python before 3.13 raises this, not OSError
        raise UsageError(f"no document {path!r} in {context_dir} (a symlink loop)") from None
    return candidate


def _library(knowledge: KnowledgeHome) -> Library:
    from generator.context.documents import load_library

    return load_library(knowledge.context_dir)


def _redacted(library: Library, sections: list[Any], query: str) -> tuple[list[str], Shown, str]:
    """The sections' texts redacted, their paths and headings as a result may show them, and the
    query redacted with them: a value a section holds as a secret is redacted in the query too."""
    from generator.context.redact import QUERY, Piece, Redactor, Shown

    redactor = Redactor(redaction_cache())
    shown = Shown(redactor)
    *results, asked = redactor.redact([*(library.piece(section) for section in sections), Piece(QUERY, 1, query)])
    shown.add(name for section in sections for name in (section.path, section.trail))
    for section, result in zip(sections, results, strict=True):
        shown.document(section.path, result.values)
    redactor.save()
    return [result.text for result in results], shown, asked.text


_UNDERLINE = re.compile(r"=+|-+")


def _snippet(text: str, query: str, section: Section) -> str:
    """About SNIPPET_CHARACTERS of a section's body (its front matter and heading left out), from a
    little before the earliest place a word of the query appears."""
    from generator.context.sections import SETEXT_MAX_LINES, without_front_matter

    lines = (without_front_matter(text) if section.ordinal == 0 else text).strip("\n").split("\n")
    if section.opens_with_heading and lines and lines[0].lstrip().startswith("#"):
        lines = lines[1:]
    elif section.opens_with_heading:  # a setext heading: its text and its underline
        heading = lines[1 : SETEXT_MAX_LINES + 1]
        underline = next((at for at, line in enumerate(heading, 1) if _UNDERLINE.fullmatch(line.strip())), 0)
        lines = lines[underline + 1 :] if underline else lines
    body = " ".join(" ".join(lines).split())
    lowered = body.lower()
    found = [at for at in (lowered.find(word) for word in re.findall(r"\w{3,}", query.lower())) if at != -1]
    start = max(min(found, default=0) - SNIPPET_CHARACTERS // 4, 0)
    if start:
        start = body.find(" ", start) + 1 or start
    end = start + SNIPPET_CHARACTERS
    if end < len(body):
        space = body.rfind(" ", start, end)
        end = space if space > start else end
    return ("… " if start else "") + body[start:end].strip() + (" …" if end < len(body) else "")


def count_tokens(text: str, *, model: str | None = None, settings: Settings | None = None) -> int:
    """Claude's exact token count for `text` as one user message (needs the network and a key).

    Uses the Anthropic SDK's token-counting endpoint; the key and the model come from the same
    settings as the fill step's. Never needed for selection, which uses the offline estimate.
    """
    from generator.plumbing.extras import AI, require

    # The part first, as the re-rank checks them: without it, a key is of no use yet.
    require(AI, "counting tokens exactly (--exact-tokens)")
    config = (settings or Settings.load()).with_flags(model=model)
    key = config.key
    if not key:
        raise UsageError(f"exact token counts need {API_KEY.where_to_set()}; the estimate needs nothing")
    import anthropic

    name = config.main_model
    try:
        response = anthropic.Anthropic(api_key=key).messages.count_tokens(
            model=name, messages=[{"role": "user", "content": text}]
        )
    except anthropic.AnthropicError as error:
        raise ExternalToolError(f"counting tokens with {name} failed: {error}") from None
    return int(response.input_tokens)


def _home(home: str | Path | None, settings: Settings | None = None) -> KnowledgeHome:
    """The home: `home` when given, else the one the caller's settings (or freshly loaded ones) resolve."""
    from generator.context.home import resolve_home

    if settings is None or home:
        return resolve_home(Settings.load(home=home))
    return resolve_home(settings)


def _projects(paths: list[str]) -> list[str]:
    """The projects with a context of their own: `project-contexts/<name>.md`."""
    from generator.context.select import project_name, project_paths

    return sorted(name for name in map(project_name, project_paths(paths)) if name)

"""scaffold's Python API for context injection, the one `scaffold context` itself uses.

    import generator

    generator.classify("add a /refunds endpoint to the billing API")        # -> "api"
    generator.get_context("infra")     # core + the kind's documents, as <documents>...</documents>
    generator.prompt("roll back the 2.3 release of billing-api")   # the complete prompt

`build_context` returns everything `scaffold context --json` prints (the chosen sections with
their reasons and token estimates, what was left out, the redactions). Every function reads
the knowledge home resolved by `generator.context.home.resolve_home` (`home=` first, then
SCAFFOLD_HOME, the user config and the bundled copy) and never calls a network service.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.context.select import DEFAULT_BUDGET, Document, Ranked, Task
from generator.errors import EmptyTaskError, ExternalToolError, UnknownKindError, UsageError
from generator.settings import Settings, bundled_root

__all__ = [
    "DEFAULT_BUDGET",
    "ContextResult",
    "Document",
    "Task",
    "build_context",
    "classify",
    "count_tokens",
    "get_context",
    "prompt",
]

if TYPE_CHECKING:
    from generator.context.home import KnowledgeHome
    from generator.context.kinds import ContextMap
    from generator.context.redact import Finding


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


def classify(task: str, *, home: str | Path | None = None) -> str:
    """The kind of a free-text task by context.yml's keyword rules (its default kind if none match)."""
    from generator.context.kinds import classify as classify_text

    cmap = _context_map(_home(home).context_dir)
    return classify_text(task, cmap)[0]


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
    _with_task: bool = True,
) -> ContextResult:
    """Select, redact and assemble the context for a task (see `generator.context`).

    `task` is free text or a `Task` (`Task.from_answers(answers)` for a project being
    generated). `kind` skips classification; `project` adds `project-contexts/<project>.md`
    (a name with no such file is warned about, listing the projects that have one);
    `budget` caps the whole prompt in estimated tokens.
    """
    from generator.context.assemble import assemble, render_block, render_documents, render_frame
    from generator.context.documents import cache_root, load_library
    from generator.context.kinds import classify as classify_text
    from generator.context.kinds import matching_kinds, mentioned_names
    from generator.context.redact import Piece, Redacted, Redactor
    from generator.context.select import PROJECT_FOLDER, Pick, select
    from generator.context.tokens import estimate_tokens

    if not isinstance(task, Task):
        task = Task(task)
    task = Task(task.text, kind or task.kind, project or task.project, task.answers)
    if isinstance(budget, bool) or not isinstance(budget, int) or budget <= 0:
        raise UsageError(f"the budget must be a positive number of tokens, not {budget!r}")
    if _with_task and not task.text.strip():
        raise EmptyTaskError(
            'the task text is empty; describe the task, e.g. scaffold context "add a /refunds endpoint"'
        )

    knowledge = _home(home, settings)
    cmap = _context_map(knowledge.context_dir)
    library = load_library(knowledge.context_dir)
    projects = _projects(library.paths())
    named = mentioned_names(task.text, projects)
    project_reason = "given" if task.project else ""
    if not task.project and len(named) == 1:
        task = Task(task.text, task.kind, named[0], task.answers)
        project_reason = "named in the task"
    also: list[str] = []
    if task.kind:
        if task.kind not in cmap.kinds:
            raise UnknownKindError(f"unknown kind {task.kind!r}; {cmap.path} defines: {', '.join(cmap.kinds)}")
        chosen_kind, kind_reason = task.kind, "given"
    else:
        chosen_kind, words = classify_text(task.text, cmap, projects)
        kind_reason = f"keywords: {', '.join(words)}" if words else f"no keyword matched; default kind '{chosen_kind}'"
        also = [name for name in matching_kinds(task.text, cmap, projects) if name != chosen_kind]

    notes = [note for note in (knowledge.note(),) if note]
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
    warnings = list(library.warnings)
    if project and project not in projects:
        listing = f"known projects: {', '.join(projects)}" if projects else f"{PROJECT_FOLDER}/ has none"
        warnings.append(f"unknown project {project!r}: no {PROJECT_FOLDER}/{project}.md ({listing})")

    redactor = Redactor(cache_root() / "redactions.json")
    task_text = task.text
    findings: list[Finding] = []

    # Sections are scanned for secrets only once chosen (scanning is slow), and a redaction
    # can lengthen a section or the task: select again with the true sizes until they hold.
    true_cost: dict[tuple[str, int], int] = {}
    redacted: dict[tuple[str, int], Redacted] = {}

    def cost(pick: Pick) -> int:
        section = pick.section
        if section.key in true_cost:
            return true_cost[section.key]
        return estimate_tokens(render_block(section.path, section.trail, "")) + section.tokens

    task_pending = _with_task
    while True:
        if _with_task:
            head, tail = render_frame(task_text, chosen_kind, task.project)
        else:
            head, tail = "<documents>\n", "</documents>\n"
        frame_tokens = estimate_tokens(head) + estimate_tokens(tail)
        selection = select(task, chosen_kind, cmap, library, budget, frame_tokens, cost, _with_task, also)
        fresh = [pick for pick in selection.picks if pick.section.key not in redacted]
        pieces = [Piece(p.section.path, p.section.line, library.read(p.section)) for p in fresh]
        results = redactor.redact(pieces + ([Piece("<task>", 1, task.text)] if task_pending else []))
        grew = False
        if task_pending:
            task_result = results.pop()
            findings.extend(task_result.findings)
            grew = estimate_tokens(task_result.text) > estimate_tokens(task_text)
            task_text, task_pending = task_result.text, False
        for pick, result in zip(fresh, results, strict=True):
            redacted[pick.section.key] = result
            actual = estimate_tokens(render_block(pick.section.path, pick.section.trail, result.text))
            grew = grew or actual > cost(pick)
            true_cost[pick.section.key] = actual
        if not grew:
            break
    redactor.save()
    if _with_task:
        head, tail = render_frame(task_text, chosen_kind, task.project)

    blocks: list[str] = []
    documents: list[Document] = []
    for pick in selection.picks:
        section = pick.section
        blocks.append(render_block(section.path, section.trail, redacted[section.key].text))
        documents.append(Document(section.path, section.trail, true_cost[section.key], pick.reason))
        findings.extend(redacted[section.key].findings)

    text = assemble(head, blocks, tail)
    return ContextResult(
        kind=chosen_kind,
        kind_reason=kind_reason,
        documents=tuple(documents),
        omitted=selection.omitted,
        redactions=tuple(findings),
        tokens=estimate_tokens(text),
        budget=budget,
        prompt=text,
        context=render_documents(blocks),
        home=knowledge.root,
        warnings=tuple(warnings) + selection.warnings,
        notes=tuple(notes),
        cut=selection.cut,
        ranking=selection.ranking,
        also_kinds=tuple(also),
        project=task.project,
        project_reason=project_reason,
    )


def count_tokens(text: str, *, model: str | None = None, settings: Settings | None = None) -> int:
    """Claude's exact token count for `text` as one user message (needs the network and a key).

    Uses the Anthropic SDK's token-counting endpoint; the key and the model come from the same
    settings as the fill step's. Never needed for selection, which uses the offline estimate.
    """
    config = (settings or Settings.load()).with_flags(model=model)
    key = config.key
    if not key:
        raise UsageError(
            "exact token counts need ANTHROPIC_API_KEY (or anthropic_api_key in the user config); "
            "the estimate needs nothing"
        )
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
    from generator.context.select import PROJECT_FOLDER

    prefix = PROJECT_FOLDER + "/"
    names = (path.removeprefix(prefix).rpartition(".")[0] for path in paths if path.startswith(prefix))
    return sorted(name for name in names if name and "/" not in name and name.lower() != "readme")


def _context_map(context_dir: Path) -> ContextMap:
    """The home's context.yml, or the bundled one if the home has none."""
    from generator.context.kinds import MAP_FILE, load_map

    return load_map(context_dir / MAP_FILE, fallback=bundled_root() / "context" / MAP_FILE)

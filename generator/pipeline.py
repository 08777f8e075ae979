"""The core pipeline: questionnaire -> render -> context -> fill -> validate -> result.

`new_project`, `fill_project`, `update_project` and `check_project` are scaffold: the CLI,
the Python library and CI jobs all call them. They take plain values, return the records of
`generator.results`, report progress only through the `Reporter` they are given, and raise
`ScaffoldError`s with one-line messages. They never print, never read `sys.argv`, and import
Copier and the Anthropic SDK only when a stage needs them.

An interrupt that lands after a commit point raises `Interrupted(done)`, where `done` is the
result that exists at that moment (a `NewResult`, a `FillResult`, an `UpdateResult`).
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.errors import AnswerError, Interrupted, ScaffoldError, UsageError
from generator.plumbing import gitutil
from generator.plumbing.transaction import Transaction
from generator.results import (
    Call,
    CheckResult,
    FillOffer,
    FillPreview,
    FillResult,
    FillRun,
    GateOff,
    NewResult,
    Progress,
    Rendered,
    Reporter,
    SilentReporter,
    TemplateCatalog,
    UpdateResult,
)
from generator.settings import API_KEY, Settings

if TYPE_CHECKING:
    from generator.fill.plan import Plan
    from generator.fill.prepare import Prepared
    from generator.template.questionnaire import Asker
    from generator.template.render import RenderRequest


@dataclasses.dataclass(frozen=True)
class FillRequest:
    """How to fill: the main model (default: the settings'), whether the fills must pass the project's own
    checks (`verify`: its `make check`, or `verify_command` instead), and whether to ask the reporter's
    `confirm_fill` before spending."""

    model: str | None = None
    verify: bool = True
    verify_command: str | None = None
    confirm: bool = False
    # Whether the model re-ranks the context first (one more call); None: the settings' (SCAFFOLD_RERANK,
    # which leaves it on for a fill).
    rerank: bool | None = None


def _settings(
    settings: Settings | None,
    *,
    templates: str | Path | None = None,
    model: str | None = None,
    rerank: bool | None = None,
) -> Settings:
    """The caller's settings, with this call's own choices on top (as flags); loaded when not given."""
    if settings is None:
        return Settings.load(templates=templates, model=model, rerank=rerank)
    return settings.with_flags(templates=templates, model=model, rerank=rerank)


# --- new ----------------------------------------------------------------------------------------


def _render_request(
    template: str,
    name: str,
    *,
    dest: str | Path | None,
    data: Mapping[str, Any] | None,
    defaults: bool,
    force: bool,
    git: bool,
    trust: bool,
    config: Settings,
    asker: Asker | None = None,
) -> RenderRequest:
    """Check everything given up front, before anything is rendered or written."""
    from generator.template import questionnaire, render, source

    name = questionnaire.check_name(name)
    raw = dict(data or {})
    if raw.get("project_name", name) != name:
        raise AnswerError(
            f"-d project_name={raw['project_name']} contradicts NAME {name!r}; give the name once, as NAME"
        )
    raw.pop("template", None)
    # resolve() folds "..": a destination is always named by its real, final folder.
    target = real_path(Path(dest) if dest is not None else Path(name))
    src = source.resolve(config)
    if git or src.root is None or (src.root / ".git").exists():
        # Copier reads git sources with git; scaffold commits with it. Say so once, before anything else.
        gitutil.require_git()
    with src.readable() as root:
        repo = source.load_repo_config(root)
        # The template's own rules (its validators, the project-name rule among them) come first: a bad name
        # whose folder happens to exist is a bad name, not a destination problem.
        answers, questions = questionnaire.check_template_answers(repo, template, {**raw, "project_name": name})
        # Then the destination, before anyone is asked anything.
        render.check_destination(target, force)
        if not defaults:
            if asker is not None:
                answers = questionnaire.ask_questions(repo, template, answers, asker)
            else:
                questionnaire.require_answers(answers, questions, template)
    return render.RenderRequest(
        source=src,
        template=template,
        dest=target,
        answers=answers,
        # Everything is answered by now (or left to the defaults): Copier never prompts.
        defaults=True,
        force=force,
        git=git,
        trust=trust,
    )


def new_project(
    template: str,
    name: str,
    *,
    dest: str | Path | None = None,
    data: Mapping[str, Any] | None = None,
    defaults: bool = False,
    force: bool = False,
    git: bool = True,
    trust: bool = False,
    templates: str | Path | None = None,
    fill: FillRequest | None = None,
    settings: Settings | None = None,
    reporter: Reporter | None = None,
    asker: Asker | None = None,
) -> NewResult:
    """Create project `name` from `template` at `dest` (default ./NAME), then fill it when `fill` is given.

    `data` answers questions up front; `defaults` takes the template's default for the rest
    (without it, and without a terminal, every question must be answered in `data`). `force`
    renders into a non-empty folder; `git=False` skips `git init` and the first commit;
    `trust` allows templates that run tasks. Without `defaults`, `asker` (e.g. the CLI's terminal
    prompts) is asked every question `data` does not answer. A fill that fails leaves the project
    with its fallbacks and the error in `NewResult.fill_error`.
    """
    from generator.template import render

    config = _settings(
        settings, templates=templates, model=fill.model if fill else None, rerank=fill.rerank if fill else None
    )
    report = reporter or SilentReporter()
    request = _render_request(
        template,
        name,
        dest=dest,
        data=data,
        defaults=defaults,
        force=force,
        git=git,
        trust=trust,
        config=config,
        asker=asker,
    )
    transaction = Transaction()
    rendered: Rendered | None = None
    try:
        with transaction:
            rendered = render.generate(request, transaction)
            report.rendered(rendered)
            if fill is None:
                return NewResult(rendered, pending=_pending(rendered.path))
            return _fill_new(rendered, fill, config, report, ask=fill.confirm)
    except Interrupted as interrupt:
        if rendered is None and isinstance(interrupt.done, Rendered):
            rendered = interrupt.done
        if rendered is None:
            raise
        fill_result = interrupt.done if isinstance(interrupt.done, FillResult) else None
        pending = _pending(rendered.path, interrupted=True)
        raise Interrupted(NewResult(rendered, fill=fill_result, pending=pending)) from None


def _pending(project: Path, *, interrupted: bool = False) -> int:
    """Regions still on their fallbacks; -1 when that cannot be read."""
    from generator.fill.plan import make_plan

    try:
        return len(make_plan(project).todo)
    except (ScaffoldError, OSError):
        return -1
    except KeyboardInterrupt:
        if not interrupted:
            raise
        return -1  # a second Ctrl-C while reporting the first must not lose the first one's news


def _fill_new(
    rendered: Rendered, request: FillRequest, config: Settings, reporter: Reporter, *, ask: bool
) -> NewResult:
    """The fill step of `new_project`: skip without a key, never lose the rendered project."""
    from generator.fill.plan import make_plan

    try:
        plan = make_plan(rendered.path)
        if not plan.todo:
            return NewResult(rendered, fill_skipped="no-regions")
        if not config.key:
            return NewResult(rendered, fill_skipped="no-api-key", pending=len(plan.todo))
        # Just rendered: nothing of the user's can be in these files, even if a parent repo sees them untracked.
        run = _run_fill(plan, request, config, reporter, ask=ask, git=rendered.commit is not None, fresh=True)
    except ScaffoldError as error:
        return NewResult(rendered, fill_error=error, pending=_pending(rendered.path))
    if run.result is None:
        return NewResult(rendered, fill_skipped=run.skipped, pending=len(plan.todo))
    return NewResult(rendered, fill=run.result, pending=sum(not region.filled for region in run.result.regions))


def preview_new(
    template: str,
    name: str,
    *,
    dest: str | Path | None = None,
    data: Mapping[str, Any] | None = None,
    defaults: bool = False,
    force: bool = False,
    trust: bool = False,
    templates: str | Path | None = None,
    model: str | None = None,
    settings: Settings | None = None,
    asker: Asker | None = None,
    rerank: bool | None = None,
) -> FillPreview | None:
    """What `new_project(..., fill=...)` would send and cost (`--pretend`): renders into a throwaway
    folder, keeps nothing, calls nothing. None when the template has no regions."""
    from generator.fill.plan import make_plan
    from generator.fill.prepare import prepare
    from generator.template import render

    config = _settings(settings, templates=templates, model=model, rerank=rerank)
    request = _render_request(
        template,
        name,
        dest=dest,
        data=data,
        defaults=defaults,
        force=force,
        git=False,
        trust=trust,
        config=config,
        asker=asker,
    )
    with tempfile.TemporaryDirectory(prefix="scaffold-pretend-") as scratch:
        throwaway = Path(scratch) / request.dest.name
        # No `with` on this transaction: an interrupt stays a plain one (the throwaway folder goes with it).
        render.generate(dataclasses.replace(request, dest=throwaway, git=False, force=False), Transaction())
        prepared = prepare(make_plan(throwaway), config)
        if not prepared.plan.todo:
            return None
        # The preview names the real destination, not the throwaway folder.
        return _preview(prepared, config, project=request.dest)


# --- fill ---------------------------------------------------------------------------------------


def fill_project(
    path: str | Path,
    *,
    refill: Sequence[str] = (),
    request: FillRequest | None = None,
    settings: Settings | None = None,
    reporter: Reporter | None = None,
) -> FillRun:
    """Fill the regions of the generated project at `path` that are not filled yet (and `refill`'s).

    Needs an API key in the settings. Files with uncommitted changes are refused; the fills are
    written all together or not at all, and committed on their own.
    """
    from generator.fill.plan import make_plan

    request = request or FillRequest()
    config = _settings(settings, model=request.model, rerank=request.rerank)
    project = real_path(path)
    plan = make_plan(project, [refill] if isinstance(refill, str) else refill)
    if not plan.todo:
        return FillRun(project, None, "no-regions")
    if not config.key:
        raise UsageError(
            f"scaffold fill needs an Anthropic API key: set {API_KEY.where_to_set()}; --pretend shows "
            "what would be sent without one"
        )
    return _run_fill(plan, request, config, reporter or SilentReporter(), ask=request.confirm)


def preview_fill(
    path: str | Path,
    *,
    refill: Sequence[str] = (),
    model: str | None = None,
    settings: Settings | None = None,
    rerank: bool | None = None,
) -> FillPreview | None:
    """What `fill_project` would send and cost; None when every region is filled. Needs no key."""
    from generator.fill.plan import make_plan
    from generator.fill.prepare import prepare

    config = _settings(settings, model=model, rerank=rerank)
    plan = make_plan(real_path(path), refill)
    if not plan.todo:
        return None
    return _preview(prepare(plan, config), config)


def _preview(prepared: Prepared, config: Settings, project: Path | None = None) -> FillPreview:
    from generator.context.rerank import expected_usage

    plan = prepared.plan
    asked = prepared.rerank_request
    return FillPreview(
        project=project or plan.project,
        todo=tuple((region.key, region.instruction) for region in plan.todo),
        filled=tuple(region.key for region in plan.filled),
        context_tokens=dict(prepared.context_tokens),
        estimate=prepared.first_call_estimate(),
        model=config.main_model,
        escalation=config.escalation,
        context_warnings=prepared.warnings,
        rerank=asked is not None,
        rerank_estimate=expected_usage(asked) if asked and not prepared.rerank_cached else None,
        rerank_cached=prepared.rerank_cached,
        rerank_candidates=tuple(candidate.shown_path or candidate.path for candidate in asked.candidates)
        if asked
        else (),
    )


def _run_fill(
    plan: Plan,
    request: FillRequest,
    config: Settings,
    reporter: Reporter,
    *,
    ask: bool,
    git: bool = True,
    fresh: bool = False,
) -> FillRun:
    from generator.context.rerank import expected_usage
    from generator.fill import ladder, regenerate, verify
    from generator.fill.client import client_options
    from generator.fill.prepare import prepare
    from generator.plumbing.extras import AI, require

    key = config.key or ""
    # Every setting is checked before the question: a bad one must not surface after the user said yes.
    require(AI, "the AI fill step")
    config.check_ai()
    gate = verify.gate_for(plan.project, request.verify_command or config.verify_command) if request.verify else None
    gate_off: GateOff | None = None if gate else ("no-command" if request.verify else "not-asked")
    if not fresh:
        ladder.check_tree(plan)
    prepared = prepare(plan, config)
    estimate = prepared.first_call_estimate()
    client = client_options(config, key, expected_output=estimate.output)
    # No re-rank when there is nothing ranked to choose among; no call when its answer is in the cache.
    rerank = prepared.rerank_request
    call = rerank if rerank is not None and not prepared.rerank_cached else None
    if ask:
        cost = (estimate + expected_usage(call) if call else estimate).cost(config.main_model)
        offer = FillOffer(plan.project, len(plan.todo), config.main_model, cost, prepared.warnings, bool(call))
        if not reporter.confirm_fill(offer):
            return FillRun(plan.project, None, "declined")
    if rerank is not None:
        # The model re-ranks the context (SCAFFOLD_RERANK) only now: it is a call, and the user has agreed.
        if call is not None:
            reporter.progress(Progress("rerank", config.main_model))
        prepared = prepare(plan, config, rerank=True)
    options = ladder.FillOptions(
        model=config.main_model,
        escalation=config.escalation,
        client=client,
        gate=gate,
        gate_off=gate_off,
        regenerate=regenerate.regenerate_for(plan.project),
        commit=git,
        # Outside git nothing else could bring back what the fill overwrites (a user's own region code).
        keep_previous=not fresh and plan.repo is None,
    )
    transaction = Transaction()
    with transaction:
        result = ladder.fill(plan, prepared.documents, prepared.context_hashes, options, reporter, transaction)
    result.context_warnings = prepared.warnings
    result.context_notes = prepared.notes
    # The re-rank's call first, as it was made: the summary's calls and cost count it.
    result.calls[:0] = [
        Call(model, "context re-rank", (), usage, error or None) for model, usage, error in prepared.calls
    ]
    return FillRun(plan.project, result)


# --- update and check ---------------------------------------------------------------------------


def update_project(
    path: str | Path = ".",
    *,
    data: Mapping[str, Any] | None = None,
    defaults: bool = True,
    trust: bool = False,
    asker: Asker | None = None,
    reask: bool = False,
    source: str | None = None,
    from_version: str | None = None,
    settings: Settings | None = None,
) -> UpdateResult:
    """Update the generated project at `path` to its template's newest version with Copier.

    The project must be a clean git work tree. Only questions new in that version (or whose stored
    answer it rejects) are asked, through `asker` when `defaults` is False (all of them with
    `reask`); otherwise they take `data` or their defaults. `template` and `project_name` never
    change. `source` repoints the project at another copy of its template source (recorded in its
    answers file, as a commit); `from_version` records the version it really came from when the
    recorded one is missing at the source. Conflicts do not raise: they are listed in the result
    (Copier itself exits 0 on them).
    """
    from generator.template import update

    _settings(settings)  # a broken user config fails here, before anything changes
    gitutil.require_git()
    request = update.UpdateRequest(
        answers=dict(data or {}),
        defaults=defaults,
        trust=trust,
        asker=asker,
        reask=reask,
        source=source,
        from_version=from_version,
    )
    if reask and (asker is None or defaults):
        raise UsageError("--reask needs a terminal to ask on (and no --defaults)")
    transaction = Transaction()
    with transaction:
        return update.update(real_path(path), request, transaction)


def check_project(path: str | Path = ".", *, settings: Settings | None = None) -> CheckResult:
    """Where the generated project at `path` stands: its template and version, the newest version at
    its source, whether it is behind, regions on their fallbacks, fills whose context changed since."""
    from generator.template import check

    gitutil.require_git()
    return check.check(real_path(path), _settings(settings))


def find_projects(root: str | Path) -> list[Path]:
    """The generated projects under `root`, for `check_project` over a whole folder of repositories."""
    from generator.template import check

    return check.find_projects(real_path(root))


# What the listing shows for answers only the command line gives.
_NAMED = {"project_name": "NAME"}


def list_templates(
    *, templates: str | Path | None = None, questions: bool = True, settings: Settings | None = None
) -> TemplateCatalog:
    """The templates of the template source (`templates`, else the settings'), in the order it offers
    them, each with the questions it asks (the shared ones included, `template` itself left out) and
    their defaults. A remote source is cloned shallowly for the read; nothing is rendered."""
    from generator.results import QuestionInfo, TemplateEntry
    from generator.template import source

    src = source.resolve(_settings(settings, templates=templates))
    entries: list[TemplateEntry] = []
    with src.readable() as root:
        config = source.load_repo_config(root)
        for info in config.templates:
            asked = config.questions(info.name, _NAMED).values() if questions else ()
            # Defaults as Copier computes them when only NAME is given (raw text where they cannot be rendered).
            defaults = config.default_answers(info.name, _NAMED) if questions else {}
            entries.append(
                TemplateEntry(
                    info.name,
                    info.description,
                    tuple(
                        QuestionInfo(q.name, q.type, defaults.get(q.name, q.default), q.help, tuple(q.choices))
                        for q in asked
                        if q.name != "template"
                    ),
                )
            )
    head = None if src.origin == "checkout" else src.head
    return TemplateCatalog(src.shown, src.origin_label, src.rendered, tuple(entries), head=head)


def real_path(path: str | Path) -> Path:
    """`path` as given on a command line (`~` expanded), resolved; a loop of links is a UsageError
    (Python before 3.13 raises RuntimeError for one, not OSError), and so is a link to nothing, which
    would otherwise be reported, or written, as its target."""
    given = Path(path).expanduser()
    try:
        real = given.resolve()
    except RuntimeError:
        raise UsageError(f"{path} is a loop of symlinks; point it at a folder") from None
    try:
        broken = given.is_symlink() and not real.exists()
    except OSError:  # a name too long: what reads it next says so
        broken = False
    if broken:
        raise UsageError(f"{path} is a symlink to {real}, which does not exist; remove it or point it at a folder")
    return real

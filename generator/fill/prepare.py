"""Prepare a fill: the plan with the team's context its prompt carries, and the client's options.

The context is selected with the template kind, the answers and the description as the task,
exactly as `scaffold context` would select it.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.context.rerank import RERANKED, Probe, RerankRequest
from generator.errors import UnknownKindError
from generator.fill.plan import Plan
from generator.fill.pricing import Usage, estimate
from generator.fill.prompt import first_message, system_blocks
from generator.settings import Settings


@dataclass(frozen=True)
class Prepared:
    plan: Plan
    documents: str
    context_hashes: dict[str, str]
    context_tokens: dict[str, int]
    # What building the context warned about (a listed document missing, a misspelt context.yml name).
    warnings: tuple[str, ...] = ()
    # Of its notes, those the fill's summary shows: the model's re-rank, and what it cost.
    notes: tuple[str, ...] = ()
    # (model, usage, error) of the calls building it made (the re-rank), for the fill's accounts.
    calls: tuple[tuple[str, Usage, str], ...] = ()
    # Unless re-ranked: the re-rank's request as it would be sent, redacted; None when there would be none
    # (nothing ranked to choose among). `rerank_cached`: its answer is in the cache, asking makes no call.
    rerank_request: RerankRequest | None = None
    rerank_cached: bool = False

    def first_call_estimate(self) -> Usage:
        system = "".join(block["text"] for block in system_blocks(self.documents))  # exactly what is sent
        return estimate(system, first_message(self.plan), [r.body for r in self.plan.todo])


def prepare(plan: Plan, config: Settings, rerank: bool = False) -> Prepared:
    """The plan with the context its prompt carries; with `rerank`, as the model re-ranks it
    (`generator.context.rerank`: a call, so only once the user agreed to the fill). Without, BM25's,
    and when the settings have the fill re-rank, the request it would send (`Prepared.rerank_request`)."""
    from generator.context.api import build_context
    from generator.context.select import Task

    if not plan.todo:
        return Prepared(plan, "", {}, {})
    text = str(plan.answers.get("description") or "").strip() or f"a new {plan.template} named {plan.project.name}"
    task = Task.from_answers(plan.answers, text=text)
    prober = _probe(config) if not rerank and config.rerank(fill=True) else None
    how = prober or rerank
    unmapped: tuple[str, ...] = ()
    try:
        context = build_context(task, settings=config, rerank=how)
    except UnknownKindError:
        # A template of the team's own that context.yml does not map yet: classify its description instead.
        context = build_context(Task(text, None, task.project, task.answers), settings=config, rerank=how)
        unmapped = (
            f"context.yml has no kind '{plan.template}' (this project's template), so the fill's context is for "
            f"kind '{context.kind}', classified from its description; add a '{plan.template}' kind to context.yml",
        )
    tokens: dict[str, int] = {}
    for document in context.documents:
        tokens[document.path] = tokens.get(document.path, 0) + document.tokens
    # The digests of what the prompt's sections were read from, not of the files now: an edit saved
    # since then is a change `scaffold check` must report.
    reranked = tuple(note for note in context.notes if note.startswith(RERANKED))
    asked = context.rerank_request if prober else None
    cached = bool(prober and asked and prober.cached(asked))
    return Prepared(
        plan,
        context.context,
        dict(context.digests),
        tokens,
        unmapped + tuple(context.warnings),
        reranked,
        context.calls,
        asked,
        cached,
    )


def _probe(config: Settings) -> Probe:
    """A probe of the re-rank the fill would ask for, told which answers the model's cache holds."""
    from generator.context.rerank import Answers, cache_dir

    return Probe(Answers(cache_dir(), config.main_model))

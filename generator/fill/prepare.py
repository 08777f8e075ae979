"""The fill step as the CLI runs it: prepare (plan + context), estimate, confirm, run.

`prepare` reads the project and selects the team's context (with the template kind, the
answers and the description as the task, exactly as `scaffold context` would); `run`
calls the ladder in `run.py` with the settings resolved once, here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from generator import settings
from generator.errors import UnknownKindError, UsageError
from generator.fill.client import ClientOptions
from generator.fill.plan import Plan
from generator.fill.pricing import Usage, estimate, format_cost
from generator.fill.prompt import first_message, system_blocks
from generator.fill.record import sha256


@dataclass(frozen=True)
class Models:
    main: str
    escalation: str


@dataclass(frozen=True)
class Prepared:
    plan: Plan
    documents: str
    context_hashes: dict[str, str]
    context_tokens: dict[str, int]

    def first_call_estimate(self) -> Usage:
        system = "".join(block["text"] for block in system_blocks(self.documents))  # exactly what is sent
        return estimate(system, first_message(self.plan), [r.body for r in self.plan.todo])


def models(flag: str | None) -> Models:
    return Models(settings.model(flag), settings.escalation_model())


def api_key() -> str | None:
    """ANTHROPIC_API_KEY, else the user config's anthropic_api_key; never printed."""
    return settings.API_KEY.resolve(None).value


MAX_RETRIES = 10
_FALSE = {"0", "false", "no", "off"}
_TRUE = {"1", "true", "yes", "on"}
T = TypeVar("T")


def client_options(key: str) -> ClientOptions:
    timeout = _parsed(settings.AI_TIMEOUT, _seconds, "a number of seconds above 0", settings.DEFAULT_AI_TIMEOUT)
    count = f"a whole number from 0 to {MAX_RETRIES}"
    retries = _parsed(settings.AI_RETRIES, _retry_count, count, settings.DEFAULT_AI_RETRIES)
    stream = _parsed(settings.AI_STREAM, _switch, "true or false (1 or 0)", True)
    return ClientOptions(api_key=key, timeout=timeout, retries=retries, stream=stream)


def _parsed(setting: settings.Setting, parse: Callable[[str], T | None], wanted: str, default: T) -> T:
    """The setting's value, parsed; a value `parse` rejects (None) is an error naming where it was set."""
    resolved = setting.resolve(None)
    if resolved.value is None:
        return default
    value = parse(resolved.value.strip())
    if value is None:
        where = f"${setting.env}" if resolved.origin == "env" else f"{setting.config_key} in the user config"
        raise UsageError(f"{where} must be {wanted}, not {resolved.value!r}")
    return value


def _seconds(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and value > 0 else None


def _retry_count(text: str) -> int | None:
    return int(text) if text.isdigit() and int(text) <= MAX_RETRIES else None


def _switch(text: str) -> bool | None:
    lowered = text.lower()
    return lowered in _TRUE if lowered in _FALSE | _TRUE else None


def prepare(plan: Plan) -> Prepared:
    """The plan with the context its prompt carries."""
    from generator.context.api import build_context
    from generator.context.select import Task

    if not plan.todo:
        return Prepared(plan, "", {}, {})
    text = str(plan.answers.get("description") or "").strip() or f"a new {plan.template} named {plan.project.name}"
    task = Task.from_answers(plan.answers, text=text)
    try:
        context = build_context(task)
    except UnknownKindError:
        # A template of the team's own that context.yml does not map yet: classify its description instead.
        context = build_context(Task(text, None, task.project, task.answers))
    folder = context.home / "context"
    hashes: dict[str, str] = {}
    tokens: dict[str, int] = {}
    for document in context.documents:
        tokens[document.path] = tokens.get(document.path, 0) + document.tokens
        if document.path not in hashes and (folder / document.path).is_file():
            hashes[document.path] = sha256((folder / document.path).read_bytes())
    return Prepared(plan, context.context, hashes, tokens)


def _short(text: str, width: int = 100) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def pretend_lines(prepared: Prepared, chosen: Models) -> list[str]:
    """What --pretend prints: regions, documents, estimated tokens and cost; no call is made."""
    plan = prepared.plan
    lines = [f"Would fill {len(plan.todo)} region{'s' * (len(plan.todo) != 1)} of {plan.project}:"]
    lines += [f"  {region.key}: {_short(region.instruction or 'no instruction')}" for region in plan.todo]
    if plan.filled:
        lines.append(f"Already filled (use --refill ID to redo): {', '.join(r.key for r in plan.filled)}")
    lines.append("Context documents in the cached system prompt (estimated tokens):")
    lines += [f"  {path}  {count:,}" for path, count in prepared.context_tokens.items()]
    usage = prepared.first_call_estimate()
    lines.append(
        f"Estimated first call: {usage.cache_write:,} tokens of system prompt (written to the cache), "
        f"{usage.input:,} of project, about {usage.output:,} output tokens."
    )
    for model in dict.fromkeys([chosen.main, chosen.escalation]):
        role = "main model" if model == chosen.main else "escalation, only for regions that fail"
        lines.append(f"  {model} ({role}): {format_cost(usage.cost(model))} per call")
    lines.append("No request was made and nothing was written (--pretend).")
    return lines

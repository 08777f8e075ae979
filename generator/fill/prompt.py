"""The requests of a fill run: a cached system prefix, a user message, a JSON schema.

The system prompt is the role block, then the team's selected context documents; the
last block carries `cache_control`, so the first call writes the prefix to the cache and
the repair and escalation calls, whose system prompt is byte-identical, read it back.
The user message carries the project; the schema asks for exactly the regions wanted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from generator.fill.plan import Plan
from generator.fill.regions import Region, bodies_by_file, language_of, read_text, splice

ROLE = """\
You fill the declared regions of a software project that was just generated from the team's template.

Each region sits between a `scaffold:fill ID INSTRUCTION` comment and a `scaffold:end ID` comment. The
template put a working fallback body there; replace it with code written for this project, following the
instruction, the project's answers and description, and the team's documents below (their patterns,
architecture and style win over your habits).

Rules:
- Answer with a JSON object: one property per requested region, named "<relative/path>#<region id>", whose
  value is the exact text that goes between the region's two marker lines: whole lines, with their
  indentation, in the same form as the fallback body shown. Never include the marker lines themselves.
- Regions depend on each other: names one region defines and another uses must match, across files.
  Code outside the regions stays as it is, so use only the names, imports and dependencies it provides or
  that your regions add.
- Every file must stay valid: it is compiled, linted (ruff, shellcheck), parsed (HCL, YAML, JSON, TOML)
  and its tests run. Prefer small, plain, well-tested code to clever code. Never add secrets.
"""


def system_blocks(documents: str) -> list[dict[str, Any]]:
    """The system prompt as text blocks, the last one marked for the prompt cache."""
    return [
        {"type": "text", "text": ROLE},
        {
            "type": "text",
            "text": "The team's documents selected for this project:\n\n" + documents,
            "cache_control": {"type": "ephemeral"},
        },
    ]


def output_schema(keys: Sequence[str]) -> dict[str, Any]:
    """One required string property per region key, nothing else."""
    return {
        "type": "object",
        "properties": {key: {"type": "string"} for key in keys},
        "required": list(keys),
        "additionalProperties": False,
    }


def output_config(keys: Sequence[str]) -> dict[str, Any]:
    return {"format": {"type": "json_schema", "schema": output_schema(keys)}}


def _answers(plan: Plan) -> str:
    public = {k: v for k, v in plan.answers.items() if not k.startswith("_")}
    return yaml.safe_dump(public, sort_keys=True, allow_unicode=True).strip()


def _file_block(path: str, text: str, language: str) -> str:
    return f'<file path="{path}" language="{language}">\n{text.rstrip()}\n</file>'


def _region_list(regions: Sequence[Region]) -> str:
    lines = []
    for region in regions:
        where = (
            f"lines {region.body_line}-{region.end_line - 1}"
            if region.body
            else f"empty, after line {region.body_line - 1}"
        )
        lines.append(f"- {region.key} ({where}): {region.instruction or 'no instruction'}")
    return "\n".join(lines)


def _project_text(plan: Plan, texts: Mapping[str, str]) -> str:
    files = "\n\n".join(_file_block(path, text, language_of(path, text)) for path, text in texts.items())
    return (
        f'<project template="{plan.template}" path="{plan.project.name}">\n'
        f"<answers>\n{_answers(plan)}\n</answers>\n\n"
        "<tree>\n" + "\n".join(plan.tree) + "\n</tree>\n\n"
        f"<files>\n{files}\n</files>\n</project>"
    )


def current_texts(plan: Plan, candidates: Mapping[str, str] | None = None) -> dict[str, str]:
    """The text of each file that holds regions to fill, with `candidates` spliced in."""
    grouped = bodies_by_file(candidates or {})
    texts: dict[str, str] = {}
    for path in plan.files:
        text = read_text(plan.project / path)
        texts[path] = splice(text, path, grouped[path]) if path in grouped else text
    return texts


def first_message(plan: Plan) -> str:
    """The user message of the first call: the project, then the regions to fill."""
    return (
        _project_text(plan, current_texts(plan))
        + "\n\nFill these regions (the instruction follows each key; the current body in the file is the "
        "template's working fallback, or the team's own version of it):\n"
        + _region_list(plan.todo)
        + "\n\nAnswer with the JSON object only."
    )


def repair_message(
    plan: Plan, accepted: Mapping[str, str], failing: Mapping[str, tuple[str | None, Sequence[str]]]
) -> str:
    """A repair call: the project with the accepted fills in place, each failing region's attempt and problems."""
    regions = [r for r in plan.todo if r.key in failing]
    parts = [
        _project_text(plan, current_texts(plan, accepted)),
        "\n\nThe earlier attempt failed for these regions: its answer did not pass the checks, or no usable "
        "answer came back (the problems are listed under each region; line numbers count lines of the file with "
        "the attempt in place). The files above hold the fills that passed; the failing regions still show the "
        "template's fallback. Write the failing regions again, fixing every problem listed, and keep them "
        "consistent with the rest.\n",
    ]
    for region in regions:
        attempt, problems = failing[region.key]
        parts.append(f'\n<region key="{region.key}">\ninstruction: {region.instruction or "none"}\nproblems:\n')
        parts.extend(f"- {problem}\n" for problem in problems)
        if attempt is not None:
            parts.append(f"previous attempt:\n<attempt>\n{attempt.rstrip()}\n</attempt>\n")
        parts.append("</region>\n")
    # The schema still names every region (changing it would miss the prompt cache): the rest stay empty.
    parts.append(
        "\nAnswer with the JSON object only: the new text for each region listed here, and an empty string for "
        "every other region (those are kept as they are)."
    )
    return "".join(parts)

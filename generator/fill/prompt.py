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

from generator.errors import RegionError
from generator.fill.failure import implicated, trim
from generator.fill.plan import Plan
from generator.fill.regions import Region, bodies_by_file, language_of, parse_regions, read_text, splice
from generator.fill.related import related_files

ROLE = """\
You fill the declared regions of a software project that was just generated from the team's template.

Each region sits between a `scaffold:fill ID INSTRUCTION` comment and a `scaffold:end ID` comment; the
instruction is the text of that comment (with its `|` continuation lines). The template put a working
fallback body there; replace it with code written for this project, following the instruction, the
project's answers and description, and the team's documents below. Where a document and the template's
instruction or code disagree, the instruction and the code win; the documents decide what the template
leaves open.

Rules:
- Answer with a JSON object: one property per requested region, named "<relative/path>#<region id>", whose
  value is the exact text that goes between the region's two marker lines: whole lines, with their
  indentation, in the same form as the fallback body shown. Never include the marker lines themselves.
- Regions depend on each other: names one region defines and another uses must match, across files.
  Code outside the regions stays as it is, so use only the names, imports and dependencies it provides or
  that your regions add. Files shown read-only are there to be used as they are, never rewritten.
- Every file must stay valid: it is compiled, linted (ruff, shellcheck), type-checked, parsed (HCL, YAML,
  JSON, TOML) and its tests run, with the project's own tool configuration. Prefer small, plain,
  well-tested code to clever code. Never add secrets.
- When part of the description or an instruction cannot be carried out within the regions, or you had to
  assume something the request leaves open, say so in a few sentences in the optional "notes" property.
  Leave it out when there is nothing to say.
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


# The answer's optional free-text property; region keys always hold a `#`, so it cannot clash with one.
NOTES = "notes"


def output_schema(keys: Sequence[str]) -> dict[str, Any]:
    """One required string property per region key, and the optional `notes`; nothing else."""
    return {
        "type": "object",
        "properties": {**{key: {"type": "string"} for key in keys}, NOTES: {"type": "string"}},
        "required": list(keys),
        "additionalProperties": False,
    }


def output_config(keys: Sequence[str]) -> dict[str, Any]:
    return {"format": {"type": "json_schema", "schema": output_schema(keys)}}


def _answers(plan: Plan) -> str:
    public = {k: v for k, v in plan.answers.items() if not k.startswith("_")}
    return yaml.safe_dump(public, sort_keys=True, allow_unicode=True).strip()


def _file_block(path: str, text: str, language: str, extra: str = "") -> str:
    return f'<file path="{path}" language="{language}"{extra}>\n{text.rstrip()}\n</file>'


def _lines(first: int, last: int) -> str:
    return f"line {first}" if first == last else f"lines {first}-{last}"


def _region_list(regions: Sequence[Region]) -> str:
    """Where each region is; its instruction is in the file (sent once, in the marker comment)."""
    lines = []
    for region in regions:
        where = (
            _lines(region.body_line, region.end_line - 1)
            if region.body
            else f"empty, after line {region.body_line - 1}"
        )
        lines.append(f"- {region.key}: {where}; instruction: {_lines(region.start_line, region.body_line - 1)}")
    return "\n".join(lines)


def _related_text(plan: Plan) -> str:
    related = related_files(plan.project, plan.files)
    if not related.files and not related.left_out:
        return ""
    blocks = []
    for path, text in related.files.items():
        # Only the sections the checks read: the rest of pyproject.toml says nothing the fills need.
        extra = ' excerpt="tool configuration"' if path == "pyproject.toml" else ""
        blocks.append(_file_block(path, text, language_of(path, text), extra))
    if related.left_out:
        blocks.append(
            f"<left-out>Also used by the region files, left out to keep the request under {related.limit:,} "
            f"characters: {', '.join(related.left_out)}</left-out>"
        )
    return (
        "<read-only>\nWhat the region files import or use, and the project's tool configuration; these files "
        "cannot be changed.\n\n" + "\n\n".join(blocks) + "\n</read-only>\n\n"
    )


def _project_text(plan: Plan, texts: Mapping[str, str]) -> str:
    files = "\n\n".join(_file_block(path, text, language_of(path, text)) for path, text in texts.items())
    return (
        f'<project template="{plan.template}" path="{plan.project.name}">\n'
        f"<answers>\n{_answers(plan)}\n</answers>\n\n"
        "<tree>\n"
        + "\n".join(plan.tree)
        + "\n</tree>\n\n"
        + _related_text(plan)
        + f"<files>\nThe files that hold the regions.\n\n{files}\n</files>\n</project>"
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
    """The user message of the first call: the project, then where the regions to fill are."""
    return (
        _project_text(plan, current_texts(plan))
        + "\n\nFill these regions (their lines in the file, and the lines of the marker comment that holds the "
        "instruction; the current body is the template's working fallback, or the team's own version of it):\n"
        + _region_list(plan.todo)
        + "\n\nAnswer with the JSON object only."
    )


Failing = Mapping[str, tuple[str | None, Sequence[str]]]


def repair_message(
    plan: Plan,
    accepted: Mapping[str, str],
    failing: Failing,
    revisable: Sequence[str] = (),
    gate: tuple[str, Sequence[str]] | None = None,
    dropped: Failing | None = None,
) -> str:
    """A repair call: the project with the accepted fills in place, each failing region's attempt and problems.

    A check's output shared by several regions (a test run) or longer than a line goes in once,
    trimmed, with the regions it points at; the regions refer to it. `gate` is the output of the
    project's checks' last failure with every fill in place, and the regions it pointed at then,
    shown whatever happened since, so a later call still sees why; `revisable` are accepted regions
    the answer may rewrite too because of it (an empty answer keeps them), and `dropped` the last
    call's rewrites of them that were not used, with why.
    """
    regions = [r for r in plan.todo if r.key in failing]
    outputs = _shared_outputs(failing)
    if gate is not None and gate[0] not in outputs:
        outputs.append(gate[0])
    parts = [
        _project_text(plan, current_texts(plan, accepted)),
        "\n\nThe earlier attempt failed for these regions: its answer did not pass the checks, or no usable "
        "answer came back. Line numbers in the problems count lines of the file with the attempt in place. The "
        "files above hold the fills that passed; the failing regions still show the template's fallback, and "
        "their instructions are in the files' marker comments. Write the failing regions again, fixing every "
        "problem, and keep them consistent with the rest.\n",
    ]
    if gate is not None:
        parts.append(_gate_note(outputs.index(gate[0]) + 1, revisable))
    parts.extend(_dropped_rewrite(key, attempt, problems) for key, (attempt, problems) in (dropped or {}).items())
    if outputs:
        attempts = {key: attempt for key, (attempt, _) in failing.items() if attempt is not None}
        spans = region_spans(plan, {**accepted, **attempts})
        for number, output in enumerate(outputs, 1):
            # The gate's regions are those it pointed at when it ran: the files may have changed since.
            keys = gate[1] if gate is not None and output == gate[0] else implicated(output, spans)
            parts.append(_output_block(number, output, keys, [region.key for region in plan.todo]))
    for region in regions:
        attempt, problems = failing[region.key]
        parts.append(f'\n<region key="{region.key}">\nproblems:\n')
        for problem in problems:
            if problem in outputs:
                parts.append(f"- the check output {outputs.index(problem) + 1} above\n")
            else:
                parts.append(f"- {problem}\n")
        if attempt is not None:
            parts.append(f"previous attempt:\n<attempt>\n{attempt.rstrip()}\n</attempt>\n")
        parts.append("</region>\n")
    # The schema still names every region (changing it would miss the prompt cache): the rest stay empty.
    rewritten = ", the new text of any other region you rewrite to fix the failure," if revisable else ""
    parts.append(
        f"\nAnswer with the JSON object only: the new text for each region listed here{rewritten} and an empty "
        "string for every other region (those are kept as they are)."
    )
    return "".join(parts)


def _gate_note(number: int, revisable: Sequence[str]) -> str:
    """Why the project's checks' output is shown, and which kept fills the answer may rewrite for it."""
    note = (
        "\nThe project's own checks last ran with every fill then in place and failed: the check output "
        f"{number} below."
    )
    if revisable:
        note += (
            f" The other regions ({', '.join(revisable)}) passed their own checks and are in the files above as "
            "filled: if that failure lies in one of them, write it again too; else answer an empty string for it, "
            "and it is kept as it is. An empty string never empties one of them: to leave it with no code, answer "
            "a single comment line."
        )
    return note + "\n"


def _dropped_rewrite(key: str, attempt: str | None, problems: Sequence[str]) -> str:
    """A kept fill's rewrite the last answer made and the ladder did not use, with why (no text when refused)."""
    text = (
        f'\n<kept-region key="{key}">\nThe last answer rewrote this kept region; the rewrite was not used and '
        "the files above still hold the kept fill. Its problems:\n"
    )
    text += "".join(f"- {problem}\n" for problem in problems)
    if attempt is not None:
        text += f"the rewrite:\n<attempt>\n{attempt.rstrip()}\n</attempt>\n"
    return text + "</kept-region>\n"


def _shared_outputs(failing: Failing) -> list[str]:
    """Problems to show once: those of several regions, and any longer than one line (a check's output)."""
    seen: dict[str, int] = {}
    for _, problems in failing.values():
        for problem in dict.fromkeys(problems):
            seen[problem] = seen.get(problem, 0) + 1
    return [problem for problem, count in seen.items() if count > 1 or "\n" in problem.strip()]


def _output_block(number: int, output: str, keys: Sequence[str], todo: Sequence[str]) -> str:
    """A check's output, trimmed, and the regions it points at: those of this run, and apart, those it does not
    fill (a refill of some regions: the schema has no place for the others' text)."""
    heading, _, rest = output.strip().partition("\n")
    ours = [key for key in keys if key in todo]
    others = [key for key in keys if key not in todo]
    points = f"It points at {', '.join(ours)}." if ours else ""
    if others:
        also = "also points" if ours else "points"
        points += (
            f"{' ' if ours else ''}It {also} at {', '.join(others)}, which this run does not fill (kept as "
            "it is): fix the failure in the regions this run writes."
        )
    points = points or "It names no line of a region; read it against the regions' code."
    return f'\n<check-output number="{number}">\n{heading}\n{trim(rest)}\n</check-output>\n{points}\n'


def region_spans(plan: Plan, bodies: Mapping[str, str]) -> list[Region]:
    """The regions with their line spans in the files the checks ran on: `bodies` (the accepted fills and
    the attempts) in place."""
    found: list[Region] = []
    for path, text in current_texts(plan, bodies).items():
        try:
            found.extend(parse_regions(text, path))
        except RegionError:
            # An attempt with a marker in it: the spans of the fallbacks are the closest there are.
            found.extend(region for region in plan.todo if region.path == path)
    return found

"""The template's own fallback bodies of a project's regions, for the gate's baseline run.

The baseline tells a template (or an environment) that fails on its own from a model's fault, so it
must run on what the template gives, not on bodies an earlier fill wrote. Those are rendered again
from the project's recorded template source and version (`.copier-answers.yml`) with its answers,
into a temporary folder. Nothing is fetched when the project holds only fallbacks anyway.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from generator.fill.plan import Plan
from generator.fill.record import FILLED
from generator.fill.regions import bodies_by_file, find_regions, read_text, splice

_log = logging.getLogger(__name__)


def render_fallbacks(project: Path, answers: Mapping[str, Any]) -> dict[str, str] | None:
    """Region key -> the template's fallback body; None when the template cannot be rendered (offline, gone)."""
    from copier import run_copy

    from generator.template.render import copier_errors, source_location

    src, version = answers.get("_src_path"), answers.get("_commit")
    if not src:
        return None
    data = {key: value for key, value in answers.items() if not key.startswith("_")}
    with tempfile.TemporaryDirectory(prefix="scaffold-fallbacks-") as tmp:
        target = Path(tmp) / project.name
        try:
            # copier_errors: Copier's clones go in a folder of scaffold's that goes however this ends.
            with copier_errors(str(src)):
                run_copy(
                    source_location(project, str(src)),
                    target,
                    data=data,
                    defaults=True,
                    quiet=True,
                    overwrite=True,
                    # Tasks and migrations never run for this (only the region bodies are read), so a template
                    # that has them renders without --trust; one with Jinja extensions still needs it.
                    unsafe=False,
                    skip_tasks=True,
                    vcs_ref=str(version) if version else None,
                )
            return {region.key: region.body for region in find_regions(target)}
        except Exception as error:  # Copier, git and a broken marker fail in many ways; all mean "not known"
            _log.debug("cannot render the template's fallbacks of %s: %r", project, error)
            return None


def baseline_texts(plan: Plan) -> dict[str, str]:
    """The region files whose bodies differ from the template's fallbacks, with the fallbacks spliced in.

    Only a project with regions recorded as filled is rendered again: otherwise its regions hold the
    fallbacks (or the team's own version of them, which the user answers for). When the template cannot
    be rendered, the baseline runs on the project as it is, as it did before fills existed.
    """
    if not any(entry.status == FILLED for entry in plan.records.values()):
        return {}
    fallbacks = render_fallbacks(plan.project, plan.answers)
    if fallbacks is None:
        return {}
    regions = [*plan.todo, *plan.filled]
    # A region the template no longer has (or the team added) keeps its body.
    wanted = {r.key: fallbacks[r.key] for r in regions if r.key in fallbacks and fallbacks[r.key] != r.body}
    texts: dict[str, str] = {}
    for path, bodies in bodies_by_file(wanted).items():
        text = read_text(plan.project / path)
        texts[path] = splice(text, path, bodies)
    return texts

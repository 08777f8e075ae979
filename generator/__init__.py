"""scaffold: project scaffolding from your team's templates and written knowledge.

The command line (`scaffold`) is one client of this package; Python code is another, through
the same core (docs/library.md):

    import generator

    result = generator.new_project("service", "payments", dest="/tmp/payments", defaults=True)
    generator.check_project(result.path).behind              # False: just made
    generator.fill_project(result.path)                        # needs ANTHROPIC_API_KEY
    generator.update_project(result.path)                      # after a template release

    generator.classify("add a /refunds endpoint to the billing API")  # -> "api"
    generator.prompt("roll back the 2.3 release of billing-api")      # the full prompt

Importing the package stays cheap: these names load their modules on first use, and Copier
and the Anthropic SDK are imported only by the stages that need them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "new_project": "generator.pipeline",
    "preview_new": "generator.pipeline",
    "fill_project": "generator.pipeline",
    "preview_fill": "generator.pipeline",
    "update_project": "generator.pipeline",
    "check_project": "generator.pipeline",
    "list_templates": "generator.pipeline",
    "FillRequest": "generator.pipeline",
    "Settings": "generator.settings",
    "build_context": "generator.context.api",
    "classify": "generator.context.api",
    "get_context": "generator.context.api",
    "prompt": "generator.context.api",
    "explain_kind": "generator.context.api",
    "search_knowledge": "generator.context.api",
    "read_document": "generator.context.api",
}
__all__ = [
    "FillRequest",
    "Settings",
    "__version__",
    "build_context",
    "check_project",
    "classify",
    "explain_kind",
    "fill_project",
    "get_context",
    "list_templates",
    "new_project",
    "preview_fill",
    "preview_new",
    "prompt",
    "read_document",
    "search_knowledge",
    "update_project",
]

if TYPE_CHECKING:
    from generator.context.api import (
        build_context,
        classify,
        explain_kind,
        get_context,
        prompt,
        read_document,
        search_knowledge,
    )
    from generator.pipeline import (
        FillRequest,
        check_project,
        fill_project,
        list_templates,
        new_project,
        preview_fill,
        preview_new,
        update_project,
    )
    from generator.settings import Settings


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'generator' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)

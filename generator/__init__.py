"""scaffold: project scaffolding from your team's templates and written knowledge.

The command line (`scaffold`) is one client of this package; the context-injection API
below is another:

    import generator

    generator.classify("add a /refunds endpoint to the billing API")  # -> "api"
    generator.get_context("infra")  # the documents for a kind of task
    generator.prompt("roll back the 2.3 release of billing-api")  # the full prompt

Importing the package stays cheap: those names load `generator.context.api` on first use, and
Copier and the Anthropic SDK are imported only by the stages that need them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["__version__", "build_context", "classify", "get_context", "prompt"]

if TYPE_CHECKING:
    from generator.context.api import build_context, classify, get_context, prompt


def __getattr__(name: str) -> Any:
    if name in {"build_context", "classify", "get_context", "prompt"}:
        from generator.context import api

        return getattr(api, name)
    raise AttributeError(f"module 'generator' has no attribute {name!r}")

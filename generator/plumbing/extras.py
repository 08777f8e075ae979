"""The optional parts of scaffold: which extra installs each, and the error when one is missing.

`pip install scaffold-generator` is Copier's install plus detect-secrets: templates, updates,
checks and context prompts all work with it. Two features need large packages that most runs
never import, so they are extras (issue 12: the install at most 1.5 times Copier's):

- `ai`: the AI fill step and exact token counts (the Anthropic SDK, its transport, and the HCL
  parser that checks Terraform fills);
- `mcp`: `scaffold mcp` (the Model Context Protocol SDK).

Whether one is installed is answered with `find_spec`, which imports nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.util import find_spec

from generator.errors import MissingExtraError

DISTRIBUTION = "scaffold-generator"


@dataclass(frozen=True)
class Extra:
    """One extra: the module that tells it is installed and what it enables."""

    name: str
    module: str
    enables: str

    @property
    def command(self) -> str:
        return f"pip install '{DISTRIBUTION}[{self.name}]'"


AI = Extra("ai", "anthropic", "the AI fill step (scaffold fill, fills after new-*) and exact token counts")
MCP = Extra("mcp", "mcp", "scaffold mcp, the server AI assistants ask for context")
EXTRAS = (AI, MCP)


def installed(extra: Extra) -> bool:
    try:
        return find_spec(extra.module) is not None
    except (ImportError, ValueError):  # a broken or half-removed install counts as missing
        return False


def load_error(extra: Extra, feature: str, error: ImportError) -> MissingExtraError:
    """The one-line error for an extra that is installed but does not load: a version outside scaffold's range
    (an `mcp` 1.x another tool installed, say) or a broken install, which `installed` cannot tell from a good one
    without importing it. The caller imports the extra's modules alone, so that any failure there is the extra's."""
    return MissingExtraError(
        f"{feature} needs scaffold's optional '{extra.name}' part, and the installed one does not load ({error}); "
        f"reinstall it: {extra.command}"
    )


def require(extra: Extra, feature: str) -> None:
    """Raise the one-line error naming the install command when `extra` is missing."""
    if not installed(extra):
        raise MissingExtraError(f"{feature} needs scaffold's optional '{extra.name}' part; install it: {extra.command}")

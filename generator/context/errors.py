"""Errors raised by context selection and the knowledge home (all exit code 2)."""

from __future__ import annotations

from generator.errors import UsageError


class ContextMapError(UsageError):
    """Raised when context.yml is malformed; the message starts with file:line."""


class EmptyTaskError(UsageError):
    """Raised when the task text is empty or only whitespace."""


class BudgetError(UsageError):
    """Raised when the token budget cannot hold the prompt frame and the core documents."""


class UnknownKindError(UsageError):
    """Raised when --kind names a kind that context.yml does not define."""


class HomeError(UsageError):
    """Raised when the knowledge home is missing, not in scaffold's layout, or not writable."""

"""Errors shared by the domain and the HTTP layer."""


class DomainError(ValueError):
    """Raised when input breaks a business rule; the app answers 422 with its message."""

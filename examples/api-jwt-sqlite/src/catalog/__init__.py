"""catalog: a contract-first HTTP API (see README.md and openapi.json)."""

__version__ = "0.1.0"

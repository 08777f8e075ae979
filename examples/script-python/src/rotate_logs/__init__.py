"""rotate-logs: an operational script (see README.md)."""

__version__ = "0.1.0"

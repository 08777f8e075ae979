"""Plumbing every stage shares: git, atomic writes, the interrupt transaction, value parsing."""

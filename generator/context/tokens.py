"""The token estimate: a conservative stand-in for Claude's tokenizer, which has no offline copy.

Rule: every ASCII character counts a third of a token (rounded up per piece of text) and every
other character counts a whole token. English prose and code average 3.5 to 4.5 ASCII
characters per Claude token, so a third over-counts them; CJK and other non-Latin scripts
take about one token per character or more, so they are counted at one. Estimates of pieces
are rounded up separately, so the sum of the pieces never undercounts the whole.
"""

from __future__ import annotations

CHARS_PER_TOKEN = 3
DEFAULT_BUDGET = 24_000


def estimate_tokens(text: str) -> int:
    """A conservative token count for `text` (see the module docstring for the rule)."""
    ascii_chars = len(text.encode("ascii", "ignore"))
    return -(-ascii_chars // CHARS_PER_TOKEN) + (len(text) - ascii_chars)

"""Token usage and what it costs: the one price table scaffold uses, for estimates and reports.

Prices are US dollars per million tokens from Anthropic's published price list (checked
2026-11): base input, 5-minute cache writes, cache reads, output. They are estimates for the
report, never a bill. A model missing from the table is reported with its tokens and no cost.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.context.tokens import estimate_tokens


@dataclass(frozen=True)
class Price:
    input: float
    output: float
    cache_write: float
    cache_read: float


PRICES: dict[str, Price] = {
    "claude-sonnet-5-5": Price(input=2.00, output=10.00, cache_write=2.50, cache_read=0.10),
    "claude-opus-5-5": Price(input=4.00, output=20.00, cache_write=5.00, cache_read=0.20),
    "claude-sonnet-5": Price(input=2.00, output=10.00, cache_write=2.50, cache_read=0.20),
    "claude-opus-5": Price(input=5.00, output=25.00, cache_write=6.25, cache_read=0.50),
    "claude-haiku-4-5": Price(input=1.00, output=5.00, cache_write=1.25, cache_read=0.10),
}


@dataclass(frozen=True)
class Usage:
    """Tokens of one or more calls; `input` excludes the cached part, as the API reports it."""

    input: int = 0
    output: int = 0
    cache_write: int = 0
    cache_read: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input + other.input,
            self.output + other.output,
            self.cache_write + other.cache_write,
            self.cache_read + other.cache_read,
        )

    def cost(self, model: str) -> float | None:
        """Estimated US dollars, or None when the model has no price in the table."""
        price = PRICES.get(model)
        if price is None:
            return None
        total = (
            self.input * price.input
            + self.output * price.output
            + self.cache_write * price.cache_write
            + self.cache_read * price.cache_read
        )
        return total / 1_000_000


def estimate(system: str, user: str, fallbacks: list[str]) -> Usage:
    """What a first call is expected to use, for --pretend and the confirmation.

    The context prefix is written to the cache; the answer is guessed at twice the
    fallback bodies' size (fills are fuller than fallbacks), at least 300 tokens a region.
    """
    output = sum(max(2 * estimate_tokens(body), 300) for body in fallbacks)
    return Usage(input=estimate_tokens(user), output=output, cache_write=estimate_tokens(system))


def format_cost(cost: float | None) -> str:
    if cost is None:
        return "cost unknown (model not in the price table)"
    return f"${cost:.2f}" if cost >= 0.01 else f"${cost:.4f}"

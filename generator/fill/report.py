"""What the user sees of a fill run: progress while it works, a summary at the end.

On a terminal one status line is redrawn in place (phase, model, tokens streamed, elapsed);
otherwise (CI, pipes, logs) each phase is one plain line. Progress goes to stderr, the
summary to stdout.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TYPE_CHECKING, Protocol, TextIO

from generator.fill.pricing import Usage, format_cost

if TYPE_CHECKING:
    from generator.fill.ladder import FillResult


class Reporter(Protocol):
    def phase(self, text: str, model: str | None) -> None: ...

    def tokens(self, count: int) -> None: ...

    def close(self) -> None: ...


class PlainReporter:
    """One line per phase, for logs."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def phase(self, text: str, model: str | None) -> None:
        print(f"fill: {text}", file=self._stream, flush=True)

    def tokens(self, count: int) -> None:
        pass

    def close(self) -> None:
        pass


class LiveReporter:
    """A status line redrawn five times a second by a daemon thread while the model works."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._text = "starting"
        self._model: str | None = None
        self._count = 0
        self._started = time.monotonic()
        self._phase_started = self._started
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="scaffold-fill-display", daemon=True)
        self._thread.start()

    def phase(self, text: str, model: str | None) -> None:
        with self._lock:
            self._clear()
            print(f"fill: {text}", file=self._stream, flush=True)
            self._text, self._model, self._count = text, model, 0
            self._phase_started = time.monotonic()

    def tokens(self, count: int) -> None:
        with self._lock:
            self._count = count

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1)
        with self._lock:
            self._clear()

    def _clear(self) -> None:
        self._stream.write("\r\x1b[K")
        self._stream.flush()

    def _loop(self) -> None:
        while not self._stop.wait(0.2):
            with self._lock:
                elapsed = time.monotonic() - self._phase_started
                model = f" · {self._model}" if self._model else ""
                tokens = f" · {self._count:,} tokens streamed" if self._count else ""
                line = f"  … {self._text.split(':', 1)[0]}{model}{tokens} · {elapsed:.1f} s"
                self._stream.write("\r\x1b[K" + line[:200])
                self._stream.flush()


def make_reporter(stream: TextIO | None = None) -> Reporter:
    out = stream or sys.stderr
    return LiveReporter(out) if out.isatty() else PlainReporter(out)


def summary(result: FillResult) -> list[str]:
    """The end-of-run report: each region's fate, tokens per model, estimated cost."""
    lines: list[str] = []
    filled = [region for region in result.regions if region.filled]
    lines.append(f"AI fill: {len(filled)} of {len(result.regions)} regions filled.")
    for region in result.regions:
        if region.filled:
            lines.append(f"  filled    {region.key}  ({region.model})")
        else:
            lines.append(f"  fallback  {region.key}  ({region.reason})")
    total_cost = 0.0
    known = True
    by_model = result.usage_by_model()
    for model, usage in by_model.items():
        calls = sum(1 for call in result.calls if call.model == model)
        cost = usage.cost(model)
        known = known and cost is not None
        total_cost += cost or 0.0
        lines.append(f"  {model}: {calls} call{'s' * (calls != 1)}, {_tokens(usage)}, {format_cost(cost)}")
    if len(by_model) > 1:
        lines.append(f"  total: {format_cost(total_cost if known else None)}")
    if result.unchecked:
        lines.append(f"  not checked: {'; '.join(result.unchecked)} (install it for stricter checks)")
    if result.commit:
        lines.append(f"Committed the fills as {result.commit[:12]}; .scaffold/fills.yml records where they came from.")
    elif result.commit_note and filled:
        lines.append(f"The fills are written, {result.commit_note}.")
    if result.fell_back:
        lines.append(
            "The project is valid with the template's fallbacks; run 'scaffold fill' in it to try again (exit code 3)."
        )
    return lines


def _tokens(usage: Usage) -> str:
    return (
        f"{usage.input:,} input + {usage.cache_write:,} cache-write + {usage.cache_read:,} cache-read tokens, "
        f"{usage.output:,} output tokens"
    )

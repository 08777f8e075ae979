"""What people see of a run: progress while the fill works, then the results in words.

On a terminal one status line is redrawn in place (phase, model, tokens streamed, elapsed);
otherwise (CI, pipes, logs) each phase is one plain line. Progress goes to stderr, the
summary to stdout. The core sends `Progress` records and returns results; only this module
words them.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, TypeVar

from generator.cli.messages import work_done
from generator.errors import Interrupted
from generator.fill.pricing import Usage, format_cost
from generator.plumbing.transaction import checkpoint
from generator.results import FillOffer, FillPreview, FillResult, Progress, Rendered

if TYPE_CHECKING:
    from generator.context.home import NewDocument


def shown(path: Path) -> str:
    """A path as the user would type it: relative when it is under the current folder."""
    try:
        return str(path.relative_to(Path.cwd())) or "."
    except ValueError:
        return str(path)


def regions(count: int) -> str:
    return f"{count} region{'s' * (count != 1)}"


def created_lines(rendered: Rendered) -> list[str]:
    version = rendered.version or "unversioned"
    lines = [f"Created {rendered.path} from the {rendered.template} template ({version}), {rendered.files} files."]
    if rendered.commit:
        commit = rendered.commit[:12]
        lines.append(f"Committed the render as {commit}; 'copier update' (or 'scaffold update') works from here.")
    else:
        why = {
            "no-git": "--no-git",
            "inside-repo": f"{rendered.path} is inside the git repository {rendered.enclosing_repo}",
            "git-missing": "git is not installed",
        }[rendered.git_skipped or "no-git"]
        lines.append(f"No git commit ({why}); commit the project before running 'copier update'.")
    if (passed := rendered.remote_passed_over) is not None:
        lines.append(
            f"The project records the knowledge home's local path as its template source: its remote "
            f"{passed.remote} {passed.why}, so teammates and CI could not update from there. In the home, "
            f"{passed.fix}; then run 'scaffold update --source {passed.remote}' in the project."
        )
    if rendered.credentials_left_out:
        lines.append(
            "The project records its template source without the token or password in the URL; teammates "
            "and CI fetch it with their own access. Copier's cached clone of it keeps the token until you "
            "delete it (docs/updates.md)."
        )
    return lines


def describe(event: Progress) -> str:
    """A progress event as the line people read."""
    if event.step == "environment":
        return f"building the environment for the project's checks (once): {event.command}"
    if event.step == "rerank":
        return f"re-ranking the context documents with {event.model} (--no-rerank skips it)"
    if event.step == "call":
        rewrite = f" (it may rewrite {event.kept} kept fill{'s' * (event.kept != 1)} too)" if event.kept else ""
        return f"{event.purpose}: asking {event.model} for {regions(event.count)}{rewrite}"
    if event.step == "check":
        return f"checking {event.count} fills"
    if event.step == "baseline":
        return f"running the project's checks before any fill: {event.command}"
    if event.step == "generate":
        return f"regenerating the files derived from the code: {event.command}"
    if event.step == "verify":
        return f"running the project's checks with the fills: {event.command}"
    return "writing the fills"


class _Confirming:
    """What both reporters share: the render's news as soon as it lands, and the one question a fill
    asks (on a terminal only, before anything is spent)."""

    def rendered(self, rendered: Rendered) -> None:
        print("\n".join(created_lines(rendered)), flush=True)

    def confirm_fill(self, offer: FillOffer) -> bool:
        from generator.cli.prompts import has_terminal

        if not has_terminal():
            return True
        import questionary

        rerank = ", including one call to re-rank the context" if offer.rerank else ""
        about = (
            f"about {format_cost(offer.cost)}{rerank}"
            if offer.cost is not None
            else f"cost unknown: not in scaffold's price table{rerank}"
        )
        for warning in offer.warnings:
            print(f"scaffold: warning: {warning}", file=sys.stderr)
        question = f"Fill {regions(offer.regions)} with {offer.model} ({about})?"
        if questionary.confirm(question, default=True).unsafe_ask():
            return True
        print(f"Not filled; run 'scaffold fill {shown(offer.project)}' when you want to.")
        return False


class PlainReporter(_Confirming):
    """One line per phase, for logs."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def progress(self, event: Progress) -> None:
        print(f"fill: {describe(event)}", file=self._stream, flush=True)

    def tokens(self, count: int) -> None:
        pass

    def close(self) -> None:
        pass


class LiveReporter(_Confirming):
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
        # Started by the first progress event, which comes after every question and the fill's
        # confirmation: a status line redrawn over a prompt would garble it.
        self._thread = threading.Thread(target=self._loop, name="scaffold-fill-display", daemon=True)

    def progress(self, event: Progress) -> None:
        text = describe(event)
        if not self._thread.is_alive() and not self._stop.is_set():
            self._started = self._phase_started = time.monotonic()
            self._thread.start()
        with self._lock:
            self._clear()
            print(f"fill: {text}", file=self._stream, flush=True)
            self._text, self._model, self._count = text, event.model, 0
            self._phase_started = time.monotonic()

    def tokens(self, count: int) -> None:
        with self._lock:
            self._count = count

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
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


def make_reporter(stream: TextIO | None = None) -> PlainReporter | LiveReporter:
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
    if result.notes:
        lines.append("  the model's notes (what it could not do, or assumed):")
        lines += [f"    {line}" for note in result.notes for line in note.splitlines() if line.strip()]
    lines += [f"  context: {line}" for line in (*result.context_notes, *result.context_warnings)]
    if result.unchecked:
        missing = "; ".join(f"{tool} is not installed: no {what}" for tool, what in result.unchecked)
        lines.append(f"  not checked: {missing} (install it for stricter checks)")
    lines.extend(_gate_lines(result, filled=bool(filled)))
    if filled and result.regenerated:
        lines.append(f"  regenerated with the fills: {', '.join(result.regenerated)}")
    if filled and result.stale:
        # Imported here: this module is what an interrupted run imports to say so, and the fill's
        # modules (PyYAML under them) may be half-imported by the interrupt itself.
        from generator.fill.regenerate import TARGET

        lines.append(
            f"  may be stale: {', '.join(result.stale)} ({result.stale_reason}); "
            f"run 'make {TARGET}' and commit the result"
        )
    if result.commit:
        lines.append(f"Committed the fills as {result.commit[:12]}; .scaffold/fills.yml records where they came from.")
    elif result.commit_skipped and filled:
        lines.append(f"The fills are written, {_not_committed(result)}.")
    if result.fell_back:
        lines.append(
            "The project is valid with the template's fallbacks; run 'scaffold fill' in it to try again (exit code 3)."
        )
    return lines


def _gate_lines(result: FillResult, *, filled: bool) -> list[str]:
    """Whether the fills passed the project's checks, and exactly what did not run."""
    if not filled:
        return []
    if result.gate_off == "not-asked":
        return ["  not verified: the project's checks did not run (--no-verify); run 'make check' yourself"]
    if result.gate_off == "no-command":
        return ["  not verified: the project has no 'make check' (give --verify-command CMD)"]
    if result.gate_off == "setup-failed":
        return [f"  not verified: the project's checks could not run ({result.gate_detail})"]
    lines = [f"  verified: the fills pass '{result.gate}'"]
    if result.gate_skipped:
        lines[0] += ", except the checks it could not run:"
        lines += [f"    not run: {check}" for check in result.gate_skipped]
    return lines


def _not_committed(result: FillResult) -> str:
    why = result.commit_skipped
    if why == "previous-kept":
        return f"not committed (no git); the previous versions are in {result.commit_detail}"
    if why == "no-git":
        return "not committed, like the render"
    return "not committed: the project is not its own git repository"


def _short(text: str, width: int = 100) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def pretend_lines(preview: FillPreview) -> list[str]:
    """What --pretend prints: regions, documents, estimated tokens and cost; no call is made."""
    lines = [f"Would fill {regions(len(preview.todo))} of {preview.project}:"]
    lines += [f"  {key}: {_short(instruction or 'no instruction')}" for key, instruction in preview.todo]
    if preview.filled:
        lines.append(f"Already filled (use --refill ID to redo): {', '.join(preview.filled)}")
    lines.append("Context documents in the cached system prompt (estimated tokens):")
    lines += [f"  {path}  {count:,}" for path, count in preview.context_tokens.items()]
    if preview.rerank:
        cost = preview.rerank_estimate.cost(preview.model) if preview.rerank_estimate else None
        about = f" of about {format_cost(cost)}" if cost is not None else ""
        how = (
            "the model's earlier answer to the same re-rank, in the cache, replaces the ranked ones (no call)"
            if preview.rerank_cached
            else f"the model re-ranks them in one more call{about} and may replace the ranked ones"
        )
        lines.append(
            f"  (BM25's documents: once the fill is confirmed, {how}; --no-rerank or SCAFFOLD_RERANK=0 keeps BM25's)"
        )
        if not preview.rerank_cached:
            lines.append("The re-rank's request shows the model a card (title, headings, two short excerpts) of:")
            lines += [f"  {name}" for name in preview.rerank_candidates]
    if preview.context_warnings:
        lines.append("Context warnings:")
        lines += [f"  {warning}" for warning in preview.context_warnings]
    usage = preview.estimate
    lines.append(
        f"Estimated first call: {usage.cache_write:,} tokens of system prompt (written to the cache), "
        f"{usage.input:,} of project, about {usage.output:,} output tokens."
    )
    for model in dict.fromkeys([preview.model, preview.escalation]):
        role = "main model" if model == preview.model else "escalation, only for regions that fail"
        lines.append(f"  {model} ({role}): {format_cost(usage.cost(model))} per call")
    lines.append("No request was made and nothing was written (--pretend).")
    return lines


def _tokens(usage: Usage) -> str:
    return (
        f"{usage.input:,} input + {usage.cache_write:,} cache-write + {usage.cache_read:,} cache-read tokens, "
        f"{usage.output:,} output tokens"
    )


def interrupted(done: object) -> str:
    """After an interrupt that landed past a commit point: what exists now, and what to do next."""
    from generator.context.home import InitResult, NewDocument
    from generator.fill.record import RECORD_FILE
    from generator.results import NewResult, Rendered, UpdateResult

    if isinstance(done, NewDocument):  # its warnings too: a secret in its heading must not be committed
        return "; ".join([f"{shown(done.path)} was written", *done.warnings(), commit_it(done)])
    if isinstance(done, InitResult):
        made = "was recorded as" if done.adopted else "was created and recorded as"
        return f"{done.root} {made} your knowledge home in {done.config_path}{in_place_of(done.replaced)}"
    if isinstance(done, NewResult):
        return f"{shown(done.path)} was created and is complete; {_fill_state(done)}"
    if isinstance(done, FillResult):
        return f"it landed after the fills were written; {shown(done.project / RECORD_FILE)} lists them"
    if isinstance(done, UpdateResult):
        return (
            f"{shown(done.path)} was updated to template version {done.new_version}; "
            "review with 'git status' and 'git diff', then commit"
        )
    if isinstance(done, Rendered):
        return f"{shown(done.path)} was created"
    return "nothing partial was left behind"


def in_place_of(before: Path | None) -> str:
    """What `init` says of the home recorded before it, if another: a user who ran it by mistake must
    be able to go back."""
    if before is None:
        return ""
    from generator.context.home import shell_argument

    back = f"`scaffold init {shell_argument(before)}` goes back" if _is_dir(before) else "no longer there"
    return f" in place of {before} ({back})"


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # a name too long for the system, say: no folder to go back to either
        return False


def commit_it(made: NewDocument) -> str:
    """What to do with a document `new-decision` and the others wrote."""
    return f"edit it, then commit it in {made.home}"


def _fill_state(result: object) -> str:
    from generator.results import NewResult

    assert isinstance(result, NewResult)
    where = shown(result.path)
    if result.pending < 0:
        return f"'scaffold fill {where}' fills any regions not filled yet"
    if not result.pending:
        return "nothing is left to fill"
    return f"its {result.pending} regions keep the template's fallbacks until 'scaffold fill {where}'"


R = TypeVar("R")


def reporting(result: R, show: Callable[[R], int], before: Callable[[], None] = lambda: None) -> int:
    """Word a finished command's result (after `before`, e.g. closing the status line); an interrupt
    while doing so still says what now exists, and so does output that cannot be written then
    (`messages.work_done`)."""
    work_done()
    try:
        before()
        checkpoint("cli.report", result=result)
        return show(result)
    except KeyboardInterrupt as interrupt:
        if isinstance(interrupt, Interrupted):
            raise
        raise Interrupted(result) from None

"""A model's second look at what BM25 ranked: the request, the answer, and the call.

Keyword ranking finds the documents that use the task's words; it cannot tell the incident
about the task's failure from one that shares its vocabulary, nor find "customers who chose
Cymraeg got two or three identical texts" for "duplicate SMS to Welsh-language customers".
With a re-rank, the documents BM25 kept and the next best, `POOL` in all, are shown to the
model as cards (path, title, section headings, the start of the text and the best-matching
section), and the model chooses which go in, `MAX_CHOSEN` at most, each with a reason.

How it reads on the labelled homes in `bench/` is in docs/benchmarks.md ("A model's re-rank").

Selection builds the request (`request_for`) and reads the answer (`parse`) without I/O, through
a `Rerank`. The caller's is `Remembered`'s: it asks each request once per run however often
selection runs, redacted by the build's own redactor (`redacted`) as the prompt is: the task and
the documents the prompt carries anyway beside the cards, each section whole before a card cuts
it to a line, the names with what their documents gave away. `ModelRerank` asks the Messages
API through the fill step's client (its retries, deadline and last redaction of the whole
request), and keeps each answer in the cache by the digest of the request as selection built it,
so a task asked again costs nothing and selects the same.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import html
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from generator.context.links import Retired
from generator.context.sections import Piece, Section, title_of
from generator.errors import UNSHOWABLE
from generator.plumbing import cachefile

if TYPE_CHECKING:
    from generator.context.redact import Redactor
    from generator.fill.pricing import Usage
    from generator.settings import Settings

# The documents shown to the model: those BM25 kept, then the next best up to this many. On the
# five homes in bench/, the best 15 hold 95-100% of the documents a task needs.
POOL = 15
# The most a re-rank keeps by default: BM25's three ranked and two related (context.yml's
# `max_documents` and `related` set it).
MAX_CHOSEN = 5
# What a card shows of a document, and of the task (a pasted diff is cut, not sent whole).
MAX_HEADINGS = 14
START_CHARS = 400
BEST_CHARS = 300
NAME_CHARS = 160
TASK_CHARS = 4_000
# Of each section not shown whose heading is, what is searched for the values a heading may
# repeat (`## Admin password (...)` over `password: ...`): a log of megabytes is not scanned whole.
REST_CHARS = 2_000
# A reason as shown in --explain and --json: one line.
MAX_WHY_CHARS = 240
# The answer is a short list; a model that writes more is not read further.
MAX_OUTPUT_TOKENS = 2_000
# How the note of a re-rank begins (the fill's summary shows it: `fill.prepare`).
RERANKED = "re-ranked by "
# A re-rank is worth seconds, not the minutes a fill's answer may take (SCAFFOLD_AI_TIMEOUT); its answer
# takes a few. Half a minute, retries included: an assistant's MCP client gives a tool call a minute (the
# TypeScript SDK's default), and a re-rank that hangs must still leave time for BM25's documents.
DEFAULT_TIMEOUT_SECONDS = 30.0
# Answers kept in the cache; the oldest go beyond this many.
MAX_CACHED = 2_000
# A kept answer larger than this is not read (an answer is `MAX_OUTPUT_TOKENS` at most: a few KB).
MAX_ANSWER_BYTES = 256 * 1024
# The answer a re-rank call is expected to write, in tokens, for the fill's confirmation and --pretend
# (`expected_usage`; its request is counted as built). The requests of the 197 tasks of bench/'s
# five homes are 4,294 tokens in the median (5,326 at most).
EXPECTED_OUTPUT_TOKENS = 300

SYSTEM_TEMPLATE = """You pick which documents from a software team's knowledge home an AI coding assistant should read before it does a task.

The knowledge home holds the team's decisions (ADRs), incidents, runbooks, anti-patterns and project contexts. A keyword search has found the candidates below for the task; each is shown by its path, title, section headings and the start of its text. Many candidates only share words with the task.

Keep a document when a senior engineer on this team would want it in front of them for this task:
- a decision that governs what the task builds or changes;
- an incident or anti-pattern about the same failure, mechanism or component;
- the runbook for the procedure the task carries out or touches;
- the context of the project the task is about.
Leave out documents that match the task's words but are about something else, and decisions marked superseded when their successor is a candidate.

Keep at most {limit}, the most useful first. Keep fewer when fewer are on topic, and none when none is. For each, say in one short sentence why it matters for this task."""  # noqa: E501 (the prompt as sent)
SYSTEM = SYSTEM_TEMPLATE.format(limit=MAX_CHOSEN)


def system_prompt(limit: int) -> str:
    """The system prompt of a re-rank that keeps `limit` documents at most."""
    return SYSTEM if limit == MAX_CHOSEN else SYSTEM_TEMPLATE.format(limit=limit)


OUTPUT_CONFIG: dict[str, Any] = {
    "format": {
        "type": "json_schema",
        "schema": {
            "type": "object",
            "properties": {
                "documents": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"path": {"type": "string"}, "why": {"type": "string"}},
                        "required": ["path", "why"],
                        "additionalProperties": False,
                    },
                }
            },
            "required": ["documents"],
            "additionalProperties": False,
        },
    }
}

_SPACE = re.compile(r"\s+")
# Halves of a character: text no terminal or file can take (JSON allows "\ud800").
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# A document's text cannot open or close a card of its own.
_CARD_TAG = re.compile(r"<(/?)(candidate)", re.IGNORECASE)


@dataclass(frozen=True)
class Candidate:
    """One document as the model sees it: its texts as the document has them, on lines; the card
    cuts them to a line each (`card`), once redacted (`redacted`)."""

    path: str
    title: str
    headings: tuple[str, ...]
    # The first two sections' texts.
    start: tuple[str, ...]
    # The section that matched the task best, when it is not the first two (the start shows those).
    best_heading: str = ""
    best_text: str = ""
    # The other sections' texts (their starts: `REST_CHARS`): never shown, but a secret redaction
    # finds in them is hidden in the headings shown (`## Admin password (...)` over `password: ...`).
    rest: tuple[str, ...] = field(default=(), repr=False)
    # The path as the card shows it, redacted (`redacted`): the model answers with it.
    shown_path: str = ""
    # What redaction scans around each text of `start`, `best_text` and `rest`, in that order, where
    # it is a part of a long section (`Library.piece`); never shown.
    around: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    @property
    def label(self) -> str:
        """The path as the card names it: redacted, and quoted for the tag."""
        return html.escape(self.shown_path or self.path, quote=True)

    def card(self) -> str:
        lines = [f"title: {excerpt(self.title, NAME_CHARS)}"]
        if self.headings:
            lines.append("sections: " + " | ".join(excerpt(heading, NAME_CHARS) for heading in self.headings))
        lines.append("starts: " + excerpt(" ".join(self.start), START_CHARS))
        if self.best_heading or self.best_text:
            heading = excerpt(self.best_heading, NAME_CHARS)
            lines.append(f'best match, section "{heading}": {excerpt(self.best_text, BEST_CHARS)}')
        body = "\n".join(_CARD_TAG.sub(r"<\1 \2", line) for line in lines)
        return f'<candidate path="{self.label}">\n{body}\n</candidate>'


@dataclass(frozen=True)
class RerankRequest:
    """What the model is asked: the task, its kind, the documents it gets anyway, the candidates."""

    task: str
    kind: str
    given: tuple[str, ...]
    candidates: tuple[Candidate, ...]
    limit: int = MAX_CHOSEN
    # What the prompt carries anyway (the core, the kind's and the project's sections, a successor's):
    # never shown here, but a secret found there is hidden in the cards too.
    beside: tuple[Piece, ...] = field(default=(), repr=False)
    # The digest of the request as selection built it, before redaction (`Remembered.redacting`):
    # the model's cache key, which the redaction cache's state cannot change.
    origin: str = ""

    def system(self) -> str:
        return system_prompt(self.limit)

    def user(self) -> str:
        given = f"\nAlready given to the assistant (not candidates): {', '.join(self.given)}" if self.given else ""
        cards = "\n\n".join(candidate.card() for candidate in self.candidates)
        task = self.task if len(self.task) <= TASK_CHARS else self.task[:TASK_CHARS] + " …"
        return f"Task: {task}\nKind of work: {self.kind}{given}\n\nCandidates:\n\n{cards}"

    def digest(self, model: str = "") -> str:
        return digest_of(self.user(), model, self.limit)


def digest_of(user: str, model: str = "", limit: int = MAX_CHOSEN) -> str:
    """A request's identity, for the cache: the model, the system prompt, the message."""
    text = json.dumps([model, system_prompt(limit), user], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Choice:
    path: str
    why: str


@dataclass
class Reranked:
    """A re-rank's outcome: the documents chosen, best first (none chosen is an answer too), or
    `choices` None with `error` saying why there is no answer; `note` says who answered and what
    it cost, for the user; `usage`, what a call made for it used (None: no call, or not known)."""

    choices: list[Choice] | None
    by: str = "the model"
    note: str = ""
    error: str = ""
    usage: Usage | None = None


def expected_usage(request: RerankRequest) -> Usage:
    """What asking `request` is expected to use, before it is asked: the request as built, a short answer."""
    from generator.context.tokens import estimate_tokens
    from generator.fill.pricing import Usage

    sent = estimate_tokens(request.system()) + estimate_tokens(request.user())
    return Usage(input=sent, output=EXPECTED_OUTPUT_TOKENS)


class Probe:
    """A `Rerank` that asks nothing and leaves BM25's documents, unremarked: a build with it shows what
    the call would send (`ContextResult.rerank_request`, for --pretend and the fill's confirmation).
    With the model's `answers`, it tells a request already answered (`cached`): no call then."""

    def __init__(self, answers: Answers | None = None) -> None:
        self.answers = answers

    def __call__(self, request: RerankRequest) -> Reranked:
        return Reranked(None, "nobody")

    def cached(self, request: RerankRequest) -> bool:
        return self.answers is not None and self.answers.choices(request) is not None


class Rerank(Protocol):
    """What selection asks for a second look (`select.gather`'s `rerank`)."""

    def __call__(self, request: RerankRequest) -> Reranked: ...


class Remembered:
    """`rerank`, asked once per request in a run (`redacting`): a selection made again with the same
    cards (a redaction lengthened a section, a build done again for a file that changed elsewhere)
    asks nothing again, whatever came of the first asking."""

    def __init__(self, rerank: Rerank) -> None:
        self._rerank = rerank
        self._outcomes: dict[str, Reranked] = {}
        self._sent: dict[str, RerankRequest] = {}
        # The requests the current build attempt asked, as sent (`attempt`): a build done again for a
        # file that changed may ask another, and the last attempt's is the one its selection used.
        self.asked: list[RerankRequest] = []

    def attempt(self) -> None:
        """A build (an attempt of `api._again_if_changed`) starts: its requests are its own."""
        self.asked = []

    def redacting(self, redact: Callable[[RerankRequest], RerankRequest]) -> Rerank:
        """The `Rerank` a build passes to selection: each request redacted by `redact` (the build's
        own: `redacted`) before it is asked, once. The model's cache is keyed by the request as
        selection built it (`origin`): what redaction makes of it may differ with the redaction
        cache, the question does not."""

        def ask(request: RerankRequest) -> Reranked:
            digest = request.digest()
            if digest not in self._outcomes:
                self._sent[digest] = dataclasses.replace(redact(request), origin=digest)
                self._outcomes[digest] = self._rerank(self._sent[digest])
            self.asked.append(self._sent[digest])
            return self._outcomes[digest]

        return ask

    def calls(self) -> tuple[tuple[str, Usage, str], ...]:
        """(model, usage, error) of each call made in this run, for the caller's accounts (a cached answer
        made none)."""
        return tuple(
            (outcome.by, outcome.usage, outcome.error)
            for outcome in self._outcomes.values()
            if outcome.usage is not None
        )


def redacted(request: RerankRequest, redactor: Redactor) -> RerankRequest:
    """`request` redacted as the prompt is, by the build's `redactor` (one cache, saved once): the
    task, what the prompt carries beside the cards and every card's texts together, each whole, on
    its lines, before a card cuts it to one, a value found in one replaced in all; each title,
    heading and path on its own (`Shown`: one of the cards' own, so that a name of a card the
    prompt never carries renames nothing there), and with what its document and the task gave away.
    Two cards whose paths are redacted alike are told apart by a number.

    `Candidate.path` stays the real path, for the answer to be read by: what is sent is `user()`."""
    from generator.context.documents import query_terms
    from generator.context.redact import TASK, Shown

    shown = Shown(redactor)
    cards = [(c, [*c.start, c.best_text, *c.rest]) for c in request.candidates]
    pieces = [Piece(TASK, 1, request.task), *request.beside]
    for card, card_texts in cards:
        around = card.around or [("", "")] * len(card_texts)
        pieces += [Piece(card.path, 1, text, *context) for text, context in zip(card_texts, around, strict=True)]
    results = iter(redactor.redact(pieces))
    task = next(results)
    shown.also(task.values, query_terms)
    for piece in request.beside:
        shown.document(piece.path, next(results).values)
    found = [(candidate, [next(results) for _ in texts]) for candidate, texts in cards]
    for candidate, texts in found:
        shown.document(candidate.path, [value for result in texts for value in result.values])
    shown.add(name for c in request.candidates for name in (c.path, c.title, *c.headings, c.best_heading))
    shown.add(request.given)
    candidates = []
    for candidate, texts in found:
        path = candidate.path
        start = tuple(result.text for result in texts[: len(candidate.start)])
        candidates.append(
            Candidate(
                path,
                shown(candidate.title, path),
                tuple(shown(heading, path) for heading in candidate.headings),
                start,
                shown(candidate.best_heading, path),
                texts[len(candidate.start)].text,
                shown_path=shown(path, path),
            )
        )
    seen: dict[str, int] = {}
    for position, candidate in enumerate(candidates):
        label = candidate.shown_path
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1 or sum(other.shown_path == label for other in candidates) > 1:
            candidates[position] = dataclasses.replace(candidate, shown_path=f"{label} ({seen[label]})")
    given = tuple(shown(path, path) for path in request.given)
    return dataclasses.replace(request, task=task.text, given=given, candidates=tuple(candidates), beside=())


class Shelf(Protocol):
    """What a request is built from: the part of `select.Index` it reads (this module cannot import
    `select`, which imports it)."""

    def sections_of(self, path: str) -> list[Section] | None: ...

    def piece(self, section: Section, *, peek: bool = False) -> Piece: ...

    def retired(self, path: str) -> Retired | None: ...


def request_for(
    task: str,
    kind: str,
    given: Sequence[str],
    kept: Sequence[str],
    order: Sequence[str],
    hits: Mapping[str, Sequence[tuple[Section, float]]],
    index: Shelf,
    limit: int = MAX_CHOSEN,
) -> RerankRequest:
    """The re-rank of a task whose documents `given` go in anyway (listed for the kind, the
    project's, a superseded one's successor): the documents BM25 `kept`, then the best others of
    `order` (every ranked document, best first), `POOL` in all; not those that say they no longer
    hold (a superseded decision BM25 kept went out for its successor already)."""
    pool = [path for path in kept if path not in given]
    for path in order:
        if len(pool) >= POOL:
            break
        if path not in given and path not in pool and index.retired(path) is None:
            pool.append(path)
    candidates = tuple(_candidate(path, hits.get(path, ()), index) for path in pool)
    return RerankRequest(task, kind, tuple(given), candidates, limit)


def _candidate(path: str, hits: Sequence[tuple[Section, float]], index: Shelf) -> Candidate:
    sections = index.sections_of(path) or []
    title = title_of(sections[0]) if sections else path
    titled = [section for section in sections[1:] if section.heading][:MAX_HEADINGS]
    headings = tuple(section.heading for section in titled)
    start = [index.piece(section, peek=True) for section in sections[:2]]
    best = max(hits, key=lambda hit: hit[1])[0] if hits else None
    shown = best if best is not None and best.ordinal > 1 else None
    best_piece = index.piece(shown, peek=True) if shown is not None else Piece(path, 1, "")
    rest = [_start_piece(index.piece(s, peek=True), REST_CHARS) for s in titled if s.ordinal > 1 and s != shown]
    return Candidate(
        path,
        title,
        headings,
        tuple(piece.text for piece in start),
        shown.heading if shown is not None else "",
        best_piece.text,
        tuple(piece.text for piece in rest),
        around=tuple((piece.before, piece.after) for piece in (*start, best_piece, *rest)),
    )


def _start_piece(piece: Piece, limit: int) -> Piece:
    """`piece` cut to its start (`_start_of`), what is cut off scanned with it as what follows."""
    text = _start_of(piece.text, limit)
    # For a part, the same text to scan as the part whole (its section): one scan, cached, serves both.
    return dataclasses.replace(piece, text=text, after=piece.text[len(text) :] + piece.after)


def _start_of(text: str, limit: int) -> str:
    """The lines of `text` within its first `limit` characters (a value is not cut in two)."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    return head.rpartition("\n")[0] or head


def excerpt(text: str, limit: int) -> str:
    """`text` on one line, cut at a word before `limit` characters."""
    text = _SPACE.sub(" ", text).strip()
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def parse(text: str, request: RerankRequest) -> list[Choice]:
    """The answer's choices: candidates only, each once, the request's `limit` at most, best first.

    ValueError when the answer is not the JSON the schema asks for. A path that is no candidate
    is dropped (the model may not add a document the search did not find)."""
    documents = _documents(text)
    # The model names a document as its card did: redacted, quoted. `redacted` numbers cards named
    # alike; in a request built otherwise, two such cannot be told apart and neither is chosen.
    labels: dict[str, list[str]] = {}
    for candidate in request.candidates:
        for label in dict.fromkeys((candidate.label, html.unescape(candidate.label))):
            labels.setdefault(label, []).append(candidate.path)
    chosen: dict[str, str] = {}
    named = 0
    for item in documents:
        if not isinstance(item, dict) or not isinstance(item.get("path"), str):
            continue
        paths = labels.get(item["path"], [])
        named += bool(paths)
        why = item.get("why")
        if len(paths) == 1 and paths[0] not in chosen and len(chosen) < request.limit:
            chosen[paths[0]] = _one_line(why if isinstance(why, str) else "")
    if documents and not named:
        raise ValueError("the answer names no candidate")
    return [Choice(path, why) for path, why in chosen.items()]


def _documents(text: str) -> list[Any]:
    """The answer's list of documents; ValueError if it is not the JSON the schema asks for."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"the answer is not valid JSON ({error.msg} at character {error.pos})") from None
    except RecursionError:
        raise ValueError("the answer is JSON nested too deeply to read") from None
    except ValueError:  # a number of thousands of digits, say
        raise ValueError("the answer is not JSON Python can read") from None
    documents = data.get("documents") if isinstance(data, dict) else None
    if not isinstance(documents, list):
        raise ValueError("the answer has no list of documents")
    return documents


def _one_line(text: str) -> str:
    # A model's reason is shown on a terminal: no control character, no mark that makes it read otherwise.
    return excerpt(UNSHOWABLE.sub(" ", _SURROGATE.sub("\ufffd", text)), MAX_WHY_CHARS)


@dataclass
class ModelRerank:
    """`Rerank` by the Messages API (the fill step's client: its retries, deadline and redaction of
    the request, the key looked for in the decoded answer), each answer kept in `cache` (`Answers`)."""

    settings: Settings
    key: str
    cache: Path
    _client: Any = field(default=None, repr=False)

    def __call__(self, request: RerankRequest) -> Reranked:
        from generator.fill.client import JSON_ANSWER, configured_secrets, scrub
        from generator.fill.pricing import format_cost

        model = by = self.settings.main_model
        answers = Answers(self.cache, model)
        kept = answers.choices(request)
        if kept is not None:
            return Reranked(kept, by, f"{RERANKED}{by} (from the cache)")
        try:
            outcome = self._ask(model, request)
        except Exception as error:
            message = scrub(f"{type(error).__name__}: {error}", configured_secrets(self.key))
            return Reranked(None, by, error=message)
        if outcome.error or JSON_ANSWER not in outcome.bodies:
            reason = outcome.error or outcome.rejected.get(JSON_ANSWER) or "the answer is empty"
            return Reranked(None, by, error=reason, usage=outcome.usage)
        text = outcome.bodies[JSON_ANSWER]
        try:
            choices = parse(text, request)
        except ValueError as error:
            return Reranked(None, by, error=str(error), usage=outcome.usage)
        note = f"{RERANKED}{by}: 1 call, {format_cost(outcome.usage.cost(model))}"
        if not answers.keep(request, text):
            note += f"; its answer could not be kept in {answers.folder}, so the same request pays again"
        return Reranked(choices, by, note, usage=outcome.usage)

    def _ask(self, model: str, request: RerankRequest) -> Any:
        from generator.fill.client import Client, client_options

        if self._client is None:
            options = client_options(self.settings, self.key, default_timeout=DEFAULT_TIMEOUT_SECONDS)
            self._client = Client(options, feature="the model re-rank")
        system = [{"type": "text", "text": request.system()}]
        return self._client.ask_json(model, system, request.user(), OUTPUT_CONFIG, MAX_OUTPUT_TOKENS)


@dataclass(frozen=True)
class Answers:
    """The `model`'s answers kept in `folder`, each by the digest of the request as selection built it
    (`origin`) and the model: the same task on the same documents asks nothing again and selects the
    same. Reading one needs no key (`Probe`)."""

    folder: Path
    model: str

    def choices(self, request: RerankRequest) -> list[Choice] | None:
        """The kept answer to `request`, read; None when none is kept or it no longer reads as one."""
        saved = self._saved(self._digest(request))
        if saved is None:
            return None
        try:
            return parse(saved, request)
        except ValueError:
            return None  # a file that no longer parses: asked again

    def keep(self, request: RerankRequest, text: str) -> bool:
        """Keep the answer to `request`; False if the cache cannot be written (or a link is in its place),
        which only costs the call again."""
        digest = self._digest(request)
        if not cachefile.write(self._file(digest), json.dumps({"digest": digest, "answer": text})):
            return False
        with contextlib.suppress(OSError):
            _prune(self.folder)
        return True

    def _digest(self, request: RerankRequest) -> str:
        return digest_of(request.origin, self.model) if request.origin else request.digest(self.model)

    def _file(self, digest: str) -> Path:
        return self.folder / f"{digest[:32]}.json"

    def _saved(self, digest: str) -> str | None:
        raw = cachefile.read(self._file(digest), MAX_ANSWER_BYTES)  # none, a link, a FIFO, too large: asked again
        try:
            data = json.loads(raw) if raw is not None else None
        except (ValueError, RecursionError):
            return None  # damaged: asked again
        answer = data.get("answer") if isinstance(data, dict) and data.get("digest") == digest else None
        return answer if isinstance(answer, str) else None


def _prune(folder: Path) -> None:
    """The oldest answers out, beyond `MAX_CACHED`: one that is gone costs a call, never a wrong answer."""
    files = list(folder.glob("*.json"))
    if len(files) <= MAX_CACHED:
        return

    def age(file: Path) -> float:
        try:
            return file.lstat().st_mtime
        except OSError:
            return 0.0  # gone meanwhile, or unreadable: first to go

    for old in sorted(files, key=age)[: len(files) - MAX_CACHED]:
        cachefile.remove(old)


def cache_dir() -> Path:
    from generator.settings import user_cache_dir

    return user_cache_dir() / "rerank"

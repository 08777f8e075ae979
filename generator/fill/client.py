"""One call to the Messages API, turned into bodies or a reason there are none.

The SDK is imported here and only here, lazily (it takes one to three seconds to import). A
call retries 429, 529, 5xx and connection errors with the SDK's backoff (and `retry-after`),
all within one deadline (`ClientOptions.timeout`) over the whole call, retries' waits, every read
and a stream that only sends pings; what is left is an `Outcome` with an error. A stream is
not read past a size bound (`ClientOptions.max_region_bytes` per region asked for). Output
comes from the JSON schema in `output_config`; responses may start with thinking blocks, so
only text blocks are read.
"""

from __future__ import annotations

import gc
import json
import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from generator.context.tokens import CHARS_PER_TOKEN
from generator.fill.pricing import Usage
from generator.fill.prompt import NOTES, output_config
from generator.settings import AI_TIMEOUT, API_KEY, DEFAULT_AI_TIMEOUT, Settings

# Enough for a whole project's regions (an api of 20 resources needs about 50,000 at the size of
# a realistic answer, tests/test_limits.py), and the lowest output limit of the models scaffold
# prices (`pricing.PRICES`: claude-haiku-4-5 allows 64,000, the Sonnet and Opus 5.x models
# 128,000), so any of them may be configured. The SDK refuses a non-streamed request this long
# only when it is given no timeout of its own; `_create` always gives one.
MAX_TOKENS = 64_000
_TRUNCATED = {
    "max_tokens": "the answer was cut off at the output limit",
    "model_context_window_exceeded": "the prompt and answer exceeded the model's context window",
}

Progress = Callable[[int], None]
# The body an `ask_json` answer is read into: the whole text.
JSON_ANSWER = "answer"
_HOLDS_KEY = "the answer holds the API key (or another configured credential); not used"
# Marks that show nothing (soft hyphen, word joiner, zero widths, byte-order mark): a key written
# with them between its characters is still the key.
_INVISIBLE = re.compile(r"[\u00ad\u180e\u200b-\u200f\u2060-\u2064\ufeff]")


@dataclass
class Outcome:
    """What one call produced: bodies by region key (those asked for and not here are missing), or `error`."""

    model: str
    bodies: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    # What the model says it could not carry out, or assumed (the answer's optional `notes`).
    notes: str | None = None
    usage: Usage = field(default_factory=Usage)
    # Authentication and permission errors: asking another model will not help.
    fatal: bool = False
    # 400 and 404 (an unknown model, a request the API rejects): the same request to the same model fails the
    # same way. Timeouts and connection errors may pass, so they take the ladder like any API error.
    futile: bool = False
    # Bodies refused before any check, by region key, with the reason (e.g. they hold the API key).
    rejected: dict[str, str] = field(default_factory=dict)


DEFAULT_MAX_REGION_BYTES = 1_000_000
# Room in a stream's size bound for the JSON around the bodies.
_JSON_SLACK = 65_536
# The SDK's backoff (`_base_client`): 0.5 s doubling to 8 s, less up to a quarter of jitter; a server's
# retry-after is honoured up to a minute.
_RETRY_INITIAL, _RETRY_MAX, _RETRY_AFTER_MAX = 0.5, 8.0, 60.0


@dataclass(frozen=True)
class ClientOptions:
    api_key: str
    # Seconds one call may take in all: retries, their waits, the whole stream.
    timeout: float
    retries: int
    stream: bool = True
    max_region_bytes: int = DEFAULT_MAX_REGION_BYTES
    # Where `timeout` was set (`Resolved.origin` of ai_timeout), and whether the default was lengthened
    # for a long answer (`client_options`), for the message when it runs out.
    timeout_origin: str = "default"
    timeout_lengthened: bool = False

    def timed_out(self) -> str:
        """What a call that ran out of time reports: the deadline, and where it was set or can be."""
        if self.timeout_origin != "default":
            where = AI_TIMEOUT.where(self.timeout_origin)
        elif self.timeout_lengthened:
            where = f"the default, lengthened for a long answer; set {AI_TIMEOUT.where_to_set()}"
        else:
            where = f"the default; set {AI_TIMEOUT.where_to_set()}"
        seconds = f"{self.timeout:g}" if self.timeout < 1000 else f"{self.timeout:,.0f}"  # not 1e+06
        return f"no answer within {seconds} s ({where})"


# The output rate the default deadline allows for (the SDK plans with 128,000 tokens an hour): an
# answer expected to take longer than `DEFAULT_AI_TIMEOUT` at this rate gets that much longer.
SLOW_TOKENS_PER_SECOND = 35


def client_options(
    config: Settings, key: str, expected_output: int = 0, default_timeout: float = DEFAULT_AI_TIMEOUT
) -> ClientOptions:
    """The client's options from the settings; a bad timeout, retry count or switch fails here, before any call.

    `expected_output` is the first call's estimated answer in tokens: without a deadline of the
    user's own (SCAFFOLD_AI_TIMEOUT), a long answer (an api of twenty resources: about 50,000
    tokens) gets the time it needs at `SLOW_TOKENS_PER_SECOND`, not the default's 600 s. A short
    answer's call has a shorter `default_timeout` (a re-rank's).
    """
    timeout = config.timeout(needed=expected_output / SLOW_TOKENS_PER_SECOND, default=default_timeout)
    return ClientOptions(
        api_key=key,
        timeout=timeout,
        retries=config.retries(),
        stream=config.stream(),
        max_region_bytes=config.max_region_bytes(),
        timeout_origin=config.ai_timeout.origin,
        timeout_lengthened=timeout > config.timeout(default=default_timeout),  # a long answer given more time
    )


class _DeadlinePassed(Exception):
    """Raised when a call's time (`ClientOptions.timeout`) is up while its answer is still coming."""


class _TooLong(Exception):
    """Raised when a streamed answer passes its size bound; the message says so."""


class _BrokeOff(Exception):
    """Raised for an `error` event in the middle of a stream (e.g. overloaded); the message is the API's."""


_EVENTS = frozenset(
    {"message_start", "content_block_start", "content_block_delta", "message_delta", "message_stop", "error"}
)


@dataclass(frozen=True)
class _Body:
    """An error event's JSON where `_api_message` expects an SDK error (its `body`)."""

    body: Any


def _usage(raw: Any) -> Usage:
    """Usage from the SDK's object or a stream event's JSON."""
    if raw is None:
        return Usage()

    def count(name: str) -> int:
        value = raw.get(name) if isinstance(raw, Mapping) else getattr(raw, name, 0)
        return int(value or 0)

    return Usage(
        input=count("input_tokens"),
        output=count("output_tokens"),
        cache_write=count("cache_creation_input_tokens"),
        cache_read=count("cache_read_input_tokens"),
    )


def parse_answer(text: str, keys: Sequence[str]) -> tuple[dict[str, str], str | None, str | None]:
    """The requested keys' bodies from the JSON text, an error if it is not usable, and the model's notes."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        return {}, f"the answer is not valid JSON ({error.msg} at character {error.pos})", None
    if not isinstance(data, dict):
        return {}, "the answer is not a JSON object", None
    notes = data.get(NOTES)
    notes = notes.strip() if isinstance(notes, str) and notes.strip() and _encodable(notes) else None
    # A lone surrogate (JSON allows "\udcff") is no text a file can hold: that region's answer is unusable.
    return {key: data[key] for key in keys if isinstance(data.get(key), str) and _encodable(data[key])}, None, notes


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class Client:
    """A Messages API client for fill calls; `ANTHROPIC_BASE_URL` is honoured by the SDK."""

    def __init__(
        self, options: ClientOptions, progress: Progress | None = None, feature: str = "the AI fill step"
    ) -> None:
        from generator.plumbing.extras import AI, require

        require(AI, feature)
        import anthropic

        # The SDK leaves tens of thousands of long-lived objects; without this the collector walks them
        # again and again, and interpreter exit alone took 0.8 s (bench/ai_bench.py).
        gc.freeze()

        self._anthropic = anthropic
        self._options = options
        self._progress = progress
        # Retries are ours (`_create`), so their waits count against the call's deadline.
        self._client = anthropic.Anthropic(api_key=options.api_key, timeout=options.timeout, max_retries=0)

    def _ask(
        self,
        model: str,
        system: list[dict[str, Any]],
        user: str,
        keys: Sequence[str],
        schema_keys: Sequence[str],
        *,
        output: Mapping[str, Any] | None = None,
        max_tokens: int = MAX_TOKENS,
    ) -> Outcome:
        """One request for `keys`; never raises for API trouble, only for interrupts and bugs.

        The schema always names `schema_keys`, every region of the run: the schema is part of
        the prompt the API caches, so a repair call that narrowed it would miss the cache.
        With `output` (another answer format, `ask_json`), the whole answer is the body of the
        one key asked for.
        """
        anthropic = self._anthropic
        import httpx2

        request: Mapping[str, Any] = {
            "model": model,
            "max_tokens": max_tokens,
            "system": system,
            "messages": [{"role": "user", "content": user}],
            "output_config": output if output is not None else output_config(schema_keys),
        }
        deadline = time.monotonic() + self._options.timeout
        timed_out = self._options.timed_out()
        try:
            if self._options.stream:
                answer = self._stream(request, deadline, len(keys))
            else:
                answer = _Answer.of(self._create(request, deadline, stream=False))
        except (_DeadlinePassed, anthropic.APITimeoutError, httpx2.TimeoutException):
            return Outcome(model, error=timed_out)
        except _TooLong as error:
            return Outcome(model, error=str(error))
        except _BrokeOff as error:
            # An `error` event in the middle of a stream (e.g. overloaded), after a 200.
            return Outcome(model, error=f"the answer broke off: {error}")
        except anthropic.AuthenticationError:
            return Outcome(
                model,
                error=f"the API key was rejected (401); check {API_KEY.where_to_set()}",
                fatal=True,
            )
        except anthropic.PermissionDeniedError:
            return Outcome(model, error="the API key may not use this model or API (403)", fatal=True)
        except anthropic.APIStatusError as error:
            futile = error.status_code in (400, 404)
            return Outcome(model, error=f"the API answered {error.status_code}: {_api_message(error)}", futile=futile)
        except anthropic.APIConnectionError as error:
            return Outcome(model, error=f"the connection to the API failed: {_cause(error)}")
        except httpx2.TransportError as error:
            # A stream cut off while `_stream` reads its raw events is not wrapped by the SDK (its own
            # iterators wrap it as an APIConnectionError since anthropic 2.17).
            return Outcome(model, error=f"the connection broke off mid-answer: {type(error).__name__}: {error}")
        return self._read(model, answer, keys, whole=output is not None)

    def ask_json(
        self, model: str, system: list[dict[str, Any]], user: str, output: Mapping[str, Any], max_tokens: int
    ) -> Outcome:
        """`ask_safely` for an answer in another format than regions' bodies (`output`, an
        `output_config`): its whole text is the body `"answer"`, for the caller to parse.

        `ask_safely` looks for the key in the text; JSON may write it there as escapes, so it is
        looked for once more in the decoded answer, without the marks that show nothing."""
        outcome = self.ask_safely(model, system, user, [JSON_ANSWER], [], output, max_tokens)
        body = outcome.bodies.get(JSON_ANSWER)
        if body is not None:
            try:
                decoded = _INVISIBLE.sub("", json.dumps(json.loads(body), ensure_ascii=False))
            except (ValueError, RecursionError):
                return outcome  # not JSON: the caller's reading says so
            if scrub(decoded, configured_secrets(self._options.api_key)) != decoded:
                del outcome.bodies[JSON_ANSWER]
                outcome.rejected[JSON_ANSWER] = _HOLDS_KEY
        return outcome

    def ask_safely(
        self,
        model: str,
        system: list[dict[str, Any]],
        user: str,
        keys: Sequence[str],
        schema_keys: Sequence[str],
        output: Mapping[str, Any] | None = None,
        max_tokens: int = MAX_TOKENS,
    ) -> Outcome:
        """`_ask` with every likely secret redacted from the request, and the API key scrubbed from any error
        text (a gateway might echo it)."""
        system, user = redact_request(system, user)
        outcome = self._ask(model, system, user, keys, schema_keys, output=output, max_tokens=max_tokens)
        secrets = configured_secrets(self._options.api_key)
        if outcome.error:
            outcome.error = scrub(outcome.error, secrets)
        limit = self._options.max_region_bytes
        for key, body in list(outcome.bodies.items()):
            size = len(body.encode("utf-8", "replace"))
            if size > limit:
                del outcome.bodies[key]
                outcome.rejected[key] = (
                    f"the answer for this region is {size:,} bytes, over the limit of {limit:,} "
                    "(SCAFFOLD_AI_MAX_REGION_BYTES)"
                )
            elif scrub(body, secrets) != body:
                # A gateway (or a model shown the key) may echo it: such a body is never written, nor sent back.
                del outcome.bodies[key]
                outcome.rejected[key] = _HOLDS_KEY
        return outcome

    def _create(self, request: Mapping[str, Any], deadline: float, *, stream: bool) -> Any:
        """`messages.create`, retried like the SDK retries, with every attempt and wait inside `deadline`.

        Each attempt's timeout is the time left, so a silent server cannot hold a read past it either.
        """
        attempt = 0
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise _DeadlinePassed
            try:
                # The retry count header says what the SDK's own retries would say: a retry, not a new call.
                retry = {"x-stainless-retry-count": str(attempt)}
                return self._client.messages.create(stream=stream, timeout=left, extra_headers=retry, **request)
            except (self._anthropic.APIStatusError, self._anthropic.APIConnectionError) as error:
                wait = self._retry_wait(error, attempt) if attempt < self._options.retries else None
                if wait is None or time.monotonic() + wait >= deadline:
                    raise
            time.sleep(wait)
            attempt += 1

    def _retry_wait(self, error: Exception, attempt: int) -> float | None:
        """Seconds before retrying after `error`, or None when it is not worth a retry (as the SDK decides)."""
        if isinstance(error, self._anthropic.APIStatusError):
            headers = error.response.headers
            should = headers.get("x-should-retry")
            status = error.status_code
            if should == "false" or (should != "true" and status not in (408, 409, 429) and status < 500):
                return None
            after = _retry_after(headers)
            if after is not None and 0 < after <= _RETRY_AFTER_MAX:
                return after
        backoff = min(_RETRY_INITIAL * 2.0**attempt, _RETRY_MAX)
        return backoff * (1 - 0.25 * random.random())

    def _stream(self, request: Mapping[str, Any], deadline: float, regions: int) -> _Answer:
        """Read the raw event stream, pings included, so the clock is checked however the server stalls (the
        SDK's event iterator drops pings; its stream helper rebuilds a snapshot per event: twice the cost)."""
        answer = _Answer()
        text_blocks: set[int] = set()
        ascii_chars = other_chars = 0
        size, bound = 0, 2 * self._options.max_region_bytes * max(regions, 1) + _JSON_SLACK
        with self._create(request, deadline, stream=True) as stream:
            for sse in self._anthropic.Stream.raw_events(stream.response):
                if time.monotonic() > deadline:
                    raise _DeadlinePassed
                kind = sse.event
                if kind not in _EVENTS:
                    continue
                event = sse.json()
                if kind == "error":
                    raise _BrokeOff(_api_message(_Body(event)))
                if kind == "content_block_delta" and event["index"] in text_blocks:
                    if event["delta"].get("type") != "text_delta":
                        continue
                    piece = str(event["delta"].get("text", ""))
                    answer.parts.append(piece)
                    size += len(piece)
                    if size > bound:
                        raise _TooLong(
                            f"the answer passed {bound:,} characters for {regions} region{'s' * (regions != 1)} "
                            "and was not read further (SCAFFOLD_AI_MAX_REGION_BYTES)"
                        )
                    if self._progress is not None:
                        # The estimate of the whole text so far (per-delta estimates would round up every delta).
                        ascii_part = len(piece.encode("ascii", "ignore"))
                        ascii_chars, other_chars = ascii_chars + ascii_part, other_chars + len(piece) - ascii_part
                        self._progress(-(-ascii_chars // CHARS_PER_TOKEN) + other_chars)
                elif kind == "content_block_start" and event["content_block"].get("type") == "text":
                    text_blocks.add(event["index"])
                elif kind == "message_start":
                    answer.usage = _usage(event["message"].get("usage"))
                elif kind == "message_delta":
                    answer.stop = event["delta"].get("stop_reason")
                    answer.usage = _merge_usage(answer.usage, event.get("usage"))
                elif kind == "message_stop":
                    answer.complete = True
        return answer

    def _read(self, model: str, answer: _Answer, keys: Sequence[str], whole: bool = False) -> Outcome:
        usage, stop = answer.usage, answer.stop
        if not answer.complete:
            return Outcome(model, error="the answer broke off before its end (no message_stop)", usage=usage)
        if stop in _TRUNCATED:
            return Outcome(model, error=f"{_TRUNCATED[stop]} ({stop})", usage=usage)
        if stop == "refusal":
            return Outcome(model, error="the model declined to answer (refusal)", usage=usage)
        text = "".join(answer.parts)
        if whole:
            if not _encodable(text):
                return Outcome(model, error="the answer holds text that is not Unicode (a lone surrogate)", usage=usage)
            return Outcome(model, bodies={JSON_ANSWER: text}, usage=usage)
        bodies, error, notes = parse_answer(text, keys)
        return Outcome(model, bodies=bodies, error=error, notes=notes, usage=usage)


def configured_secrets(api_key: str | None) -> tuple[str, ...]:
    """The credentials this run is configured with: the API key, ANTHROPIC_AUTH_TOKEN, a password in
    ANTHROPIC_BASE_URL. None of them may reach a file, a commit or a prompt."""
    import contextlib
    import os
    from urllib.parse import urlsplit

    values = [api_key or "", os.environ.get("ANTHROPIC_AUTH_TOKEN", "")]
    with contextlib.suppress(ValueError):  # a malformed URL is the SDK's to report
        values.append(urlsplit(os.environ.get("ANTHROPIC_BASE_URL", "")).password or "")
    # Very short values would match ordinary text; no real credential is that short.
    return tuple(sorted({value for value in values if len(value) >= 8}, key=len, reverse=True))


def scrub(text: str, secrets: Sequence[str]) -> str:
    """`text` with each configured credential replaced by `[API key]`."""
    for secret in secrets:
        text = text.replace(secret, "[API key]")
    return text


def redact_request(system: list[dict[str, Any]], user: str) -> tuple[list[dict[str, Any]], str]:
    """The request's text with likely secrets redacted, as `scaffold context` redacts documents.

    The documents were redacted when they were chosen; the user message (answers, the region
    files, a repair call's attempts and check output) is redacted here, the last step before the
    network. Redaction is deterministic, so the system prompt stays byte-identical for the cache.
    """
    from generator.context.documents import redaction_cache
    from generator.context.redact import Piece, Redactor

    redactor = Redactor(redaction_cache())
    pieces = [Piece("<system>", 1, str(block["text"])) for block in system] + [Piece("<request>", 1, user)]
    *blocks, message = redactor.redact(pieces)
    redactor.save()
    return [{**block, "text": result.text} for block, result in zip(system, blocks, strict=True)], message.text


@dataclass
class _Answer:
    """A response reduced to what a fill needs: its text blocks, why it stopped, its usage."""

    parts: list[str] = field(default_factory=list)
    stop: str | None = None
    usage: Usage = field(default_factory=Usage)
    complete: bool = False

    @classmethod
    def of(cls, message: Any) -> _Answer:
        # Thinking blocks may come first: only text blocks hold the JSON.
        parts = [block.text for block in message.content if getattr(block, "type", None) == "text"]
        return cls(parts, getattr(message, "stop_reason", None), _usage(getattr(message, "usage", None)), True)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """A server's `retry-after-ms` or `retry-after` (seconds or an HTTP date), as the SDK reads them."""
    from email.utils import parsedate_to_datetime

    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return float(value) / scale
        except ValueError:
            pass
        try:
            return parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return None


def _merge_usage(start: Usage, delta: Any) -> Usage:
    """message_delta carries the final output count, and may repeat (or correct) the input and cache counts."""
    if delta is None:
        return start
    final = _usage(delta)
    return Usage(
        input=final.input or start.input,
        output=final.output or start.output,
        cache_write=final.cache_write or start.cache_write,
        cache_read=final.cache_read or start.cache_read,
    )


def _api_message(error: Any) -> str:
    body = getattr(error, "body", None)
    if isinstance(body, dict):
        detail = body.get("error")
        if isinstance(detail, dict) and detail.get("message"):
            return f"{detail.get('type', 'error')}: {detail['message']}"
    return str(getattr(error, "message", error)).splitlines()[0]


def _cause(error: BaseException) -> str:
    cause = error.__cause__ or error.__context__
    return str(cause or error).splitlines()[0] if str(cause or error) else type(cause or error).__name__


def probe(api_key: str, model: str, timeout: float) -> tuple[str, str | None]:
    """Whether the API answers with this key: the endpoint asked (ANTHROPIC_BASE_URL or the SDK's default,
    without any credentials in it), and None when it answered, else why not, with the key scrubbed.

    Counting the tokens of one word is the smallest request that proves the key, the endpoint and
    the model name, and it costs nothing. No retries: `scaffold doctor` reports, it does not wait.
    The endpoint is shown without user, password or query: a gateway may carry credentials there.
    """
    from urllib.parse import urlsplit, urlunsplit

    from generator.plumbing.extras import AI, require

    require(AI, "checking the API")
    import anthropic

    client = anthropic.Anthropic(api_key=api_key, timeout=timeout, max_retries=0)
    parts = urlsplit(str(client.base_url))
    endpoint = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2], query="", fragment="")).rstrip("/")
    try:
        client.messages.count_tokens(model=model, messages=[{"role": "user", "content": "ping"}])
    except anthropic.AuthenticationError:
        error = "the API key was rejected (401)"
    except anthropic.PermissionDeniedError:
        error = "the API key may not use this API (403)"
    except anthropic.APIStatusError as status:
        error = f"the API answered {status.status_code}: {_api_message(status)}"
    except anthropic.APITimeoutError:
        error = f"no answer within {timeout:g} s"
    except anthropic.APIConnectionError as failed:
        error = f"the connection failed: {_cause(failed)}"
    else:
        return endpoint, None
    return endpoint, scrub(error, configured_secrets(api_key))

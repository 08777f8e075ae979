"""One call to the Messages API, turned into bodies or a reason there are none.

The SDK (imported here and only here, lazily: it takes one to three seconds to import) does its
own retries of 429, 529, 5xx and connection errors with backoff; what is left after them
is an `Outcome` with an error. Output comes from the JSON schema in `output_config`;
responses may start with thinking blocks, so only text blocks are read.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from generator.context.tokens import CHARS_PER_TOKEN
from generator.fill.pricing import Usage
from generator.fill.prompt import output_config

# Enough for a whole project's regions; streaming keeps the SDK from refusing it as too slow.
MAX_TOKENS = 32_000
_TRUNCATED = {
    "max_tokens": "the answer was cut off at the output limit",
    "model_context_window_exceeded": "the prompt and answer exceeded the model's context window",
}

Progress = Callable[[int], None]


@dataclass
class Outcome:
    """What one call produced: bodies by region key (those asked for and not here are missing), or `error`."""

    model: str
    bodies: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    usage: Usage = field(default_factory=Usage)
    # Authentication and permission errors: asking another model will not help.
    fatal: bool = False
    # 400 and 404 (an unknown model, a request the API rejects): the same request to the same model fails the
    # same way. Timeouts and connection errors may pass, so they take the ladder like any API error.
    futile: bool = False
    # Bodies refused before any check, by region key, with the reason (e.g. they hold the API key).
    rejected: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ClientOptions:
    api_key: str
    timeout: float
    retries: int
    stream: bool = True


def _usage(raw: Any) -> Usage:
    if raw is None:
        return Usage()
    return Usage(
        input=int(getattr(raw, "input_tokens", 0) or 0),
        output=int(getattr(raw, "output_tokens", 0) or 0),
        cache_write=int(getattr(raw, "cache_creation_input_tokens", 0) or 0),
        cache_read=int(getattr(raw, "cache_read_input_tokens", 0) or 0),
    )


def parse_answer(text: str, keys: Sequence[str]) -> tuple[dict[str, str], str | None]:
    """The requested keys' bodies from the JSON text, and an error if it is not usable."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        return {}, f"the answer is not valid JSON ({error.msg} at character {error.pos})"
    if not isinstance(data, dict):
        return {}, "the answer is not a JSON object"
    return {key: data[key] for key in keys if isinstance(data.get(key), str)}, None


class Client:
    """A Messages API client for fill calls; `ANTHROPIC_BASE_URL` is honoured by the SDK."""

    def __init__(self, options: ClientOptions, progress: Progress | None = None) -> None:
        import anthropic

        # The SDK leaves tens of thousands of long-lived objects; without this the collector walks them
        # again and again, and interpreter exit alone took 0.8 s (bench/ai_bench.py).
        gc.freeze()

        self._anthropic = anthropic
        self._options = options
        self._progress = progress
        self._client = anthropic.Anthropic(
            api_key=options.api_key, timeout=options.timeout, max_retries=options.retries
        )

    def _ask(
        self, model: str, system: list[dict[str, Any]], user: str, keys: Sequence[str], schema_keys: Sequence[str]
    ) -> Outcome:
        """One request for `keys`; never raises for API trouble, only for interrupts and bugs.

        The schema always names `schema_keys`, every region of the run: the schema is part of
        the prompt the API caches, so a repair call that narrowed it would miss the cache.
        """
        anthropic = self._anthropic
        import httpx2

        request: Mapping[str, Any] = {
            "model": model,
            "max_tokens": MAX_TOKENS,
            "system": system,
            "messages": [{"role": "user", "content": user}],
            "output_config": output_config(schema_keys),
        }
        try:
            if self._options.stream:
                answer = self._stream(request)
            else:
                answer = _Answer.of(self._client.messages.create(**request))
        except anthropic.AuthenticationError:
            return Outcome(
                model,
                error="the API key was rejected (401); check ANTHROPIC_API_KEY or anthropic_api_key in the user config",
                fatal=True,
            )
        except anthropic.PermissionDeniedError:
            return Outcome(model, error="the API key may not use this model or API (403)", fatal=True)
        except anthropic.APIStatusError as error:
            if error.status_code == 200:
                # An `error` event in the middle of a stream (e.g. overloaded): the SDK keeps the HTTP status.
                return Outcome(model, error=f"the answer broke off: {_api_message(error)}")
            futile = error.status_code in (400, 404)
            return Outcome(model, error=f"the API answered {error.status_code}: {_api_message(error)}", futile=futile)
        except anthropic.APITimeoutError:
            timeout = self._options.timeout
            return Outcome(model, error=f"no answer within {timeout:g} s (SCAFFOLD_AI_TIMEOUT)")
        except anthropic.APIConnectionError as error:
            return Outcome(model, error=f"the connection to the API failed: {_cause(error)}")
        except httpx2.TransportError as error:
            # A stream cut off while being read is not wrapped by the SDK.
            return Outcome(model, error=f"the connection broke off mid-answer: {type(error).__name__}: {error}")
        return self._read(model, answer, keys)

    def ask_safely(
        self, model: str, system: list[dict[str, Any]], user: str, keys: Sequence[str], schema_keys: Sequence[str]
    ) -> Outcome:
        """`_ask` with every likely secret redacted from the request, and the API key scrubbed from any error
        text (a gateway might echo it)."""
        system, user = redact_request(system, user)
        outcome = self._ask(model, system, user, keys, schema_keys)
        secrets = configured_secrets(self._options.api_key)
        if outcome.error:
            outcome.error = scrub(outcome.error, secrets)
        for key, body in list(outcome.bodies.items()):
            # A gateway (or a model shown the key) may echo it: such a body is never written, nor sent back.
            if scrub(body, secrets) != body:
                del outcome.bodies[key]
                outcome.rejected[key] = "the answer holds the API key (or another configured credential); not used"
        return outcome

    def _stream(self, request: Mapping[str, Any]) -> _Answer:
        """Read the raw event stream (the SDK's stream helper rebuilds a snapshot per event: twice the cost)."""
        answer = _Answer()
        text_blocks: set[int] = set()
        ascii_chars = other_chars = 0
        for event in self._client.messages.create(stream=True, **request):
            kind = event.type
            if kind == "content_block_delta" and event.index in text_blocks and event.delta.type == "text_delta":
                answer.parts.append(event.delta.text)
                if self._progress is not None:
                    # The estimate of the whole text so far (per-delta estimates would round up every delta).
                    piece = event.delta.text
                    ascii_part = len(piece.encode("ascii", "ignore"))
                    ascii_chars, other_chars = ascii_chars + ascii_part, other_chars + len(piece) - ascii_part
                    self._progress(-(-ascii_chars // CHARS_PER_TOKEN) + other_chars)
            elif kind == "content_block_start" and event.content_block.type == "text":
                text_blocks.add(event.index)
            elif kind == "message_start":
                answer.usage = _usage(event.message.usage)
            elif kind == "message_delta":
                answer.stop = event.delta.stop_reason
                answer.usage = _merge_usage(answer.usage, event.usage)
            elif kind == "message_stop":
                answer.complete = True
        return answer

    def _read(self, model: str, answer: _Answer, keys: Sequence[str]) -> Outcome:
        usage, stop = answer.usage, answer.stop
        if not answer.complete:
            return Outcome(model, error="the answer broke off before its end (no message_stop)", usage=usage)
        if stop in _TRUNCATED:
            return Outcome(model, error=f"{_TRUNCATED[stop]} ({stop})", usage=usage)
        if stop == "refusal":
            return Outcome(model, error="the model declined to answer (refusal)", usage=usage)
        bodies, error = parse_answer("".join(answer.parts), keys)
        return Outcome(model, bodies=bodies, error=error, usage=usage)


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
    from generator.context.documents import cache_root
    from generator.context.redact import Piece, Redactor

    redactor = Redactor(cache_root() / "redactions.json")
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
    return endpoint, error.replace(api_key, "[API key]")

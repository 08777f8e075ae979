"""A fake Anthropic Messages API on 127.0.0.1, so tests drive the real `anthropic` SDK (in-process or via
`ANTHROPIC_BASE_URL` in a `scaffold` subprocess) without network, keys or cost.

Usage::

    with FakeAnthropic(Reply.message("hi")) as fake:
        client = anthropic.Anthropic(api_key="sk-test", base_url=fake.base_url)
        ...
        assert fake.messages()[0]["model"] == "claude-..."

The wire format follows what the SDK parses (`anthropic/_streaming.py`, `lib/streaming/_messages.py`): SSE events
need an `event:` line (events without one are skipped), usage arrives in `message_start` and again, cumulatively,
in `message_delta`. Every response carries `Connection: close`, so no pooled connection can go stale between
replies, and SSE streams use chunked encoding, so a stream cut off mid-way is an error for the client, not a
silently short message.
"""

from __future__ import annotations

import json
import socket
import socketserver
import struct
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import urlsplit

MESSAGES_PATH = "/v1/messages"
COUNT_TOKENS_PATH = "/v1/messages/count_tokens"
NO_REPLY_MESSAGE = "fake API: no reply queued"

# What the real API calls each status's error, used when a test gives only the status.
ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
STATUS_FOR_TYPE: dict[str, int] = {error_type: status for status, error_type in ERROR_TYPES.items()}


def _retryable(status: int) -> bool:
    """The statuses the SDK retries by default (`_base_client._should_retry`)."""
    return status in (408, 409, 429) or status >= 500


@dataclass(frozen=True)
class Usage:
    """Token counts a reply reports, so cost and cache accounting can be tested."""

    input_tokens: int = 1000
    output_tokens: int = 200
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0

    def as_dict(self, *, output_tokens: int | None = None) -> dict[str, int]:
        """The `usage` object as the API sends it."""
        return {
            "input_tokens": self.input_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "output_tokens": self.output_tokens if output_tokens is None else output_tokens,
        }


@dataclass(frozen=True)
class Recorded:
    """One request the fake received, so tests can assert on exactly what the client sent."""

    method: str
    path: str  # without the query string (beta calls add `?beta=true`)
    headers: dict[str, str]  # lower-cased names
    body: dict[str, Any]  # the parsed JSON request body ({} when there was none)

    @property
    def streaming(self) -> bool:
        """Whether the client asked for an SSE stream."""
        return self.body.get("stream") is True


ReplyKind = Literal["message", "error", "hang", "reset", "malformed_stream", "stream_error", "ping_forever"]


@dataclass(frozen=True)
class Reply:
    """How the fake answers one request; build one with the class methods, not the constructor."""

    kind: ReplyKind
    text: str = ""
    stop_reason: str = "end_turn"
    thinking: str | None = None
    usage: Usage = field(default_factory=Usage)
    model: str | None = None
    chunk_delay: float = 0.0
    chunk_size: int = 40
    status: int = 200
    error_type: str = "api_error"
    error_message: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @classmethod
    def message(
        cls,
        text: str,
        *,
        stop_reason: str = "end_turn",
        thinking: str | None = None,
        usage: Usage | None = None,
        model: str | None = None,
        chunk_delay: float = 0.0,
        chunk_size: int = 40,
    ) -> Reply:
        """One assistant message (thinking block first when `thinking` is given), as JSON or SSE as requested.

        `chunk_delay` seconds pass between text deltas of `chunk_size` characters, to simulate a token rate.
        `model` defaults to the request's model.
        """
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        return cls(
            "message",
            text=text,
            stop_reason=stop_reason,
            thinking=thinking,
            usage=usage or Usage(),
            model=model,
            chunk_delay=chunk_delay,
            chunk_size=chunk_size,
        )

    @classmethod
    def error(
        cls,
        status: int,
        *,
        type: str | None = None,
        message: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """Anthropic's error JSON with `status`; `type` defaults to the API's name for that status.

        Statuses the SDK retries get `retry-after-ms: 1` so retries are instant; `headers` add to or override that
        (e.g. `{"x-should-retry": "false"}`).
        """
        error_type = type or ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
        merged = {"retry-after-ms": "1"} if _retryable(status) else {}
        merged.update(headers or {})
        return cls(
            "error",
            status=status,
            error_type=error_type,
            error_message=message or f"fake API: {error_type} (HTTP {status})",
            headers=merged,
        )

    @classmethod
    def hang(cls, seconds: float) -> Reply:
        """Read the request, wait `seconds` (cut short when the fake closes), then answer 500: for client timeouts."""
        return cls("hang", seconds=seconds)

    @classmethod
    def ping_forever(cls, text: str = "{", *, seconds: float = 1.0) -> Reply:
        """A stream that sends `text` as one delta, then a `ping` event every `seconds` until the client goes away
        (or the fake closes): each read gets bytes in time, so only a deadline over the whole call stops it.

        Answered to a non-streaming request by hanging the same way, without a byte.
        """
        return cls("ping_forever", text=text, seconds=seconds)

    @classmethod
    def reset(cls) -> Reply:
        """Read the request, then reset the connection (TCP RST) without any response."""
        return cls("reset")

    @classmethod
    def malformed_stream(cls, text: str = "This answer is cut off in the mid", *, chunk_size: int = 8) -> Reply:
        """A stream that sends `text` in a few deltas, then drops the connection without `message_stop`.

        Answered to a non-streaming request as a JSON body cut off half-way.
        """
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        return cls("malformed_stream", text=text, chunk_size=chunk_size)

    @classmethod
    def stream_error(cls, text: str = "", *, type: str = "overloaded_error", message: str = "Overloaded") -> Reply:
        """A 200 stream that sends `text`, then an SSE `error` event, as the real API does when overloaded mid-way.

        Answered to a non-streaming request as the matching HTTP error (529 for `overloaded_error`).
        """
        return cls("stream_error", text=text, error_type=type, error_message=message)


class _Closing(Exception):
    """Raised inside a handler when the fake shuts down while a reply is waiting."""


class _Server(ThreadingHTTPServer):
    """A threaded server that skips the reverse-DNS lookup of `HTTPServer.server_bind` and keeps quiet."""

    daemon_threads = True
    request_queue_size = 128
    fake: FakeAnthropic

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that time out or reset are expected here; anything else still reaches stderr."""
        if isinstance(sys.exc_info()[1], OSError | _Closing):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Routes /v1/messages to the fake's replies and answers count_tokens; one request per connection."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request access log."""

    def do_POST(self) -> None:
        self._handle()

    def do_GET(self) -> None:
        self._handle()

    def _handle(self) -> None:
        fake = self.server.fake
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            parsed = json.loads(raw) if raw else {}
        except ValueError:
            parsed = None
        request = Recorded(
            method=self.command,
            path=urlsplit(self.path).path,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=parsed if isinstance(parsed, dict) else {},
        )
        number = fake._record(request)
        self._request_id = f"req_fake_{number}"
        try:
            if parsed is None or not isinstance(parsed, dict):
                self._send_error(400, "invalid_request_error", "fake API: the request body is not a JSON object")
            elif request.method == "POST" and request.path == COUNT_TOKENS_PATH:
                self._send_json(200, {"input_tokens": len(raw) // 4})
            elif request.method == "POST" and request.path == MESSAGES_PATH:
                self._answer_messages(fake, request)
            else:
                self._send_error(404, "not_found_error", f"fake API: no route for {request.method} {request.path}")
        except (OSError, _Closing):
            self.close_connection = True  # the client went away, or the fake is shutting down

    def _answer_messages(self, fake: FakeAnthropic, request: Recorded) -> None:
        problem = _invalid_messages_body(request.body)
        if problem:
            self._send_error(400, "invalid_request_error", f"fake API: {problem}")
            return
        reply = fake._next_reply(request)
        if isinstance(reply, str):
            # Not retryable, so the SDK fails at once with the reason instead of backing off.
            self._send_error(500, "api_error", reply, {"x-should-retry": "false"})
            return
        kind = reply.kind
        if kind == "message":
            self._send_message(fake, request, reply)
        elif kind == "error":
            self._send_error(reply.status, reply.error_type, reply.error_message, reply.headers)
        elif kind == "hang":
            fake._sleep(reply.seconds)
            self._send_error(500, "api_error", "fake API: answered after hanging", {"retry-after-ms": "1"})
        elif kind == "reset":
            self._reset()
        elif kind == "malformed_stream":
            self._send_malformed(fake, request, reply)
        elif kind == "stream_error":
            self._send_stream_error(fake, request, reply)
        elif kind == "ping_forever":
            self._send_pings(fake, request, reply)

    # --- plain HTTP --------------------------------------------------------------------------------------------

    def _start(self, status: int, content_type: str, headers: Mapping[str, str], length: int | None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length is None:
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Cache-Control", "no-cache")
        else:
            self.send_header("Content-Length", str(length))
        self.send_header("request-id", self._request_id)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Connection", "close")  # also sets self.close_connection
        self.end_headers()

    def _send_json(self, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        self._start(status, "application/json", headers or {}, len(data))
        self.wfile.write(data)

    def _send_error(self, status: int, error_type: str, message: str, headers: Mapping[str, str] | None = None) -> None:
        self._send_json(status, _error_body(error_type, message), headers)

    def _reset(self) -> None:
        """Close with SO_LINGER 0, so the client sees a reset rather than an orderly end."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()  # drop makefile()'s reference, so close() below really closes the socket
        self.connection.close()
        self.close_connection = True

    # --- SSE ---------------------------------------------------------------------------------------------------

    def _start_stream(self) -> None:
        self._start(200, "text/event-stream; charset=utf-8", {}, None)

    def _event(self, name: str, payload: Mapping[str, Any]) -> None:
        data = f"event: {name}\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n".encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")

    def _send_message(self, fake: FakeAnthropic, request: Recorded, reply: Reply) -> None:
        message = fake._new_message(request, reply)
        if not request.streaming:
            message["content"] = _content_blocks(reply, message["id"])
            message["stop_reason"] = reply.stop_reason
            message["usage"] = reply.usage.as_dict()
            self._send_json(200, message)
            return
        self._start_stream()
        self._event("message_start", {"type": "message_start", "message": message})
        self._event("ping", {"type": "ping"})
        index = 0
        if reply.thinking is not None:
            self._event(
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": _thinking_start()},
            )
            for piece in _chunks(reply.thinking, reply.chunk_size):
                self._delta(index, {"type": "thinking_delta", "thinking": piece})
            self._delta(index, {"type": "signature_delta", "signature": _signature(message["id"])})
            self._event("content_block_stop", {"type": "content_block_stop", "index": index})
            index += 1
        self._text_block(fake, index, reply.text, reply.chunk_size, reply.chunk_delay)
        self._event("content_block_stop", {"type": "content_block_stop", "index": index})
        self._event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": reply.stop_reason, "stop_sequence": None},
                "usage": reply.usage.as_dict(),
            },
        )
        self._event("message_stop", {"type": "message_stop"})
        self._end_stream()

    def _delta(self, index: int, delta: Mapping[str, Any]) -> None:
        self._event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})

    def _text_block(self, fake: FakeAnthropic, index: int, text: str, size: int, delay: float) -> None:
        """Start a text block and send its deltas (not the stop, so callers can cut the stream short)."""
        start = {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}
        self._event("content_block_start", start)
        for number, piece in enumerate(_chunks(text, size)):
            if number and delay > 0:
                fake._sleep(delay)
            self._delta(index, {"type": "text_delta", "text": piece})

    def _send_malformed(self, fake: FakeAnthropic, request: Recorded, reply: Reply) -> None:
        message = fake._new_message(request, reply)
        if not request.streaming:
            message["content"] = [{"type": "text", "text": reply.text}]
            data = json.dumps(message).encode()
            self._start(200, "application/json", {}, len(data))
            self.wfile.write(data[: len(data) // 2])
            self.close_connection = True
            return
        self._start_stream()
        self._event("message_start", {"type": "message_start", "message": message})
        self._text_block(fake, 0, reply.text, reply.chunk_size, 0.0)
        self.close_connection = True  # no terminating chunk: the client sees an incomplete chunked body

    def _send_pings(self, fake: FakeAnthropic, request: Recorded, reply: Reply) -> None:
        if not request.streaming:
            while True:
                fake._sleep(reply.seconds)
        self._start_stream()
        self._event("message_start", {"type": "message_start", "message": fake._new_message(request, reply)})
        self._text_block(fake, 0, reply.text, max(1, len(reply.text)), 0.0)
        while True:  # until the client hangs up (OSError) or the fake closes (_Closing)
            fake._sleep(reply.seconds)
            self._event("ping", {"type": "ping"})
            self.wfile.flush()

    def _send_stream_error(self, fake: FakeAnthropic, request: Recorded, reply: Reply) -> None:
        if not request.streaming:
            status = STATUS_FOR_TYPE.get(reply.error_type, 500)
            self._send_error(status, reply.error_type, reply.error_message, {"retry-after-ms": "1"})
            return
        self._start_stream()
        self._event("message_start", {"type": "message_start", "message": fake._new_message(request, reply)})
        if reply.text:
            self._text_block(fake, 0, reply.text, reply.chunk_size, 0.0)
        self._event("error", _error_body(reply.error_type, reply.error_message))
        self._end_stream()


def _invalid_messages_body(body: Mapping[str, Any]) -> str | None:
    """What the real API would reject before any model ran; None when the body is acceptable."""
    if not isinstance(body.get("model"), str):
        return "model: Field required"
    if not isinstance(body.get("max_tokens"), int):
        return "max_tokens: Field required"
    if not isinstance(body.get("messages"), list):
        return "messages: Field required"
    return None


def _error_body(error_type: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": error_type, "message": message}}


def _chunks(text: str, size: int) -> Iterable[str]:
    return (text[start : start + size] for start in range(0, len(text), size))


def _signature(message_id: str) -> str:
    """An opaque stand-in for the API's thinking signature (clients must pass it back unchanged)."""
    return f"fake-signature-{message_id}"


def _thinking_start() -> dict[str, str]:
    return {"type": "thinking", "thinking": "", "signature": ""}


def _content_blocks(reply: Reply, message_id: str) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if reply.thinking is not None:
        blocks.append({"type": "thinking", "thinking": reply.thinking, "signature": _signature(message_id)})
    blocks.append({"type": "text", "text": reply.text})
    return blocks


ReplySource = Callable[[Recorded], Reply]


class FakeAnthropic:
    """Context manager: serves the Messages API on 127.0.0.1 (a free port) from daemon threads.

    Replies are used in order, one per POST /v1/messages; when none is queued, `responder(request)` answers; with
    neither, the request gets a non-retryable 500 saying "fake API: no reply queued".
    """

    def __init__(self, *replies: Reply, responder: ReplySource | None = None) -> None:
        self.requests: list[Recorded] = []
        self.responder = responder
        self._replies: deque[Reply] = deque(replies)
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._message_count = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind a free port and serve; `with FakeAnthropic(...)` does this for you."""
        if self._server is not None:
            return self
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        # A short poll interval, because shutdown() waits for the serve loop to notice it.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.01}, name="fake-anthropic", daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving at once: waiting replies are abandoned and their connections dropped."""
        self._closing.set()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    # --- what tests use ----------------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """E.g. "http://127.0.0.1:PORT", for `base_url=` or `ANTHROPIC_BASE_URL`."""
        if self._server is None:
            raise RuntimeError("FakeAnthropic is not running; use it as a context manager")
        return f"http://127.0.0.1:{self._server.server_port}"

    def env(self, api_key: str = "sk-test") -> dict[str, str]:
        """Variables that point an SDK in a subprocess here (and keep any HTTP proxy out of the way)."""
        return {
            "ANTHROPIC_BASE_URL": self.base_url,
            "ANTHROPIC_API_KEY": api_key,
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }

    def queue(self, *replies: Reply) -> None:
        """Add replies, used after those already queued."""
        with self._lock:
            self._replies.extend(replies)

    @property
    def pending(self) -> int:
        """How many queued replies no request has used yet."""
        with self._lock:
            return len(self._replies)

    def messages(self) -> list[dict[str, Any]]:
        """The bodies of every POST /v1/messages so far, in order."""
        with self._lock:
            return [r.body for r in self.requests if r.method == "POST" and r.path == MESSAGES_PATH]

    # --- used by the handler threads ---------------------------------------------------------------------------

    def _record(self, request: Recorded) -> int:
        with self._lock:
            self.requests.append(request)
            return len(self.requests)

    def _next_reply(self, request: Recorded) -> Reply | str:
        """The next reply, or why there is none (answered as a 500)."""
        with self._lock:
            if self._replies:
                return self._replies.popleft()
        if self.responder is None:
            return NO_REPLY_MESSAGE
        try:
            reply = self.responder(request)
        except Exception as exc:
            return f"fake API: responder raised {exc!r}"
        if not isinstance(reply, Reply):
            return f"fake API: responder returned {reply!r}, not a Reply"
        return reply

    def _new_message(self, request: Recorded, reply: Reply) -> dict[str, Any]:
        """A message as `message_start` carries it: no content or stop reason yet, one output token."""
        with self._lock:
            self._message_count += 1
            number = self._message_count
        return {
            "id": f"msg_fake_{number}",
            "type": "message",
            "role": "assistant",
            "model": reply.model or request.body.get("model") or "claude-fake",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": reply.usage.as_dict(output_tokens=1),
        }

    def _sleep(self, seconds: float) -> None:
        """Wait, unless the fake closes first (then abandon the reply)."""
        if self._closing.wait(seconds):
            raise _Closing

"""The fake Anthropic API speaks the wire format the real `anthropic` SDK parses: proven with the SDK, no mocks."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import anthropic
import httpx2
import pytest

from tests.fakeapi import NO_REPLY_MESSAGE, FakeAnthropic, Recorded, Reply, Usage
from tests.helpers import wait_until

MODEL = "claude-test-model"  # not a real id, so the SDK has no deprecation warning for it
PROMPT: dict[str, Any] = {"model": MODEL, "max_tokens": 256, "messages": [{"role": "user", "content": "Hi"}]}


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's HTTP proxy must not intercept requests to 127.0.0.1."""
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)


def client(fake: FakeAnthropic, **options: Any) -> anthropic.Anthropic:
    options.setdefault("max_retries", 2)
    return anthropic.Anthropic(api_key="sk-test", base_url=fake.base_url, **options)


def test_create_returns_text_usage_and_ids() -> None:
    usage = Usage(input_tokens=1200, output_tokens=34, cache_creation_input_tokens=500, cache_read_input_tokens=700)
    with FakeAnthropic(Reply.message("Héllo ✓ world", usage=usage)) as fake:
        message = client(fake).messages.create(**PROMPT)

    assert [block.type for block in message.content] == ["text"]
    assert message.content[0].text == "Héllo ✓ world"
    assert (message.id, message.model, message.role, message.stop_reason) == (
        "msg_fake_1",
        MODEL,
        "assistant",
        "end_turn",
    )
    assert message.stop_sequence is None
    assert message.usage.input_tokens == 1200
    assert message.usage.output_tokens == 34
    assert message.usage.cache_creation_input_tokens == 500
    assert message.usage.cache_read_input_tokens == 700
    assert message._request_id == "req_fake_1"
    [request] = fake.requests
    assert (request.method, request.path, request.streaming) == ("POST", "/v1/messages", False)
    # anthropic 2.x sends the key as a bearer token; older SDKs used x-api-key.
    assert "sk-test" in (
        request.headers.get("x-api-key"),
        request.headers.get("authorization", "").removeprefix("Bearer "),
    )


def test_model_override_and_thinking_without_streaming() -> None:
    with FakeAnthropic(Reply.message("Answer.", thinking="Hmm.", model="claude-other")) as fake:
        message = client(fake).messages.create(**PROMPT)
    assert message.model == "claude-other"
    assert [block.type for block in message.content] == ["thinking", "text"]
    assert message.content[0].thinking == "Hmm."
    assert message.content[0].signature


def test_stream_sends_thinking_then_text_deltas() -> None:
    text = "The answer, after some thought, is forty-two."
    usage = Usage(input_tokens=10, output_tokens=77, cache_creation_input_tokens=3, cache_read_input_tokens=4)
    reply = Reply.message(text, thinking="Let me think about this.", usage=usage, chunk_size=8)
    with FakeAnthropic(reply) as fake, client(fake).messages.stream(**PROMPT) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()

    assert "".join(pieces) == text
    assert len(pieces) == 6  # 45 characters in deltas of 8
    assert [block.type for block in final.content] == ["thinking", "text"]
    thinking, answer = final.content
    assert isinstance(thinking, anthropic.types.ThinkingBlock) and isinstance(answer, anthropic.types.TextBlock)
    assert thinking.thinking == "Let me think about this."
    assert thinking.signature.startswith("fake-signature-")
    assert answer.text == text
    assert final.stop_reason == "end_turn"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (10, 77)
    assert (final.usage.cache_creation_input_tokens, final.usage.cache_read_input_tokens) == (3, 4)
    assert fake.requests[0].streaming


def test_raw_stream_events_follow_the_api_order() -> None:
    usage = Usage(input_tokens=5, output_tokens=9, cache_read_input_tokens=2)
    with FakeAnthropic(Reply.message("abc", thinking="t", usage=usage, chunk_size=2)) as fake:
        events = list(client(fake).messages.create(stream=True, **PROMPT))

    kinds = [e.type if e.type != "content_block_delta" else e.delta.type for e in events]
    assert kinds == [
        "message_start",
        "content_block_start",
        "thinking_delta",
        "signature_delta",
        "content_block_stop",
        "content_block_start",
        "text_delta",
        "text_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    start, delta = events[0], events[-2]
    assert start.message.usage.output_tokens == 1
    assert (start.message.usage.input_tokens, start.message.usage.cache_read_input_tokens) == (5, 2)
    assert start.message.stop_reason is None
    assert (delta.delta.stop_reason, delta.usage.output_tokens, delta.usage.input_tokens) == ("end_turn", 9, 5)


@pytest.mark.parametrize("stop_reason", ["max_tokens", "refusal"])
def test_stop_reason_passes_through(stop_reason: str) -> None:
    replies = [Reply.message("partial", stop_reason=stop_reason) for _ in range(2)]
    with FakeAnthropic(*replies) as fake:
        api = client(fake)
        assert api.messages.create(**PROMPT).stop_reason == stop_reason
        with api.messages.stream(**PROMPT) as stream:
            assert stream.get_final_message().stop_reason == stop_reason


def test_rate_limit_and_overload_are_retried_quickly() -> None:
    replies = [Reply.error(429), Reply.error(529), Reply.message("finally")]
    with FakeAnthropic(*replies) as fake:
        started = time.monotonic()
        message = client(fake, max_retries=2).messages.create(**PROMPT)
        elapsed = time.monotonic() - started

    assert message.content[0].text == "finally"
    assert len(fake.requests) == 3
    assert [r.headers["x-stainless-retry-count"] for r in fake.requests] == ["0", "1", "2"]
    assert elapsed < 1.0  # retry-after-ms: 1, not the SDK's 0.5 s+ backoff


def test_error_body_and_type_reach_the_sdk() -> None:
    with FakeAnthropic(Reply.error(529, message="Overloaded")) as fake, pytest.raises(anthropic.OverloadedError) as err:
        client(fake, max_retries=0).messages.create(**PROMPT)
    assert err.value.body == {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    assert err.value.request_id == "req_fake_1"


def test_persistent_server_error_gives_up() -> None:
    with FakeAnthropic(*[Reply.error(500)] * 3) as fake:
        with pytest.raises(anthropic.InternalServerError):
            client(fake, max_retries=1).messages.create(**PROMPT)
        assert len(fake.requests) == 2
        assert fake.pending == 1


def test_x_should_retry_false_stops_retries() -> None:
    with FakeAnthropic(Reply.error(503, headers={"x-should-retry": "false"}), Reply.message("unused")) as fake:
        with pytest.raises(anthropic.InternalServerError):
            client(fake).messages.create(**PROMPT)
        assert len(fake.requests) == 1


def test_hang_times_out_the_client() -> None:
    # Bounds far from both ends: a loaded machine must not fail it, a timeout not applied must.
    with FakeAnthropic(Reply.hang(20)) as fake:
        started = time.monotonic()
        with pytest.raises(anthropic.APITimeoutError):
            client(fake, timeout=0.5, max_retries=0).messages.create(**PROMPT)
        assert time.monotonic() - started < 10
    assert len(fake.requests) == 1


def test_reset_is_a_connection_error() -> None:
    with FakeAnthropic(Reply.reset()) as fake, pytest.raises(anthropic.APIConnectionError):
        client(fake, max_retries=0).messages.create(**PROMPT)


def test_reset_then_success_is_retried() -> None:
    with FakeAnthropic(Reply.reset(), Reply.message("ok")) as fake:
        assert client(fake, max_retries=1).messages.create(**PROMPT).content[0].text == "ok"
        assert len(fake.requests) == 2


def test_stream_cut_off_raises_the_transport_error_or_a_connection_error_over_it() -> None:
    """A stream cut off while the SDK's own iterators read it: httpx2's error up to anthropic 2.16, an
    APIConnectionError over it from 2.17. (scaffold reads raw events, `Client._stream` in fill/client.py, where the
    transport error comes through unwrapped, and catches both.)"""
    with FakeAnthropic(Reply.malformed_stream("one two three four", chunk_size=4)) as fake:
        received: list[str] = []
        with (
            pytest.raises((httpx2.RemoteProtocolError, anthropic.APIConnectionError)) as raised,
            client(fake).messages.stream(**PROMPT) as stream,
        ):
            received.extend(stream.text_stream)
    assert received == ["one ", "two ", "thre", "e fo", "ur"]
    error = raised.value
    assert isinstance(
        error.__cause__ if isinstance(error, anthropic.APIConnectionError) else error, httpx2.TransportError
    )


def test_truncated_json_body_is_a_connection_error() -> None:
    with FakeAnthropic(Reply.malformed_stream()) as fake, pytest.raises(anthropic.APIConnectionError):
        client(fake, max_retries=0).messages.create(**PROMPT)


def test_error_event_mid_stream() -> None:
    """An `error` event on a 200 stream becomes a plain APIStatusError (the class follows the HTTP status)."""
    with FakeAnthropic(Reply.stream_error("partial ")) as fake:
        received: list[str] = []
        with pytest.raises(anthropic.APIStatusError) as err, client(fake).messages.stream(**PROMPT) as stream:
            received.extend(stream.text_stream)
    assert received == ["partial "]
    assert type(err.value) is anthropic.APIStatusError
    assert err.value.body == {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}


def test_base_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeAnthropic(Reply.message("via env")) as fake:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.base_url)
        message = anthropic.Anthropic(api_key="sk-test", max_retries=0).messages.create(**PROMPT)
        assert fake.env()["ANTHROPIC_BASE_URL"] == fake.base_url
    assert message.content[0].text == "via env"


def test_request_body_is_recorded_as_sent() -> None:
    system: list[anthropic.types.TextBlockParam] = [
        {"type": "text", "text": "You fill in project files."},
        {"type": "text", "text": "Team knowledge ...", "cache_control": {"type": "ephemeral"}},
    ]
    output_config: anthropic.types.OutputConfigParam = {
        "effort": "low",
        "format": {"type": "json_schema", "schema": {"type": "object"}},
    }
    with FakeAnthropic(Reply.message("{}")) as fake:
        client(fake).messages.create(
            system=system,
            output_config=output_config,
            thinking={"type": "enabled", "budget_tokens": 1024},
            **{**PROMPT, "max_tokens": 2048},
        )

    [body] = fake.messages()
    assert body["system"] == system
    assert body["output_config"] == output_config
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    assert (body["model"], body["max_tokens"], body["messages"]) == (MODEL, 2048, PROMPT["messages"])
    assert "stream" not in body


def test_responder_answers_once_the_queue_is_empty() -> None:
    seen: list[Recorded] = []

    def echo(request: Recorded) -> Reply:
        seen.append(request)
        return Reply.message(f"echo: {request.body['messages'][-1]['content']}")

    with FakeAnthropic(Reply.message("queued"), responder=echo) as fake:
        api = client(fake)
        assert api.messages.create(**PROMPT).content[0].text == "queued"
        assert api.messages.create(**PROMPT).content[0].text == "echo: Hi"
        fake.queue(Reply.message("queued later"))
        assert api.messages.create(**PROMPT).content[0].text == "queued later"
    assert len(seen) == 1


def test_no_reply_fails_at_once_with_a_clear_message() -> None:
    with FakeAnthropic() as fake:
        with pytest.raises(anthropic.InternalServerError, match=NO_REPLY_MESSAGE):
            client(fake).messages.create(**PROMPT)
        assert len(fake.requests) == 1  # x-should-retry: false, so no retries


def test_responder_error_is_reported() -> None:
    def broken(request: Recorded) -> Reply:
        raise KeyError("oops")

    with FakeAnthropic(responder=broken) as fake, pytest.raises(anthropic.InternalServerError, match="oops"):
        client(fake).messages.create(**PROMPT)


def test_count_tokens_is_answered_without_using_a_reply() -> None:
    with FakeAnthropic(Reply.message("kept")) as fake:
        count = client(fake).messages.count_tokens(model=MODEL, messages=PROMPT["messages"])
        assert count.input_tokens == int(fake.requests[0].headers["content-length"]) // 4
        assert fake.pending == 1
        assert fake.messages() == []
        assert fake.requests[0].path == "/v1/messages/count_tokens"


def test_chunk_delay_paces_text_deltas() -> None:
    reply = Reply.message("x" * 50, chunk_size=10, chunk_delay=0.05)
    with FakeAnthropic(reply) as fake, client(fake).messages.stream(**PROMPT) as stream:
        started = time.monotonic()
        arrivals = [time.monotonic() - started for _ in stream.text_stream]
    assert len(arrivals) == 5
    # Four pauses of 0.05 s, less a loaded machine's clock jitter, counted from the stream's start: a pause of
    # the reader's own (a garbage collection of what an earlier test left) only delays the first arrival.
    assert arrivals[-1] >= 0.15


def test_concurrent_requests_are_all_answered() -> None:
    with FakeAnthropic(responder=lambda request: Reply.message(request.body["messages"][0]["content"])) as fake:
        api = client(fake)
        results: dict[int, str] = {}

        def ask(n: int) -> None:
            prompt = {**PROMPT, "messages": [{"role": "user", "content": f"q{n}"}]}
            results[n] = api.messages.create(**prompt).content[0].text

        threads = [threading.Thread(target=ask, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert results == {n: f"q{n}" for n in range(8)}
    assert len(fake.requests) == 8


def test_unknown_route_and_invalid_body_are_client_errors() -> None:
    with FakeAnthropic(Reply.message("unused")) as fake:
        with pytest.raises(anthropic.NotFoundError):
            client(fake).models.list()
        request = urllib.request.Request(f"{fake.base_url}/v1/messages", data=b'{"model": "m"}', method="POST")
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(request, timeout=5)
        assert err.value.code == 400
        assert json.load(err.value)["error"]["type"] == "invalid_request_error"
        assert fake.pending == 1


def test_close_is_quick_even_while_a_reply_hangs() -> None:
    fake = FakeAnthropic(Reply.hang(30)).start()
    request = urllib.request.Request(f"{fake.base_url}/v1/messages", data=json.dumps(PROMPT).encode(), method="POST")
    worker = threading.Thread(target=_swallow, args=(lambda: urllib.request.urlopen(request, timeout=5),))
    worker.start()
    wait_until(lambda: fake.requests, "the request to reach the fake")
    started = time.monotonic()
    fake.close()
    assert time.monotonic() - started < 10  # not the 30 s the reply hangs
    worker.join(timeout=30)
    assert not worker.is_alive()


def _swallow(call: Callable[[], object]) -> None:
    with contextlib.suppress(Exception):
        call()

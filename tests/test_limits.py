"""Limits: SCAFFOLD_AI_TIMEOUT is a deadline over a whole call, answers and answer files have size bounds."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from generator.cli import main
from generator.context.tokens import estimate_tokens
from generator.fill.client import MAX_TOKENS, SLOW_TOKENS_PER_SECOND, Client, ClientOptions, Outcome, client_options
from generator.settings import DEFAULT_AI_TIMEOUT, Settings
from tests.fakeapi import FakeAnthropic, Recorded, Reply
from tests.fillfakes import KEY, answer, requested, tagged

REGION = "src/app.py#main"
ANSWERS = Path(__file__).parent / "answers"


def ask(fake: FakeAnthropic, **options: float | int | bool) -> tuple[Outcome, float]:
    """One call through the real client to the fake (its address comes from the `fake` fixture's environment)."""
    settings = {"timeout": 60.0, "retries": 0, "stream": True, **options}
    client = Client(ClientOptions(api_key=KEY, **settings))  # type: ignore[arg-type]
    start = time.monotonic()
    outcome = client.ask_safely("claude-sonnet-5-5", [{"type": "text", "text": "role"}], "fill it", [REGION], [REGION])
    return outcome, time.monotonic() - start


def test_the_largest_api_a_template_allows_is_answered_within_the_output_limit() -> None:
    # The api template allows 20 resources, each with six regions, all asked for in one call. At the
    # size of the realistic shop answer (two resources), twenty resources' answer must fit in it:
    # at 32,000 tokens it did not, and the cut-off answer left every region on its fallback.
    answer = json.loads((ANSWERS / "api-shop.json").read_text())["answer"]
    per_resource = {key: body for key, body in answer.items() if key.endswith(("-orders", "-customers"))}
    shared = {key: body for key, body in answer.items() if key not in per_resource}
    assert len(per_resource) == 2 * 6
    twenty = estimate_tokens(json.dumps(shared)) + 10 * estimate_tokens(json.dumps(per_resource))
    assert twenty < MAX_TOKENS, f"an api of 20 resources needs about {twenty:,} output tokens"


def test_a_long_answer_gets_a_longer_default_deadline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Twenty resources' answer (about 50,000 tokens) would not stream within the default 600 s at
    # a slow rate: that default grows with the answer expected; a deadline the user set is kept.
    monkeypatch.delenv("SCAFFOLD_AI_TIMEOUT", raising=False)
    assert client_options(Settings.load(), KEY, expected_output=5_000).timeout == DEFAULT_AI_TIMEOUT
    longer = client_options(Settings.load(), KEY, expected_output=50_000)
    assert longer.timeout == 50_000 / SLOW_TOKENS_PER_SECOND
    assert longer.timed_out().startswith("no answer within 1,429 s (the default, lengthened for a long answer; set ")
    assert 50_000 / SLOW_TOKENS_PER_SECOND > DEFAULT_AI_TIMEOUT
    monkeypatch.setenv("SCAFFOLD_AI_TIMEOUT", "90")
    options = client_options(Settings.load(), KEY, expected_output=50_000)
    assert options.timeout == 90 and options.timed_out() == "no answer within 90 s ($SCAFFOLD_AI_TIMEOUT)"
    monkeypatch.delenv("SCAFFOLD_AI_TIMEOUT")
    config = tmp_path / "config.yml"
    config.write_text("ai_timeout: 120\n")
    monkeypatch.setenv("SCAFFOLD_CONFIG", str(config))
    options = client_options(Settings.load(), KEY)
    assert options.timed_out() == "no answer within 120 s ('ai_timeout' in the user config)"


def test_a_stream_that_only_pings_stops_at_the_deadline(fake: FakeAnthropic) -> None:
    fake.queue(Reply.ping_forever('{"src/app.py#main": "x', seconds=1.0))
    outcome, seconds = ask(fake, timeout=2.0)
    where = "the default; set $SCAFFOLD_AI_TIMEOUT or 'ai_timeout' in the user config"
    assert outcome.error == f"no answer within 2 s ({where})"
    assert 2.0 <= seconds < 4.0  # the first ping after the deadline; a per-read timeout never fires


def test_the_deadline_includes_retries_and_their_waits(fake: FakeAnthropic) -> None:
    for _ in range(3):
        fake.queue(Reply.error(529, headers={"retry-after-ms": "30000"}))
    outcome, seconds = ask(fake, timeout=1.0, retries=2)
    # The server asked for 30 s before a retry: past the deadline, so the call ends now with the 529.
    assert outcome.error == "the API answered 529: overloaded_error: fake API: overloaded_error (HTTP 529)"
    assert seconds < 1.0 and len(fake.requests) == 1


def test_retries_within_the_deadline_still_happen(fake: FakeAnthropic) -> None:
    fake.queue(Reply.error(529), Reply.reset(), Reply.message(json.dumps({REGION: "x = 1\n"})))
    outcome, _ = ask(fake, timeout=30.0, retries=2)
    assert outcome.error is None and outcome.bodies == {REGION: "x = 1\n"}
    assert len(fake.requests) == 3


def test_a_stream_is_not_read_past_its_size_bound(fake: FakeAnthropic) -> None:
    fake.queue(Reply.message(json.dumps({REGION: "x" * 400_000}), chunk_size=4096))
    outcome, _ = ask(fake, max_region_bytes=1_000)
    assert outcome.error is not None
    assert outcome.error.startswith("the answer passed 67,536 characters for 1 region and was not read further")


def test_an_oversized_region_is_a_failed_fill(
    project: Path, fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SCAFFOLD_AI_MAX_REGION_BYTES", "2000")

    def huge(request: Recorded) -> Reply:
        return Reply.message(answer(project, requested(request), lambda region: tagged(region, "y" * 3000)))

    fake.responder = huge
    assert main(["fill", str(project)]) == 3
    out = capsys.readouterr().out
    assert "over the limit of 2,000 (SCAFFOLD_AI_MAX_REGION_BYTES)" in out
    assert "y" * 3000 not in "".join(p.read_text() for p in project.rglob("*.py"))


def test_a_bad_region_limit_is_a_usage_error(
    project: Path, fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SCAFFOLD_AI_MAX_REGION_BYTES", "1MB")
    assert main(["fill", str(project)]) == 2
    assert "$SCAFFOLD_AI_MAX_REGION_BYTES must be a whole number of bytes above 0, not '1MB'" in (
        capsys.readouterr().err
    )
    assert fake.requests == []


BOMB = "\n".join(
    ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [f"{b}: &{b} [{', '.join(['*' + a] * 9)}]" for a, b in zip("abcdefgh", "bcdefghi", strict=True)]
)


def new(tmp_path: Path, data_file: Path) -> list[str]:
    return [
        "new-service",
        "ledger",
        "--defaults",
        "--no-ai",
        "--dest",
        str(tmp_path / "out"),
        "--data-file",
        str(data_file),
    ]


def test_an_alias_bomb_fails_fast_and_small(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bomb = tmp_path / "answers.yml"
    bomb.write_text(BOMB + "\n")
    start = time.monotonic()
    assert main(new(tmp_path, bomb)) == 2
    assert time.monotonic() - start < 2
    err = capsys.readouterr().err
    assert err == (
        f"scaffold: error: --data-file {bomb} uses a YAML alias (*a) at line 2; answers files may not use anchors "
        "and aliases: write the value out\n"
    )
    assert not (tmp_path / "out").exists()


def test_an_oversized_answers_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    big = tmp_path / "answers.yml"
    big.write_text("description: " + "x" * 1_100_000 + "\n")
    assert main(new(tmp_path, big)) == 2
    err = capsys.readouterr().err
    assert err == (
        f"scaffold: error: --data-file {big} is larger than 1,000,000 bytes; an answers file holds a few answers\n"
    )

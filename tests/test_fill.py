"""The AI fill step end to end: real SDK, real Copier and git, a fake Messages API on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.cli import main
from generator.errors import UsageError
from generator.fill.record import RECORD_FILE
from generator.fill.regions import find_regions
from generator.pipeline import FillRequest, fill_project
from generator.settings import Settings
from tests.fakeapi import FakeAnthropic, Recorded, Reply, Usage
from tests.fillfakes import (
    KEY,
    TAG,
    Offers,
    answer,
    asked_for,
    broken,
    broken_reply,
    commits,
    outside_regions,
    region_keys,
    requested,
    tagged,
    valid_reply,
    worktree,
)
from tests.helpers import GIT_IDENTITY, SERVICE_REGIONS, run
from tests.test_context_fixtures import MAP, make_home, read_limits

SONNET, OPUS = "claude-sonnet-5-5", "claude-opus-5-5"


@pytest.mark.parametrize("stream", ["1", "0"])
def test_one_call_fills_every_region(
    project: Path, fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], stream: str
) -> None:
    monkeypatch.setenv("SCAFFOLD_AI_STREAM", stream)
    fake.responder = valid_reply(project, thinking="Let me plan the regions first.")
    before = outside_regions(project)

    assert main(["fill", str(project)]) == 0

    assert len(fake.requests) == 1
    body = fake.requests[0].body
    assert body.get("stream", False) is (stream == "1")
    assert body["model"] == SONNET
    # The context prefix is cached: the last system block carries cache_control, the role block does not.
    assert [("cache_control" in block) for block in body["system"]] == [False, True]
    assert "patterns.md" in body["system"][-1]["text"]
    schema = body["output_config"]["format"]["schema"]
    regions = region_keys(project)
    assert schema["required"] == regions and schema["additionalProperties"] is False
    assert set(schema["properties"]) == {*regions, "notes"}
    # Bytes outside the regions are unchanged; every region holds the fill.
    assert outside_regions(project) == before
    for region in find_regions(project):
        assert TAG in region.body, region.key
    records = yaml.safe_load((project / RECORD_FILE).read_text())["regions"]
    assert set(records) == set(regions)
    assert {entry["model"] for entry in records.values()} == {SONNET}
    assert all(len(entry["prompt_sha256"]) == 64 and "patterns.md" in entry["context"] for entry in records.values())
    # The fills are one commit on top of the render, and the tree is clean.
    assert commits(project)[0].startswith(f"Fill {SERVICE_REGIONS} template regions with claude-sonnet-5-5")
    assert commits(project)[1].startswith("Render the service template")
    assert run(["git", "status", "--porcelain"], cwd=project).stdout == ""
    out = capsys.readouterr().out
    assert f"{SERVICE_REGIONS} of {SERVICE_REGIONS} regions filled" in out and "1 call" in out


@pytest.fixture
def team_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A knowledge home of the team's own, the one the fill and `scaffold check` use."""
    home = make_home(tmp_path / "team-home")
    monkeypatch.setenv("SCAFFOLD_HOME", str(home))
    return home


def test_check_names_fills_whose_context_documents_changed_since(
    project: Path,
    fake: FakeAnthropic,
    team_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from generator.context import sections

    fake.responder = valid_reply(project)
    assert main(["fill", str(project)]) == 0
    records = yaml.safe_load((project / RECORD_FILE).read_text())["regions"]
    assert all("patterns.md" in entry["context"] for entry in records.values())

    def stale() -> list[str]:
        return stale_fills(project, capsys)

    assert stale() == []
    # `scaffold check` reads a document the prompt carried no further than a document may be.
    limits = read_limits(monkeypatch, "patterns.md")
    patterns = team_home / "context" / "patterns.md"
    patterns.write_text(patterns.read_text() + "\n## Queues\n\nUse SQS with a dead-letter queue.\n")
    assert stale() == sorted(records)
    assert limits and set(limits) == {sections.MAX_DOCUMENT_BYTES + 1}
    # A document gone, or become a link out of the home, is a change too (and is not read).
    patterns.unlink()
    (tmp_path / "elsewhere.md").write_text("# Patterns\n")
    patterns.symlink_to(tmp_path / "elsewhere.md")
    limits.clear()
    assert stale() == sorted(records)
    assert limits == [sections.MAX_DOCUMENT_BYTES + 1]  # one reading for all the regions, refused


def test_check_names_fills_whose_documents_changed_while_the_prompt_was_built(
    project: Path,
    fake: FakeAnthropic,
    team_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The record keeps the digest of what the prompt carried: an edit saved after the context was read
    # (an editor, a `git pull` during the fill) must show as a change, not become what was sent.
    from generator.context import api

    patterns = team_home / "context" / "patterns.md"
    sent = patterns.read_bytes()
    real = api.build_context

    def then_edited(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        patterns.write_text(patterns.read_text() + "\n## Queues\n\nUse SQS with a dead-letter queue.\n")
        return result

    monkeypatch.setattr(api, "build_context", then_edited)
    fake.responder = valid_reply(project)
    assert main(["fill", str(project)]) == 0
    records = yaml.safe_load((project / RECORD_FILE).read_text())["regions"]
    assert {entry["context"]["patterns.md"] for entry in records.values()} == {hashlib.sha256(sent).hexdigest()}
    assert stale_fills(project, capsys) == sorted(records)


def stale_fills(project: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """The regions `scaffold check` names stale. Read from --json: the exit code also says whether the
    template source is reachable, which a render from this checkout's working tree may not be."""
    capsys.readouterr()
    main(["check", "--json", str(project)])
    [result] = json.loads(capsys.readouterr().out)
    return list(result["stale"])


def test_running_fill_twice_changes_nothing(
    project: Path, fake: FakeAnthropic, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.responder = valid_reply(project)
    assert main(["fill", str(project)]) == 0
    snapshot = worktree(project)
    assert main(["fill", str(project)]) == 0
    assert len(fake.requests) == 1
    assert worktree(project) == snapshot
    assert "Nothing to fill" in capsys.readouterr().out


def test_refill_asks_for_one_region_only(project: Path, fake: FakeAnthropic) -> None:
    fake.responder = valid_reply(project)
    assert main(["fill", str(project)]) == 0
    fake.responder = lambda request: Reply.message(answer(project, requested(request), lambda r: tagged(r, "again")))
    assert main(["fill", str(project), "--refill", "domain-tests"]) == 0
    assert requested(fake.requests[-1]) == ["tests/test_domain.py#domain-tests"]
    bodies = {r.id: r.body for r in find_regions(project)}
    assert "again" in bodies["domain-tests"] and "again" not in bodies["domain"]
    assert len(commits(project)) == 3


def test_refill_of_an_unknown_region_is_a_usage_error(
    project: Path, fake: FakeAnthropic, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["fill", str(project), "--refill", "nope"]) == 2
    assert "no such region" in capsys.readouterr().err
    assert fake.requests == []


def test_invalid_fill_is_repaired_by_sonnet(project: Path, fake: FakeAnthropic) -> None:
    first = json.loads(answer(project, region_keys(project)))
    domain = next(r for r in find_regions(project) if r.id == "domain")
    first[domain.key] = broken(domain)
    fake.queue(Reply.message(json.dumps(first)))
    fake.responder = valid_reply(project, usage=Usage(cache_read_input_tokens=9000))

    assert main(["fill", str(project)]) == 0

    assert [r.body["model"] for r in fake.requests] == [SONNET, SONNET]
    assert asked_for(fake.requests[1]) == [domain.key]
    # The schema, part of the cached prompt, is the same on both calls; so is the system prefix.
    assert fake.requests[0].body["output_config"] == fake.requests[1].body["output_config"]
    repair = fake.requests[1].body["messages"][0]["content"]
    assert "SyntaxError" in repair or "invalid syntax" in repair or "expected" in repair
    assert "def broken(:" in repair
    # The cached prefix is byte-identical across the calls.
    assert fake.requests[0].body["system"] == fake.requests[1].body["system"]
    assert all(TAG in r.body for r in find_regions(project))


def test_an_invalid_requirement_goes_to_the_repair_call(project: Path, fake: FakeAnthropic) -> None:
    first = json.loads(answer(project, region_keys(project)))
    first["pyproject.toml#dependencies"] = '    "httpx=>0.27",\n'
    fake.queue(Reply.message(json.dumps(first)))
    fake.responder = valid_reply(project)

    assert main(["fill", str(project)]) == 0

    assert asked_for(fake.requests[1]) == ["pyproject.toml#dependencies"]
    repair = fake.requests[1].body["messages"][0]["content"]
    assert "'httpx=>0.27' is not a valid PEP 508 requirement" in repair
    assert '"httpx=>0.27"' not in (project / "pyproject.toml").read_text(encoding="utf-8")


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_a_fill_that_adds_a_dependency_makes_make_reinstall_the_environment(project: Path, fake: FakeAnthropic) -> None:
    # An environment built before the fill: its stamp is newer than pyproject.toml.
    os.utime(project / "pyproject.toml", (time.time() - 3600, time.time() - 3600))
    (project / ".venv").mkdir()
    (project / ".venv/.installed").touch()
    assert run(["make", "-q", ".venv/.installed"], cwd=project, check=False).returncode == 0
    bodies = json.loads(answer(project, region_keys(project)))
    bodies["pyproject.toml#dependencies"] = '    "attrs>=23,<26",\n'
    fake.queue(Reply.message(json.dumps(bodies)))

    assert main(["fill", str(project)]) == 0

    assert '    "attrs>=23,<26",\n' in (project / "pyproject.toml").read_text(encoding="utf-8")
    # The gate's make check (and the user's next one) installs again, with the new package.
    assert run(["make", "-q", ".venv/.installed"], cwd=project, check=False).returncode == 1


def test_a_type_error_goes_to_the_repair_call_with_mypys_message(project: Path, fake: FakeAnthropic) -> None:
    first = json.loads(answer(project, region_keys(project)))
    domain = next(r for r in find_regions(project) if r.id == "domain")
    first[domain.key] = tagged(domain) + 'LIMIT: int = "a"\n'
    fake.queue(Reply.message(json.dumps(first)))
    fake.responder = valid_reply(project)

    assert main(["fill", str(project)]) == 0

    assert asked_for(fake.requests[1]) == [domain.key]
    repair = fake.requests[1].body["messages"][0]["content"]
    assert 'Incompatible types in assignment (expression has type "str", variable has type "int")' in repair
    assert 'LIMIT: int = "a"' not in (project / domain.path).read_text(encoding="utf-8")


def test_an_ignore_for_an_import_the_fast_check_cannot_judge_is_left_to_the_gate(
    project: Path, fake: FakeAnthropic
) -> None:
    # The fast mypy turns import-not-found and import-untyped off (a package a fill declares is installed by
    # the gate's make check); an ignore for them then looked unused to it, and the repair that dropped the
    # ignore failed the project's own mypy (seen with `import yaml  # type: ignore[import-untyped]`).
    first = json.loads(answer(project, region_keys(project)))
    domain = next(r for r in find_regions(project) if r.id == "domain")
    ignored = "    import zz_not_installed  # type: ignore[import-not-found]\n"
    first[domain.key] = tagged(domain) + f"\n\ndef plugin() -> object:\n{ignored}\n    return zz_not_installed.NAME\n"
    fake.queue(Reply.message(json.dumps(first)))
    fake.responder = valid_reply(project)

    assert main(["fill", str(project)]) == 0

    assert len(fake.requests) == 1
    assert ignored in (project / domain.path).read_text(encoding="utf-8")


def test_an_unused_ignore_for_another_code_still_goes_to_the_repair_call(project: Path, fake: FakeAnthropic) -> None:
    first = json.loads(answer(project, region_keys(project)))
    domain = next(r for r in find_regions(project) if r.id == "domain")
    first[domain.key] = tagged(domain) + "LIMIT: int = 1  # type: ignore[assignment]\n"
    fake.queue(Reply.message(json.dumps(first)))
    fake.responder = valid_reply(project)

    assert main(["fill", str(project)]) == 0

    assert asked_for(fake.requests[1]) == [domain.key]
    assert 'Unused "type: ignore" comment' in fake.requests[1].body["messages"][0]["content"]


def test_opus_succeeds_where_sonnet_twice_failed(
    project: Path, fake: FakeAnthropic, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.queue(
        Reply.message(answer(project, region_keys(project), broken)),
        Reply.message(answer(project, region_keys(project), broken)),
    )
    fake.responder = valid_reply(project)

    assert main(["fill", str(project)]) == 0

    assert [r.body["model"] for r in fake.requests] == [SONNET, SONNET, OPUS]
    records = yaml.safe_load((project / RECORD_FILE).read_text())["regions"]
    assert {entry["model"] for entry in records.values()} == {OPUS}
    out = capsys.readouterr().out
    assert f"({OPUS})" in out and f"{OPUS}: 1 call" in out and f"{SONNET}: 2 calls" in out


def test_everything_failing_keeps_the_fallbacks_and_exits_3(
    project: Path, fake: FakeAnthropic, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.responder = broken_reply(project)
    snapshot = worktree(project)

    assert main(["fill", str(project)]) == 3

    assert len(fake.requests) == 3
    assert worktree(project) == snapshot
    out = capsys.readouterr().out
    assert f"0 of {SERVICE_REGIONS} regions filled" in out and out.count("fallback  ") == SERVICE_REGIONS
    assert "exit code 3" in out


def test_mixed_results_fall_back_as_a_group(
    project: Path, fake: FakeAnthropic, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = region_keys(project)

    def respond(request: Recorded) -> Reply:
        bodies = json.loads(answer(project, requested(request)))
        domain = next(r for r in find_regions(project) if r.id == "domain")
        if domain.key in bodies:
            bodies[domain.key] = broken(domain)
        return Reply.message(json.dumps(bodies))

    fake.responder = respond
    snapshot = worktree(project)
    assert main(["fill", str(project)]) == 3
    assert worktree(project) == snapshot
    out = capsys.readouterr().out
    assert f"fallback  {keys[0]}" in out
    assert f"kept the template's fallback with the rest: 1 of {SERVICE_REGIONS} regions failed" in out


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        (Reply.message('{"src/payments/domain.py#domain": "x = ', stop_reason="max_tokens"), "cut off"),
        (Reply.message("", stop_reason="refusal"), "declined"),
        (Reply.message("this is not JSON"), "not valid JSON"),
    ],
    ids=["truncated", "refusal", "not-json"],
)
def test_unusable_answers_go_to_the_repair_call(
    project: Path, fake: FakeAnthropic, capsys: pytest.CaptureFixture[str], reply: Reply, why: str
) -> None:
    fake.queue(reply)
    fake.responder = valid_reply(project)
    assert main(["fill", str(project)]) == 0
    assert len(fake.requests) == 2
    assert why in fake.requests[1].body["messages"][0]["content"]


def test_rate_limits_and_overload_are_retried_by_the_sdk(
    project: Path, fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCAFFOLD_AI_RETRIES", "2")
    fake.queue(Reply.error(429), Reply.error(529))
    fake.responder = valid_reply(project)
    assert main(["fill", str(project)]) == 0
    # One ladder call, sent three times by the SDK (a repair or escalation call would be a new request).
    assert [request.headers["x-stainless-retry-count"] for request in fake.requests] == ["0", "1", "2"]
    assert fake.requests[0].body == fake.requests[1].body == fake.requests[2].body
    assert len(commits(project)) == 2


def test_server_errors_throughout_end_with_fallbacks(
    project: Path, fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SCAFFOLD_AI_RETRIES", "1")
    fake.responder = lambda request: Reply.error(500)
    snapshot = worktree(project)
    assert main(["fill", str(project)]) == 3
    # Three calls on the ladder, each tried twice by the SDK.
    assert len(fake.requests) == 6
    assert worktree(project) == snapshot
    assert "the API answered 500" in capsys.readouterr().out


def test_timeouts_end_with_fallbacks(
    project: Path, fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SCAFFOLD_AI_TIMEOUT", "0.3")
    fake.responder = lambda request: Reply.hang(5)
    assert main(["fill", str(project)]) == 3
    assert "no answer within 0.3 s" in capsys.readouterr().out


def test_rejected_key_stops_at_once(project: Path, fake: FakeAnthropic, capsys: pytest.CaptureFixture[str]) -> None:
    fake.responder = lambda request: Reply.error(401)
    assert main(["fill", str(project)]) == 3
    assert len(fake.requests) == 1
    assert "API key was rejected" in capsys.readouterr().out


def test_cache_reads_are_reported(project: Path, fake: FakeAnthropic, capsys: pytest.CaptureFixture[str]) -> None:
    fake.queue(
        Reply.message(
            answer(project, region_keys(project), broken),
            usage=Usage(input_tokens=1500, cache_creation_input_tokens=9000, output_tokens=800),
        )
    )
    fake.responder = valid_reply(project, usage=Usage(input_tokens=1700, cache_read_input_tokens=9000))
    assert main(["fill", str(project)]) == 0
    out = capsys.readouterr().out
    assert "3,200 input + 9,000 cache-write + 9,000 cache-read tokens" in out
    assert "$" in out


@pytest.mark.parametrize("later", ["filled", "fell-back"])
def test_the_key_is_never_written(
    project: Path, fake: FakeAnthropic, capsys: pytest.CaptureFixture[str], isolated_user_state: Path, later: str
) -> None:
    """A gateway echoing the key in its errors: not in the output, any file, the history, or a later prompt."""
    echo = Reply.error(400, message=f"bad request from key {KEY}")
    fake.queue(echo)
    fake.responder = valid_reply(project) if later == "filled" else (lambda request: echo)
    assert main(["fill", str(project)]) == (0 if later == "filled" else 3)
    captured = capsys.readouterr()
    assert "bad request from key [API key]" in captured.out + str([r.body for r in fake.requests])
    assert KEY not in captured.out + captured.err
    for request in fake.requests:
        assert KEY not in json.dumps(request.body)
    for root in (project, isolated_user_state):
        for path in root.rglob("*"):
            if path.is_file():
                assert KEY.encode() not in path.read_bytes(), path
    # .git/objects are compressed: ask git for every commit's message and diff.
    assert KEY not in run(["git", "log", "--all", "-p", "--format=%B"], cwd=project).stdout


def test_key_from_the_user_config(
    project: Path, fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch, isolated_user_state: Path
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    config = isolated_user_state / "config.yml"
    config.write_text(f"anthropic_api_key: {KEY}\n")
    monkeypatch.setenv("SCAFFOLD_CONFIG", str(config))
    fake.responder = valid_reply(project)
    assert main(["fill", str(project)]) == 0
    headers = fake.requests[0].headers
    assert KEY in (headers.get("x-api-key", ""), headers.get("authorization", "").removeprefix("Bearer "))


def test_model_flag_and_environment(project: Path, fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCAFFOLD_ESCALATION_MODEL", "claude-opus-5")
    fake.queue(Reply.message(answer(project, region_keys(project), broken)))
    fake.queue(Reply.message(answer(project, region_keys(project), broken)))
    fake.responder = valid_reply(project)
    assert main(["fill", str(project), "--model", "claude-sonnet-5"]) == 0
    assert [r.body["model"] for r in fake.requests] == ["claude-sonnet-5", "claude-sonnet-5", "claude-opus-5"]


def test_fill_without_a_key_is_a_usage_error(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snapshot = worktree(project)
    assert main(["fill", str(project)]) == 2
    assert "ANTHROPIC_API_KEY" in capsys.readouterr().err
    assert worktree(project) == snapshot


def test_pretend_calls_nothing_and_writes_nothing(
    project: Path, fake: FakeAnthropic, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshot = worktree(project)
    assert main(["fill", str(project), "--pretend"]) == 0
    out = capsys.readouterr().out
    assert fake.requests == []
    assert worktree(project) == snapshot
    assert "src/payments/domain.py#domain" in out and "patterns.md" in out
    assert f"{SONNET} (main model): $" in out and f"{OPUS} (escalation" in out


def test_what_building_the_context_warns_about_is_shown_by_pretend_and_the_summary(
    project: Path, fake: FakeAnthropic, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A misspelt name in context.yml changes what a fill is sent: said where a fill's user looks, not
    # only by `scaffold context`.
    misspelt = MAP.replace("  top_k: 4\n", "  top_k: 4\n  ignore_answers: [service_log_levl]\n")
    home = make_home(project.parent / "knowledge", context_map=misspelt)
    monkeypatch.setenv("SCAFFOLD_HOME", str(home))
    line = MAP.splitlines().index("  top_k: 4") + 2
    warning = (
        f"{home / 'context' / 'context.yml'}:{line}: ranking.ignore_answers names 'service_log_levl', "
        "which this project's answers do not have; did you mean 'service_log_level'?"
    )

    # This map has no kind for the project's template: its description is classified, and that is said too.
    unmapped = (
        "context.yml has no kind 'service' (this project's template), so the fill's context is for kind "
        "'general', classified from its description; add a 'service' kind to context.yml"
    )

    assert main(["fill", str(project), "--pretend"]) == 0
    assert f"\nContext warnings:\n  {unmapped}\n  {warning}\n" in capsys.readouterr().out
    reporter = Offers(accept=False)
    fill_project(project, request=FillRequest(confirm=True), reporter=reporter)
    assert [offer.warnings for offer in reporter.offers] == [(unmapped, warning)]  # seen before saying yes
    fake.responder = valid_reply(project)
    assert main(["fill", str(project)]) == 0
    assert f"\n  context: {warning}\n" in capsys.readouterr().out


def test_dirty_region_file_is_refused(project: Path, fake: FakeAnthropic, capsys: pytest.CaptureFixture[str]) -> None:
    domain = project / "src/payments/domain.py"
    domain.write_text(domain.read_text() + "# my unsaved work\n")
    assert main(["fill", str(project)]) == 2
    assert "uncommitted changes in src/payments/domain.py" in capsys.readouterr().err
    assert fake.requests == []


def test_verify_failure_is_repaired(project: Path, fake: FakeAnthropic) -> None:
    fake.queue(Reply.message(answer(project, region_keys(project), lambda r: tagged(r, "BROKEN"))))
    fake.responder = valid_reply(project)
    # A test command that fails while any fill carries the word BROKEN.
    assert main(["fill", str(project), "--verify-command", "! grep -rq BROKEN src tests"]) == 0
    assert len(fake.requests) == 2
    assert "the project's tests failed" in fake.requests[1].body["messages"][0]["content"]
    assert asked_for(fake.requests[1]) == region_keys(project)  # its output points at no region: all asked again
    assert "BROKEN" not in "".join(p.read_text() for p in (project / "src").rglob("*.py"))
    assert all(TAG in r.body for r in find_regions(project))


def test_new_service_fills_after_rendering(
    tmp_path: Path, fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    fake.responder = valid_reply(tmp_path / "ledger", usage=Usage(cache_creation_input_tokens=4000))
    assert main(["new-service", "ledger", "--defaults", "-d", "description=Keeps the ledger"]) == 0
    project = tmp_path / "ledger"
    assert all(TAG in r.body for r in find_regions(project))
    assert len(commits(project)) == 2
    assert "Keeps the ledger" in fake.requests[0].body["messages"][0]["content"]
    assert f"{SERVICE_REGIONS} of {SERVICE_REGIONS} regions filled" in capsys.readouterr().out


def test_new_service_without_a_key_says_how_and_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new-service", "ledger", "--defaults", "--dest", str(tmp_path / "ledger")]) == 0
    out = capsys.readouterr().out
    assert "AI fill skipped: no API key. Set $ANTHROPIC_API_KEY or 'anthropic_api_key' in the user config" in out
    assert "scaffold fill" in out


def test_new_with_pretend_creates_nothing(
    tmp_path: Path, fake: FakeAnthropic, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "ledger"
    assert main(["new-service", "ledger", "--defaults", "--pretend", "--dest", str(dest)]) == 0
    assert not dest.exists() and fake.requests == []
    assert list(tmp_path.iterdir()) == []
    out = capsys.readouterr().out
    assert f"Would fill {SERVICE_REGIONS} regions of {dest}" in out


def test_new_with_no_ai_makes_no_call(tmp_path: Path, fake: FakeAnthropic) -> None:
    assert main(["new-script", "tidy", "--defaults", "--no-ai", "--dest", str(tmp_path / "tidy")]) == 0
    assert fake.requests == []


def test_new_inside_another_repository_fills_without_committing(
    tmp_path: Path, fake: FakeAnthropic, capsys: pytest.CaptureFixture[str]
) -> None:
    run(["git", "init", "-q", str(tmp_path)])
    dest = tmp_path / "services" / "ledger"
    fake.responder = lambda request: Reply.message(answer(dest, requested(request)))
    assert main(["new-service", "ledger", "--defaults", "--dest", str(dest)]) == 0
    assert all(TAG in r.body for r in find_regions(dest))
    assert (dest / RECORD_FILE).is_file()
    assert "The fills are written, not committed, like the render." in capsys.readouterr().out


def test_verify_gets_no_key_and_never_echoes_it(project: Path, fake: FakeAnthropic) -> None:
    fake.responder = valid_reply(project)
    # Passes on the fallbacks; with the fills it prints whatever ANTHROPIC_ variables it can see and fails.
    command = (
        "if grep -rq 'filled by the fake' src; then env | grep ANTHROPIC_; echo key=$ANTHROPIC_API_KEY; exit 1; fi"
    )
    assert main(["fill", str(project), "--verify-command", command]) == 3
    for request in fake.requests:
        assert KEY not in json.dumps(request.body)
    assert "the project's tests failed with the fills" in fake.requests[1].body["messages"][0]["content"]


@pytest.mark.parametrize(
    ("output", "shown"),
    [
        ("printf '\\n  \\n'", "it printed nothing"),  # blank lines only: no empty "last lines:"
        ("echo 'disk quota exceeded' >&2", "disk quota exceeded"),  # stderr only
    ],
)
def test_a_failed_check_says_what_it_printed_or_that_it_printed_nothing(
    project: Path, fake: FakeAnthropic, capsys: pytest.CaptureFixture[str], output: str, shown: str
) -> None:
    fake.responder = valid_reply(project)
    command = f"if grep -rq 'filled by the fake' src; then {output}; exit 4; fi"
    assert main(["fill", str(project), "--verify-command", command]) == 3
    first_line = f"the project's tests failed with the fills ({command}, exit 4): {shown}"
    repair = fake.requests[1].body["messages"][0]["content"]
    assert first_line in repair
    assert "last lines" not in repair if shown == "it printed nothing" else f"(stdout and stderr):\n{shown}" in repair
    out = capsys.readouterr().out
    assert first_line in out and "last lines" not in out


def test_a_failed_make_check_is_summed_up_by_the_line_before_makes_own() -> None:
    from generator.fill.verify import CheckRun

    tail = "FAILED tests/t.py::x - AssertionError\n== 1 failed ==\nmake[1]: Leaving directory '/p'\n"
    tail += "make: *** [Makefile:42: test] Error 1\n"
    assert CheckRun(2, tail).last_line == "== 1 failed =="
    assert CheckRun(2, "make: *** [Makefile:42: test] Error 1\n").last_line == "make: *** [Makefile:42: test] Error 1"
    assert CheckRun(2, "\n").last_line == "it printed nothing"


def test_verify_that_fails_before_filling_makes_no_call(
    project: Path, fake: FakeAnthropic, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["fill", str(project), "--verify-command", "echo broken environment; exit 7"]) == 2
    assert fake.requests == []
    err = capsys.readouterr().err
    assert "it fails on the project before any fill (exit 7: broken environment)" in err
    assert "The template or the environment is at fault, not the model; no call was made" in err


def test_the_baseline_runs_on_the_templates_fallbacks_not_on_earlier_fills(
    project: Path, fake: FakeAnthropic, capsys: pytest.CaptureFixture[str]
) -> None:
    # The template is rendered again at the recorded version: this checkout's HEAD, dirty or not.
    answers = (project / ".copier-answers.yml").read_text(encoding="utf-8")
    (project / ".copier-answers.yml").write_text(re.sub(r"(?m)^_commit: .*$", "_commit: HEAD", answers))
    run(["git", "-C", str(project), *GIT_IDENTITY, "commit", "-qam", "render from HEAD"])
    domain = next(r for r in find_regions(project) if r.id == "domain")
    first = json.loads(answer(project, region_keys(project)))
    first[domain.key] = tagged(domain, "BROKEN")
    fake.queue(Reply.message(json.dumps(first)))
    assert main(["fill", str(project), "--no-verify"]) == 0
    assert "BROKEN" in (project / domain.path).read_text(encoding="utf-8")
    fake.queue(Reply.message(json.dumps({domain.key: tagged(domain)})))
    # One file, not the folder: while the check runs, the swap keeps the current text in a backup beside it.
    check = "! grep -q BROKEN src/payments/domain.py"

    # The filled domain fails the check; the template's fallback passes it, so the model gets its chance.
    assert main(["fill", str(project), "--refill", "domain", "--verify-command", check]) == 0

    assert requested(fake.requests[1]) == [domain.key]
    assert "BROKEN" not in (project / domain.path).read_text(encoding="utf-8")
    assert "cannot gate the fills" not in capsys.readouterr().err


def _makefile(project: Path, check: str, install: str = "true") -> None:
    """A project Makefile whose `check` runs `check` (one recipe line) after `install`."""
    (project / "Makefile").write_text(f"install:\n\t{install}\n\ncheck: install typecheck\n\ntypecheck:\n\t{check}\n")
    run(["git", "-C", str(project), *GIT_IDENTITY, "commit", "-qam", "a Makefile for the test"])


def test_the_gate_is_make_check_and_names_the_failing_check_of_the_template(
    project: Path, fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SCAFFOLD_VERIFY_COMMAND")
    _makefile(project, "exit 1")
    assert main(["fill", str(project)]) == 2
    assert fake.requests == []
    captured = capsys.readouterr()
    assert "fill: building the environment for the project's checks (once): make install" in captured.err
    assert "'make check' cannot gate the fills: its check 'typecheck' fails on the project before any fill" in (
        captured.err
    )


def test_a_fill_failing_make_check_is_never_accepted(
    project: Path, fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SCAFFOLD_VERIFY_COMMAND")
    _makefile(project, "! grep -rq 'filled by the fake' src")
    before = {r.key: r.body for r in find_regions(project)}
    fake.responder = valid_reply(project)
    assert main(["fill", str(project)]) == 3
    # First call, repair, escalation: each with the failing check's output, none accepted.
    assert len(fake.requests) == 3
    assert "the project's tests failed with the fills (make check" in fake.requests[1].body["messages"][0]["content"]
    assert {r.key: r.body for r in find_regions(project)} == before
    assert not (project / RECORD_FILE).exists()
    assert f"AI fill: 0 of {SERVICE_REGIONS} regions filled." in capsys.readouterr().out


def test_no_verify_accepts_and_says_the_checks_did_not_run(
    project: Path, fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SCAFFOLD_VERIFY_COMMAND")
    _makefile(project, "! grep -rq 'filled by the fake' src")
    fake.responder = valid_reply(project)
    assert main(["fill", str(project), "--no-verify"]) == 0
    assert len(fake.requests) == 1
    assert "not verified: the project's checks did not run (--no-verify)" in capsys.readouterr().out
    entries = yaml.safe_load((project / RECORD_FILE).read_text())["regions"]
    for entry in entries.values():
        assert "verified_by" not in entry
        assert entry["not_verified"] == ["every check of the project (--no-verify)"]


def test_checks_the_gate_could_not_run_are_reported_and_recorded(
    project: Path, fake: FakeAnthropic, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.responder = valid_reply(project)
    command = "echo 'make check: skipped terraform validate (terraform is not installed)'"
    assert main(["fill", str(project), "--verify-command", command]) == 0
    out = capsys.readouterr().out
    assert f"verified: the fills pass '{command}', except the checks it could not run:" in out
    assert "    not run: terraform validate (terraform is not installed)" in out
    entries = yaml.safe_load((project / RECORD_FILE).read_text())["regions"]
    for entry in entries.values():
        assert entry["verified_by"] == command
        assert entry["not_verified"] == ["terraform validate (terraform is not installed)"]


def test_an_environment_that_cannot_be_built_is_said_not_verified(
    project: Path, fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SCAFFOLD_VERIFY_COMMAND")
    _makefile(project, "true", install="echo no network; exit 1")
    fake.responder = valid_reply(project)
    assert main(["fill", str(project)]) == 0
    out = capsys.readouterr().out
    assert "not verified: the project's checks could not run ('make install' failed with exit 2" in out


def test_empty_bodies_are_refused(project: Path, fake: FakeAnthropic) -> None:
    fake.queue(Reply.message(json.dumps({key: "" for key in (r.key for r in find_regions(project))})))
    fake.responder = valid_reply(project)
    assert main(["fill", str(project)]) == 0
    assert len(fake.requests) == 2
    assert "the answer for this region is empty" in fake.requests[1].body["messages"][0]["content"]
    # An empty body is fine where the fallback is empty too (pyproject.toml's dependencies): no repair for it.
    assert asked_for(fake.requests[1]) == [r.key for r in find_regions(project) if r.id != "dependencies"]
    assert all(TAG in r.body for r in find_regions(project) if r.id != "dependencies")


def test_ignored_copies_of_region_files_are_left_alone(project: Path, fake: FakeAnthropic) -> None:
    shutil.copytree(project / "src", project / "build" / "lib")  # .gitignore'd by the template
    fake.responder = valid_reply(project)
    assert main(["fill", str(project)]) == 0
    assert len(requested(fake.requests[0])) == SERVICE_REGIONS
    assert TAG not in (project / "build/lib/payments/domain.py").read_text()
    assert run(["git", "status", "--porcelain"], cwd=project).stdout == ""


def test_project_without_git_keeps_the_previous_versions(
    tmp_path: Path, fake: FakeAnthropic, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "ledger"
    assert main(["new-service", "ledger", "--defaults", "--no-ai", "--no-git", "--dest", str(project)]) == 0
    domain = project / "src/ledger/domain.py"
    # The user's own code in a region: the fill overwrites it, so it must survive somewhere.
    domain.write_text(domain.read_text().replace("# scaffold:end domain", 'USER_CODE = "mine"\n# scaffold:end domain'))
    original = domain.read_text()
    fake.responder = valid_reply(project)
    assert main(["fill", str(project)]) == 0
    (kept,) = (project / ".scaffold/previous").glob("*/src/ledger/domain.py")
    assert kept.read_text() == original and 'USER_CODE = "mine"' in original
    assert TAG in domain.read_text()
    assert "the previous versions are in .scaffold/previous/" in capsys.readouterr().out


def test_settings_from_the_user_config_and_bad_values(
    project: Path,
    fake: FakeAnthropic,
    monkeypatch: pytest.MonkeyPatch,
    isolated_user_state: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = isolated_user_state / "config.yml"
    config.write_text("ai_stream: false\nai_retries: 0\n")
    monkeypatch.setenv("SCAFFOLD_CONFIG", str(config))
    monkeypatch.delenv("SCAFFOLD_AI_RETRIES")
    fake.queue(Reply.error(529))
    fake.responder = valid_reply(project)
    assert main(["fill", str(project)]) == 0
    # No SDK retry (ai_retries: 0): the 529 went to the repair call; and no streaming (ai_stream: false).
    assert [request.headers["x-stainless-retry-count"] for request in fake.requests] == ["0", "0"]
    assert [request.body.get("stream", False) for request in fake.requests] == [False, False]

    for name, value in [("SCAFFOLD_AI_RETRIES", "inf"), ("SCAFFOLD_AI_TIMEOUT", "0"), ("SCAFFOLD_AI_STREAM", "maybe")]:
        with monkeypatch.context() as patch:
            patch.setenv(name, value)
            assert main(["fill", str(project), "--refill", "domain"]) == 2
            assert f"${name} must be" in capsys.readouterr().err


def test_a_key_pasted_into_another_setting_is_refused_and_never_shown(
    project: Path,
    fake: FakeAnthropic,
    isolated_user_state: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A model's name is printed in every summary and recorded in .scaffold/fills.yml; a key pasted
    # there (or into a number's setting, whose error quotes the value) must not be.
    key = "sk-ant-api03-" + "Qx7Lm2Vb9Rt4Yk8Np3Hd6Wc1Zf5Gj0Sa"
    # Alone, or as Docker's --env-file keeps it (quoted), or copied with what came before it.
    for name, value in [
        ("SCAFFOLD_MODEL", key),
        ("SCAFFOLD_ESCALATION_MODEL", f"'{key}'"),
        ("SCAFFOLD_AI_TIMEOUT", f"ANTHROPIC_API_KEY={key}"),
        ("SCAFFOLD_MODEL", f"Bearer {key}"),
    ]:
        with monkeypatch.context() as patch:
            patch.setenv(name, value)
            assert main(["fill", str(project)]) == 2
            out, err = capsys.readouterr()
            assert f"${name} looks like an API key" in err and key not in out + err
    assert main(["fill", str(project), "--model", key]) == 2
    out, err = capsys.readouterr()
    assert "--model looks like an API key" in err and key not in out + err
    assert fake.requests == [] and not (project / RECORD_FILE).exists()
    # A token of another kind is not quoted by a number's error; a gateway's alias is a model.
    google = "AIza" + "SyD3x9Kq2Lm7Vb4Rt8Yk1Np6Hd0Wc5Zf2Gj"
    with monkeypatch.context() as patch:
        patch.setenv("SCAFFOLD_AI_RETRIES", google)
        assert main(["fill", str(project)]) == 2
        out, err = capsys.readouterr()
        assert "$SCAFFOLD_AI_RETRIES must be" in err and google not in out + err
    assert Settings.load().with_flags(model="gateway/sk-translation-model").main_model == "gateway/sk-translation-model"

    # Refused before the question, not after a yes: the escalation model too, set in the user config.
    config = isolated_user_state / "config.yml"
    config.write_text(f"escalation_model: {key}\n")
    monkeypatch.setenv("SCAFFOLD_CONFIG", str(config))
    reporter = Offers(accept=True)
    with pytest.raises(UsageError, match="'escalation_model' in the user config looks like an API key") as refused:
        fill_project(project, request=FillRequest(confirm=True), reporter=reporter)
    assert reporter.offers == [] and key not in str(refused.value) and fake.requests == []


def test_unknown_model_skips_the_same_model_repair(
    project: Path, fake: FakeAnthropic, capsys: pytest.CaptureFixture[str]
) -> None:
    def respond(request: Recorded) -> Reply:
        if request.body["model"] == "claude-nonexistent":
            return Reply.error(404, message="model: claude-nonexistent")
        return valid_reply(project)(request)

    fake.responder = respond
    assert main(["fill", str(project), "--model", "claude-nonexistent"]) == 0
    assert [r.body["model"] for r in fake.requests] == ["claude-nonexistent", OPUS]


def test_edits_made_while_the_model_works_stop_the_write(
    project: Path, fake: FakeAnthropic, capsys: pytest.CaptureFixture[str]
) -> None:
    routes = project / "src/payments/routes.py"

    def respond(request: Recorded) -> Reply:
        routes.write_text(routes.read_text() + "# edited meanwhile\n")
        return valid_reply(project)(request)

    fake.responder = respond
    assert main(["fill", str(project)]) == 2
    assert "src/payments/routes.py changed while the model was working; nothing was written" in capsys.readouterr().err
    assert routes.read_text().endswith("# edited meanwhile\n")
    assert not (project / RECORD_FILE).exists()
    assert all(TAG not in r.body for r in find_regions(project))

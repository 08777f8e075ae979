"""Realistic fills: answers a strong model wrote for a concrete description pass the project's own `make check`.

Each file in tests/answers/ holds a `scaffold new-*` command and the answer a model-playing helper wrote for the
request exactly as scaffold sent it (captured with tests/relay.py), not shaped like the template's fallbacks, and
the answers to the repair calls that followed, if any (`repairs`). The fake Messages API replays them in turn; the
gate is the default one, the generated project's own `make check` (its environment built from nothing, as on a
user's machine). Broken variants of the services' answers (a missing import, a type error, a failing test, an
undeclared dependency) must go through the repair ladder with the check's own words, and a fill that keeps failing
is never written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.cli import main
from generator.fill.regions import find_regions
from tests.fakeapi import FakeAnthropic, Reply
from tests.helpers import run

ANSWERS = Path(__file__).parent / "answers"
SETS = sorted(path.stem for path in ANSWERS.glob("*.json"))


def _answer_set(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((ANSWERS / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


def _reply(answer: dict[str, Any]) -> Reply:
    return Reply.message(json.dumps(answer))


def _request_text(fake: FakeAnthropic, index: int) -> str:
    """Everything the client sent in request `index`: the messages' text (the repair prompt is there)."""
    texts = []
    for message in fake.messages()[index]["messages"]:
        content = message["content"]
        texts.extend([content] if isinstance(content, str) else [block.get("text", "") for block in content])
    return "\n".join(texts)


@pytest.fixture
def gate_is_make_check(monkeypatch: pytest.MonkeyPatch) -> None:
    # The shared `fake` fixture makes the gate `true` for speed; these tests are about the real one.
    monkeypatch.delenv("SCAFFOLD_VERIFY_COMMAND", raising=False)
    # As on a developer's machine: with CI set, the infra module's make check fails every check it has to
    # skip (no providers offline), which is the generated project's own CI policy.
    monkeypatch.delenv("CI", raising=False)


def test_every_answer_set_names_a_scaffold_command_and_regions() -> None:
    assert len(SETS) >= 3
    for name in SETS:
        answer_set = _answer_set(name)
        assert answer_set["command"][0].startswith("new-"), name
        regions = [key for key in answer_set["answer"] if key != "notes"]
        assert regions and all("#" in key for key in regions), name


@pytest.mark.slow
@pytest.mark.parametrize("name", SETS)
def test_a_realistic_fill_is_accepted_and_passes_make_check(
    name: str, tmp_path: Path, fake: FakeAnthropic, gate_is_make_check: None, capsys: pytest.CaptureFixture[str]
) -> None:
    answer_set = _answer_set(name)
    repairs: list[dict[str, Any]] = answer_set.get("repairs", [])
    fake.queue(*(_reply(answer) for answer in [answer_set["answer"], *repairs]))
    command = answer_set["command"]
    project = tmp_path / command[1]

    assert main([*command, "--defaults", "--dest", str(project)]) == 0

    out = capsys.readouterr().out
    assert len(fake.requests) == 1 + len(repairs), out
    assert "verified: the fills pass 'make check'" in out
    record = yaml.safe_load((project / ".scaffold/fills.yml").read_text(encoding="utf-8"))["regions"]
    assert set(record) == {key for key in answer_set["answer"] if key != "notes"}
    assert all(entry["status"] == "filled" and entry["verified_by"] == "make check" for entry in record.values())
    bodies = {f"{region.path}#{region.id}": region.body for region in find_regions(project)}
    # The fills are in place, a repair's where it rewrote a region (an empty string keeps the earlier one);
    # formatting may differ: the fill step formats what it splices.
    final = {**answer_set["answer"], **{key: body for repair in repairs for key, body in repair.items() if body}}
    for key, body in final.items():
        if key != "notes":
            assert body.split()[:5] == bodies[key].split()[:5], key
    # Files the fill changes beyond its regions (the api's openapi.json, by `make generated`) say so.
    for path, fragments in answer_set.get("expect", {}).items():
        text = (project / path).read_text(encoding="utf-8")
        assert [fragment for fragment in fragments if fragment not in text] == [], path
    assert run(["git", "status", "--porcelain"], cwd=project).stdout == ""


def _service_variant(**edits: tuple[str, str, str]) -> dict[str, Any]:
    """The service's realistic answer with `region: (old, new, why)` edits applied once each."""
    answer = dict(_answer_set("service-payouts")["answer"])
    for key, (old, new, _why) in edits.items():
        region = f"src/payouts/{key}" if key.endswith(("#domain", "#routes")) else f"tests/{key}"
        assert answer[region].count(old) >= 1, (region, old)
        answer[region] = answer[region].replace(old, new, 1)
    return answer


# Each variant breaks one line of the recorded answer; the repair call gets the recorded answer back.
MISSING_LINE = "from typing import Annotated\n"  # routes.py uses Annotated[...] for its body
MISSING_IMPORT = _service_variant(**{"routes.py#routes": (MISSING_LINE, "", "F821")})
TYPED = "def clean(self) -> bool:"
TYPE_ERROR = _service_variant(**{"domain.py#domain": (TYPED, TYPED.replace("bool", "str"), "")})
COUNTS = "assert (result.payout_count, result.settlement_count, result.matched_count) == (2, 2, 2)"
FAILING_TEST = _service_variant(
    **{"test_domain.py#domain-tests": (COUNTS, COUNTS.replace("(2, 2, 2)", "(2, 2, 3)"), "")}
)
FAILING_TEST_NAME = "test_a_night_where_every_payout_settled_exactly_is_clean"


@pytest.mark.slow
def test_a_missing_import_is_repaired_with_the_linters_words(
    tmp_path: Path, fake: FakeAnthropic, gate_is_make_check: None
) -> None:
    realistic = _answer_set("service-payouts")
    fake.queue(_reply(MISSING_IMPORT), _reply(realistic["answer"]))
    project = tmp_path / "payouts"

    assert main([*realistic["command"], "--defaults", "--dest", str(project)]) == 0

    assert len(fake.requests) == 2
    repair = _request_text(fake, 1)
    assert "F821" in repair and "Annotated" in repair, repair[-3000:]
    assert MISSING_LINE in (project / "src/payouts/routes.py").read_text(encoding="utf-8")


@pytest.mark.slow
def test_a_type_error_is_repaired_with_mypys_words(
    tmp_path: Path, fake: FakeAnthropic, gate_is_make_check: None
) -> None:
    realistic = _answer_set("service-payouts")
    fake.queue(_reply(TYPE_ERROR), _reply(realistic["answer"]))
    project = tmp_path / "payouts"

    assert main([*realistic["command"], "--defaults", "--dest", str(project)]) == 0

    assert len(fake.requests) == 2
    # mypy --strict with the project's own configuration, before the slower make check.
    assert "Incompatible return value type" in _request_text(fake, 1)
    assert TYPED in (project / "src/payouts/domain.py").read_text(encoding="utf-8")


@pytest.mark.slow
def test_an_import_production_would_not_install_is_repaired_with_the_tests_words(
    tmp_path: Path, fake: FakeAnthropic, gate_is_make_check: None
) -> None:
    # httpx is in the dev extra, for the tests, so ruff, mypy and the route tests pass without the dependency
    # declared: only the project's tests/test_dependencies.py sees that `pip install .` lacks it, and its first
    # words, `pyproject.toml:LINE:`, tell the repair which region the fix belongs in.
    realistic = _answer_set("service-notifier")
    undeclared = {**realistic["answer"], "pyproject.toml#dependencies": ""}  # "none: leave it empty"
    fake.queue(_reply(undeclared), _reply(realistic["answer"]))
    project = tmp_path / "notifier"

    assert main([*realistic["command"], "--defaults", "--dest", str(project)]) == 0

    assert len(fake.requests) == 2
    repair = _request_text(fake, 1)
    assert 'add "httpx>=' in repair and "src/notifier/resources.py line" in repair, repair[-3000:]
    assert "It points at pyproject.toml#dependencies." in repair
    assert '"httpx>=0.27,<1",' in (project / "pyproject.toml").read_text(encoding="utf-8")


@pytest.mark.slow
def test_fills_that_keep_failing_the_checks_are_never_written(
    tmp_path: Path, fake: FakeAnthropic, gate_is_make_check: None, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.queue(_reply(FAILING_TEST), _reply(FAILING_TEST), _reply(FAILING_TEST))
    realistic = _answer_set("service-payouts")
    project = tmp_path / "payouts"

    assert main([*realistic["command"], "--defaults", "--dest", str(project)]) == 3

    assert len(fake.requests) == 3  # first call, repair, escalation
    assert FAILING_TEST_NAME in _request_text(fake, 1)  # the failing test, by name, from make check's output
    assert "def reconcile(" not in (project / "src/payouts/domain.py").read_text(encoding="utf-8")  # fallbacks kept
    assert not (project / ".scaffold/fills.yml").exists()
    assert run(["git", "status", "--porcelain"], cwd=project).stdout == ""
    assert "fallback" in capsys.readouterr().out

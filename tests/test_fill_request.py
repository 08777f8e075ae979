"""What a fill request carries: the files the fills depend on, each instruction once, the model's notes,
and repair prompts with a failing check's output once, trimmed, naming the regions it implicates."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from generator.cli import main
from generator.fill.failure import implicated, trim
from generator.fill.record import RECORD_FILE, Entry, read_records, record_text
from generator.fill.regions import Region, find_regions
from generator.fill.related import related_files
from tests.fakeapi import FakeAnthropic, Recorded, Reply
from tests.fillfakes import KEY, answer, broken, region_keys, requested, tagged, valid_reply
from tests.helpers import build_file_tree


def _user(request: Recorded) -> str:
    text = request.body["messages"][0]["content"]
    assert isinstance(text, str)
    return text


def _read_only(message: str) -> str:
    match = re.search(r"<read-only>\n(.*?)\n</read-only>", message, re.S)
    assert match, "the request has no read-only section"
    return match[1]


def _marker_comment(project: Path, region: Region) -> tuple[str, str]:
    """The instruction as written in the file (marker line and continuation lines), and its first line's text."""
    lines = (project / region.path).read_text().splitlines()[region.start_line - 1 : region.body_line - 1]
    return "\n".join(lines), lines[0].split(f"scaffold:fill {region.id}", 1)[1].strip()


def test_first_request_carries_the_tool_configuration_and_each_instruction_once(
    project: Path, fake: FakeAnthropic
) -> None:
    fake.responder = valid_reply(project)
    assert main(["fill", str(project)]) == 0

    message = _user(fake.requests[0])
    read_only = _read_only(message)
    # pyproject.toml holds the dependencies region: it goes whole with the region files, not read-only.
    assert '<file path="pyproject.toml"' not in read_only and "[tool.mypy]" not in read_only
    assert message.count("[tool.mypy]") == 1
    # domain.py imports .errors; the tests use the fixtures of tests/conftest.py.
    for path in ("src/payments/errors.py", "tests/conftest.py"):
        assert f'<file path="{path}"' in read_only and (project / path).read_text().strip() in read_only
    # Region files are sent once, where they can be filled, not again as read-only files.
    assert '<file path="src/payments/domain.py"' not in read_only
    for region in find_regions(project):
        comment, first_line = _marker_comment(project, region)
        assert message.count(comment) == 1 and message.count(first_line) == 1, region.key
    role = " ".join(fake.requests[0].body["system"][0]["text"].split())
    assert "the instruction and the code win" in role and "documents decide what the template leaves open" in role


def test_a_refill_of_routes_sends_the_domain_it_imports_read_only(project: Path, fake: FakeAnthropic) -> None:
    fake.responder = valid_reply(project)
    assert main(["fill", str(project)]) == 0
    assert main(["fill", str(project), "--refill", "routes"]) == 0

    assert requested(fake.requests[1]) == ["src/payments/routes.py#routes"]
    read_only = _read_only(_user(fake.requests[1]))
    # The sections of pyproject.toml the checks read, not the whole file.
    for section in ("[tool.ruff]", "[tool.ruff.lint]", "[tool.mypy]", "[tool.pytest.ini_options]"):
        assert section in read_only, section
    assert "[build-system]" not in read_only and "[project.scripts]" not in read_only
    assert 'requires-python = ">=3.11"' in read_only
    domain = (project / "src/payments/domain.py").read_text()
    assert '<file path="src/payments/domain.py" language="python">\n' + domain.rstrip() + "\n</file>" in read_only
    # The system prompt is the same on every call, so the prompt cache holds.
    assert fake.requests[0].body["system"] == fake.requests[1].body["system"]


def test_related_files_are_capped_and_say_what_was_left_out(tmp_path: Path) -> None:
    build_file_tree(
        tmp_path,
        {
            "src/pkg/__init__.py": "",
            "src/pkg/small.py": "X = 1\n",
            "src/pkg/big.py": "Y = 2\n" + "# padding\n" * 200,
            "src/pkg/main.py": "from pkg import small\nfrom pkg.big import Y\nimport os\n",
            "main.tf": 'resource "x" "y" {}\n',
            "versions.tf": 'terraform {\n  required_version = ">= 1.11"\n}\n',
            "examples/basic/main.tf": 'module "m" {\n  source = "../.."\n}\n',
            "bin/run": '#!/usr/bin/env bash\nsource "$(dirname "$0")/lib.sh"\n',
            "bin/lib.sh": "helper() { :; }\n",
        },
    )
    related = related_files(tmp_path, ["src/pkg/main.py", "main.tf", "bin/run"], limit=1_000)
    assert list(related.files) == ["src/pkg/small.py", "versions.tf", "examples/basic/main.tf", "bin/lib.sh"]
    assert related.left_out == ("src/pkg/big.py",)


def test_notes_are_shown_and_recorded(project: Path, fake: FakeAnthropic, capsys: pytest.CaptureFixture[str]) -> None:
    note = "The description asks for bank settlement files; no parser exists, so amounts are assumed in cents."

    def respond(request: Recorded) -> Reply:
        return Reply.message(json.dumps({**json.loads(answer(project, requested(request))), "notes": note}))

    fake.responder = respond
    assert main(["fill", str(project)]) == 0

    schema = fake.requests[0].body["output_config"]["format"]["schema"]
    assert schema["properties"]["notes"] == {"type": "string"} and "notes" not in schema["required"]
    out = capsys.readouterr().out
    assert "notes" in out and note in out
    records = yaml.safe_load((project / RECORD_FILE).read_text())["regions"]
    assert {entry["notes"] for entry in records.values()} == {note}


def test_records_without_notes_still_read(tmp_path: Path) -> None:
    old = Entry(status="filled", model="m", date="2025-01-01", body_sha256="0" * 64)
    (tmp_path / ".scaffold").mkdir()
    (tmp_path / RECORD_FILE).write_text(record_text({"a.py#x": old}))
    assert "notes" not in (tmp_path / RECORD_FILE).read_text()
    assert read_records(tmp_path) == {"a.py#x": old}


# A test run as `make test` prints it: pip's install log, pytest's header, then one failure.
_TEST_RUN = """\
Requirement already satisfied: pip in ./.venv/lib/python3.12/site-packages (24.2)
Collecting fastapi<1,>=0.115
  Using cached fastapi-0.115.0-py3-none-any.whl (94 kB)
Installing collected packages: fastapi
Successfully installed fastapi-0.115.0
[notice] A new release of pip is available: 24.2 -> 25.0
============================= test session starts ==============================
platform linux -- Python 3.12.3, pytest-8.3.3, pluggy-1.5.0
rootdir: /tmp/payments
configfile: pyproject.toml
collected 12 items

tests/test_domain.py ..F.                                                [ 33%]
tests/test_routes.py ........                                            [100%]

=================================== FAILURES ===================================
_________________________________ test_quote __________________________________
    def test_quote() -> None:
>       assert quote([]).total_cents == 1
E       AssertionError: assert 0 == 1
tests/test_domain.py:{line}: AssertionError
=========================== short test summary info ============================
FAILED tests/test_domain.py::test_quote - AssertionError: assert 0 == 1
========================= 1 failed, 11 passed in 0.41s =========================
"""


def test_a_failing_check_goes_into_the_repair_request_once_trimmed_with_its_region(
    project: Path, fake: FakeAnthropic, tmp_path: Path
) -> None:
    tests_region = next(r for r in find_regions(project) if r.id == "domain-tests")
    output = tmp_path / "run.txt"
    output.write_text(_TEST_RUN.format(line=tests_region.body_line + 2))
    fake.queue(Reply.message(answer(project, region_keys(project), lambda r: tagged(r, "BROKEN"))))
    fake.responder = valid_reply(project)
    # Passes on the fallbacks; with a fill carrying BROKEN, prints the test run and fails.
    command = f"if grep -rq BROKEN src tests; then cat {output}; exit 1; fi"

    assert main(["fill", str(project), "--verify-command", command]) == 0

    repair = _user(fake.requests[1])
    assert repair.count("AssertionError: assert 0 == 1") == 2  # the `E` line and the summary line, once each
    assert repair.count("<check-output") == 1
    assert "Requirement already satisfied" not in repair and "platform linux" not in repair
    assert f"It points at {tests_region.key}." in repair
    # Asked again: the region it points at; the others may be rewritten, and are (their fills carry BROKEN).
    assert _listed(repair) == [tests_region.key]
    assert repair.count("- the check output 1 above") == 1
    others = [key for key in region_keys(project) if key != tests_region.key]
    assert f"The other regions ({', '.join(others)}) passed their own checks" in repair


def _listed(message: str) -> list[str]:
    return re.findall(r'<region key="([^"]+)">', message)


def _pointing_at(
    project: Path, fake: FakeAnthropic, tmp_path: Path, broken_one: str, run: str = _TEST_RUN
) -> tuple[Region, Region, str, dict[str, str]]:
    """The region a failing check points at (the domain tests), another Python region, a check command
    that passes on the fallbacks but prints `run` (a test run failing on the first one's first line), and
    fails, while any fill carries BROKEN, and the first call's answer, queued: every region tagged FIRST but
    `broken_one` ("pointed" or "other"), tagged BROKEN."""
    regions = find_regions(project)
    pointed = next(r for r in regions if r.id == "domain-tests")
    other = next(r for r in regions if r.key != pointed.key and r.language == "python")
    output = tmp_path / "run.txt"
    output.write_text(run.format(line=pointed.body_line))
    bad = pointed if broken_one == "pointed" else other
    first = {r.key: tagged(r, "BROKEN" if r == bad else "FIRST") for r in regions}
    fake.queue(Reply.message(json.dumps(first)))
    return pointed, other, f"if grep -rq BROKEN src tests; then cat {output}; exit 1; fi", first


def _only(project: Path, bodies: dict[str, str]) -> Reply:
    """An answer that writes `bodies` and an empty string for every other region."""
    return Reply.message(json.dumps({r.key: bodies.get(r.key, "") for r in find_regions(project)}))


def _bodies(project: Path) -> dict[str, str]:
    return {r.key: r.body for r in find_regions(project)}


@pytest.mark.parametrize("kept", ["empty", "unchanged"])
def test_a_failing_check_asks_again_only_for_what_it_points_at_and_keeps_the_rest(
    project: Path, fake: FakeAnthropic, tmp_path: Path, kept: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pointed, _, command, first = _pointing_at(project, fake, tmp_path, "pointed")
    # The repair mends the region it was pointed at and answers the others empty, or as they were (but for the
    # last newline): they are kept.
    again = {key: "" if kept == "empty" else body.rstrip("\n") for key, body in first.items()}
    fake.queue(Reply.message(json.dumps({**again, pointed.key: tagged(pointed, "MENDED")})))

    assert main(["fill", str(project), "--verify-command", command]) == 0

    assert len(fake.requests) == 2
    repair = _user(fake.requests[1])
    assert _listed(repair) == [pointed.key]
    assert repair.count("FIRST") == len(first) - 1  # the other fills are in the files shown, as filled
    assert "to leave it with no code, answer a single comment line" in repair
    assert _bodies(project) == {**first, pointed.key: tagged(pointed, "MENDED")}
    # Each fill is recorded with the prompt it came from: the kept ones with the first call's.
    records = read_records(project)
    hashes = {records[key].prompt_sha256 for key in first if key != pointed.key}
    assert len(hashes) == 1 and records[pointed.key].prompt_sha256 not in hashes
    assert f"repair call: asking claude-sonnet-5-5 for 1 region (it may rewrite {len(first) - 1} kept fills too)" in (
        capsys.readouterr().err
    )


def test_the_failure_is_found_anywhere_in_the_output_and_by_a_failing_tests_name(
    project: Path, fake: FakeAnthropic, tmp_path: Path
) -> None:
    # The traceback's line is far above the last lines shown; the summary names a test the kept region defines.
    run = "tests/test_domain.py:{line}: AssertionError\n" + "log line\n" * 80 + "FAILED tests/test_domain.py::{test}\n"
    other_tests = next(r for r in find_regions(project) if r.id == "route-tests")
    test_name = re.findall(r"^def (test_\w+)", other_tests.body, re.M)[-1]
    pointed, _, command, _ = _pointing_at(
        project,
        fake,
        tmp_path,
        "pointed",
        run.replace("{test}", test_name).replace("test_domain.py::", "test_routes.py::"),
    )
    fake.responder = valid_reply(project)

    assert main(["fill", str(project), "--verify-command", command]) == 0

    assert _listed(_user(fake.requests[1])) == [pointed.key, other_tests.key]


def test_a_failure_that_lies_in_a_region_it_does_not_point_at_is_mended_there(
    project: Path, fake: FakeAnthropic, tmp_path: Path
) -> None:
    pointed, culprit, command, _ = _pointing_at(project, fake, tmp_path, "other")
    # The repair writes the region pointed at again, and the one at fault.
    fake.queue(_only(project, {pointed.key: tagged(pointed, "MENDED"), culprit.key: tagged(culprit, "MENDED")}))

    assert main(["fill", str(project), "--verify-command", command]) == 0

    assert len(fake.requests) == 2
    assert _listed(_user(fake.requests[1])) == [pointed.key]
    assert _bodies(project)[culprit.key] == tagged(culprit, "MENDED")
    assert "BROKEN" not in "".join(_bodies(project).values())


def test_a_rewrite_of_a_kept_region_that_fails_its_checks_is_dropped_and_the_kept_fill_stays(
    project: Path, fake: FakeAnthropic, tmp_path: Path
) -> None:
    pointed, other, command, first = _pointing_at(project, fake, tmp_path, "pointed")
    fake.queue(_only(project, {pointed.key: tagged(pointed, "MENDED"), other.key: broken(other)}))

    # No third call: the mended region passes the project's checks with the kept fill of the other.
    assert main(["fill", str(project), "--verify-command", command]) == 0

    assert len(fake.requests) == 2
    assert _bodies(project)[other.key] == first[other.key]


def test_a_dropped_rewrite_of_a_kept_region_is_shown_to_the_next_call_with_why(
    project: Path, fake: FakeAnthropic, tmp_path: Path
) -> None:
    pointed, other, command, first = _pointing_at(project, fake, tmp_path, "pointed")
    # The repair leaves the failure, and its rewrite of a kept region holds the key (a gateway echoing it).
    fake.queue(_only(project, {pointed.key: tagged(pointed, "BROKEN again"), other.key: tagged(other, KEY)}))
    fake.responder = valid_reply(project)

    assert main(["fill", str(project), "--verify-command", command]) == 0

    assert len(fake.requests) == 3
    escalation = _user(fake.requests[2])
    assert _listed(escalation) == [pointed.key]
    assert f'<kept-region key="{other.key}">' in escalation and "the answer holds the API key" in escalation
    assert first[other.key] in escalation  # the kept fill, still in its file
    assert KEY not in "".join(json.dumps(request.body) for request in fake.requests)
    assert KEY not in "".join(_bodies(project).values())


def test_a_refill_is_told_which_regions_the_failure_points_at_that_it_does_not_fill(
    project: Path, fake: FakeAnthropic, tmp_path: Path
) -> None:
    fake.responder = valid_reply(project)
    assert main(["fill", str(project)]) == 0
    imports = next(r for r in find_regions(project) if r.key.endswith("settings.py#imports"))
    settings = next(r for r in find_regions(project) if r.key.endswith("settings.py#settings"))
    output = tmp_path / "run.txt"
    output.write_text(f"{imports.path}:{imports.body_line}: error: Module has no attribute\n")
    fake.queue(Reply.message(json.dumps({settings.key: tagged(settings, "BROKEN")})))
    command = f"if grep -rq BROKEN src tests; then cat {output}; exit 1; fi"

    # Only the settings are filled again; the failure names a line of the imports, filled before, in the same file.
    assert main(["fill", str(project), "--refill", "settings", "--verify-command", command]) == 0

    repair = _user(fake.requests[-1])
    assert _listed(repair) == [settings.key]
    assert f"It points at {imports.key}, which this run does not fill (kept as it is)" in repair


def test_the_checks_output_reaches_the_escalation_when_it_pointed_at_no_region_and_the_repair_failed(
    project: Path, fake: FakeAnthropic
) -> None:
    fake.queue(Reply.message(answer(project, region_keys(project), lambda r: tagged(r, "BROKEN"))))
    fake.queue(Reply.message("this is not JSON"))
    fake.responder = valid_reply(project)
    command = "if grep -rq BROKEN src tests; then echo 'the widget exploded'; exit 1; fi"

    assert main(["fill", str(project), "--verify-command", command]) == 0

    escalation = _user(fake.requests[2])
    assert _listed(escalation) == region_keys(project)
    assert "the widget exploded" in escalation and "not valid JSON" in escalation


def test_a_repair_call_that_fails_leaves_the_escalation_the_checks_output_and_the_kept_regions(
    project: Path, fake: FakeAnthropic, tmp_path: Path
) -> None:
    pointed, culprit, command, _ = _pointing_at(project, fake, tmp_path, "other")
    fake.queue(Reply.message("this is not JSON"))
    # The escalation rewrites the region at fault, which the output never pointed at, and keeps the rest.
    fake.queue(_only(project, {pointed.key: tagged(pointed, "MENDED"), culprit.key: tagged(culprit, "MENDED")}))

    assert main(["fill", str(project), "--verify-command", command]) == 0

    escalation = _user(fake.requests[2])
    assert _listed(escalation) == [pointed.key]
    assert "not valid JSON" in escalation
    # The checks' output is still there, with the region it pointed at, and the others may be rewritten.
    assert "AssertionError: assert 0 == 1" in escalation and f"It points at {pointed.key}." in escalation
    assert "The project's own checks last ran with every fill then in place and failed" in escalation
    assert _bodies(project)[culprit.key] == tagged(culprit, "MENDED")


def test_trim_keeps_the_failure_and_the_last_frames() -> None:
    frames = "".join(f'  File "/x/lib/m{i}.py", line {i}, in f{i}\n    call{i}()\n' for i in range(30))
    text = "Traceback (most recent call last):\n" + frames + "ValueError: bad total\n"
    trimmed = trim("Collecting x\n" + text * 20, limit=1_500)
    assert "ValueError: bad total" in trimmed and "Collecting" not in trimmed
    assert "m29.py" in trimmed and "m0.py" not in trimmed
    assert len(trimmed) <= 1_600


def test_implicated_maps_paths_and_lines_to_regions() -> None:
    region = Region("src/pkg/domain.py", "domain", "python", "", "x = 1\n", 5, 6, 7, "", "#")
    other = Region("tests/test_domain.py", "tests", "python", "", "y = 1\n", 2, 3, 4, "", "#")
    output = 'File "/home/me/p/src/pkg/domain.py", line 6, in f\nsrc/pkg/domain.py:40: error: outside\n'
    assert implicated(output, [region, other]) == [region.key]
    assert implicated("tests/test_domain.py:3: AssertionError", [region, other]) == [other.key]
    tests = Region("tests/test_domain.py", "tests", "python", "", "def test_quote() -> None:\n", 2, 3, 4, "", "#")
    for summary in (
        "FAILED tests/test_domain.py::test_quote - assert 0 == 1",
        "ERROR tests/test_domain.py::T::test_quote",
    ):
        assert implicated(summary, [region, tests]) == [tests.key]
    assert implicated("FAILED tests/test_domain.py::test_quote_all", [region, tests]) == []

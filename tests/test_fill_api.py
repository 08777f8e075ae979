"""The api's fill: fields, rules and test factories in one request, and (slow) a realistic answer that
carries out the description and passes the project's own `make check`, with openapi.json regenerated."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

from generator.cli import main
from generator.fill.record import RECORD_FILE
from generator.fill.regions import find_regions
from generator.fill.related import related_files
from tests.fakeapi import FakeAnthropic, Recorded, Reply
from tests.fillfakes import requested, valid_reply
from tests.helpers import run
from tests.realistic_api import ANSWERS, DESCRIPTION

SHOP = ["new-api", "shop", "--defaults", "-d", "resources=orders,customers", "-d", f"description={DESCRIPTION}"]


def test_fields_rules_and_factories_are_asked_for_in_one_request(
    tmp_path: Path, fake: FakeAnthropic, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "shop"
    assert main([*SHOP, "--no-ai", "--dest", str(project)]) == 0
    fake.responder = valid_reply(project)

    # --no-verify: no environment to build here; the summary must then name openapi.json as possibly stale.
    assert main(["fill", str(project), "--no-verify"]) == 0

    [request] = fake.requests
    assert set(requested(request)) == set(ANSWERS)
    content = request.body["messages"][0]["content"]
    files = content.split("<files>", 1)[1]
    # The rules are written next to the fields they use (and the factories next to both), not from a stale copy.
    for path in ("src/shop/models.py", "src/shop/rules.py", "tests/factories.py", "tests/test_rules.py"):
        assert f'path="{path}"' in files, path
    assert "scaffold:fill fields-orders" in files
    assert 'stores["<resource>"].get(id)' in files
    # A later refill of the rules alone still sees the fields, the repositories and the factories, read-only.
    related = related_files(project, ["src/shop/rules.py", "tests/test_rules.py"])
    assert {"src/shop/models.py", "src/shop/repository.py", "tests/factories.py"} <= set(related.files)
    out = capsys.readouterr().out
    assert "may be stale: openapi.json ('make generated' did not run (--no-verify))" in out
    for entry in yaml.safe_load((project / RECORD_FILE).read_text())["regions"].values():
        assert entry["stale"] == ["openapi.json"]


def _realistic(request: Recorded) -> Reply:
    return Reply.message(json.dumps({key: ANSWERS[key] for key in requested(request)}))


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_a_realistic_fill_carries_out_the_description_and_passes_make_check(
    tmp_path: Path, fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SCAFFOLD_VERIFY_COMMAND")  # the gate is the project's own `make check`
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    fake.responder = _realistic
    project = tmp_path / "shop"

    assert main([*SHOP, "--dest", str(project)]) == 0

    assert len(fake.requests) == 1
    out = capsys.readouterr().out
    assert "verified: the fills pass 'make check'" in out
    assert "regenerated with the fills: openapi.json" in out
    contract = json.loads((project / "openapi.json").read_text())
    order = contract["components"]["schemas"]["OrderCreate"]["properties"]
    assert order["total"]["exclusiveMinimum"] == 0
    assert {"customer_id", "currency", "status"} <= set(order)
    # openapi.json is part of the fill commit, and nothing is left uncommitted.
    committed = run(["git", "show", "--name-only", "--format=", "HEAD"], cwd=project).stdout.split()
    assert "openapi.json" in committed
    assert set(committed) >= {region.path for region in find_regions(project)}
    assert run(["git", "status", "--porcelain"], cwd=project).stdout == ""
    # The user's own first `make check` passes too, in the environment the fill step built.
    env = {name: value for name, value in os.environ.items() if not name.startswith("ANTHROPIC_")}
    result = run(["make", "check"], cwd=project, env=env)
    assert "passed" in result.stdout

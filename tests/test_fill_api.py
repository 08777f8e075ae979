"""The api's fill: fields, rules and test factories are asked for in one request.

The realistic answer for the shop (tests/answers/api-shop.json) is replayed with the project's own
`make check` as the gate by tests/test_fill_realistic.py, which also checks the regenerated openapi.json.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.cli import main
from generator.fill.client import Client, ClientOptions
from generator.fill.record import RECORD_FILE
from generator.fill.related import related_files
from generator.settings import DEFAULT_AI_TIMEOUT
from tests.fakeapi import FakeAnthropic
from tests.fillfakes import requested, valid_reply

ANSWER_SET: dict[str, Any] = json.loads((Path(__file__).parent / "answers" / "api-shop.json").read_text())
REGIONS = {key for key in ANSWER_SET["answer"] if key != "notes"}


def test_fields_rules_and_factories_are_asked_for_in_one_request(
    tmp_path: Path, fake: FakeAnthropic, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "shop"
    assert main([*ANSWER_SET["command"], "--defaults", "--no-ai", "--dest", str(project)]) == 0
    fake.responder = valid_reply(project)

    # --no-verify: no environment to build here; the summary must then name openapi.json as possibly stale.
    assert main(["fill", str(project), "--no-verify"]) == 0

    [request] = fake.requests
    assert set(requested(request)) == REGIONS
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


def test_an_api_of_twenty_resources_gets_the_time_its_answer_needs(
    tmp_path: Path, fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 123 regions: at the default 600 s the answer would have to stream at over 60 tokens a second.
    project = tmp_path / "big"
    resources = ",".join(f"things{n}s" for n in range(20))
    assert (
        main(["new-api", "big", "--defaults", "--no-ai", "-d", f"resources={resources}", "--dest", str(project)]) == 0
    )
    monkeypatch.delenv("SCAFFOLD_AI_TIMEOUT", raising=False)
    deadlines: list[float] = []
    real_init = Client.__init__

    def spy(self: Client, options: ClientOptions, *args: Any, **kwargs: Any) -> None:
        deadlines.append(options.timeout)
        real_init(self, options, *args, **kwargs)

    monkeypatch.setattr(Client, "__init__", spy)
    fake.responder = valid_reply(project)
    assert main(["fill", str(project), "--no-verify"]) == 0
    assert deadlines and min(deadlines) > DEFAULT_AI_TIMEOUT

"""context.yml kept as validated, by the digest of its text (`generator.context.parsed_maps`)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from generator.context import parsed_maps
from generator.context.kinds import MAP_FILE, parse_map
from generator.context.parsed_maps import home_map
from generator.errors import ContextMapError
from tests.helpers import REPO_ROOT

BUNDLED = REPO_ROOT / "context" / MAP_FILE
# Every field a map can have, each away from its default.
FULL = """\
version: 1
core: [patterns.md, architecture.md#General]
default_kind: api
ranking:
  folders: [decisions, runbooks]
  max_documents: 4
  per_document: 2
  cutoff: 0.55
  related: 1
  ignore_answers: [team, cost_center]
kinds:
  script:
    description: One-off and scheduled scripts
    documents:
      - style.md#Shell
      - path: style.md#Python
        when: {language: [python, Python3], strict: true}
      - anti-patterns/
    keywords: [script*, {rotate logs: 3}, {cron: 0.5}]
    core_sections: [shell, script*]
  api:
    keywords: [endpoint*, openapi]
"""


def _home(tmp_path: Path, text: str) -> Path:
    context = tmp_path / "home" / "context"
    context.mkdir(parents=True, exist_ok=True)
    (context / MAP_FILE).write_text(text, encoding="utf-8")
    return context


def _kept() -> list[Path]:
    """The maps kept in this test's cache (conftest gives each test its own)."""
    folder = parsed_maps._file("").parent
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


@pytest.mark.parametrize("text", [BUNDLED.read_text(encoding="utf-8"), FULL], ids=["bundled", "every-field"])
def test_a_kept_map_is_the_map_validated(tmp_path: Path, text: str) -> None:
    context = _home(tmp_path, text)
    first = home_map(context)
    assert first == parse_map(text, context / MAP_FILE)
    [kept] = _kept()
    assert kept.stat().st_mode & 0o777 == 0o600  # private, as the caches beside it
    again = home_map(context)
    assert again == first and again is not first
    # Field by field, the order of the kinds included (it decides the default and classification's ties).
    assert list(again.kinds) == list(first.kinds)
    assert [kind.weights for kind in again.kinds.values()] == [kind.weights for kind in first.kinds.values()]
    assert json.loads(kept.read_text())["kinds"][0][0] == next(iter(first.kinds))


def test_the_next_run_reads_the_map_without_pyyaml(tmp_path: Path) -> None:
    context = _home(tmp_path, FULL)
    home_map(context)
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from generator.context.parsed_maps import home_map\n"
        "cmap = home_map(Path(sys.argv[1]))\n"
        "print(list(cmap.kinds), cmap.cutoff, 'yaml' in sys.modules)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, str(context)], capture_output=True, text=True, cwd=REPO_ROOT, check=True
    )
    assert run.stdout.split() == ["['script',", "'api']", "0.55", "False"]


def test_a_changed_text_is_validated_again(tmp_path: Path) -> None:
    context = _home(tmp_path, FULL)
    assert home_map(context).max_documents == 4
    (context / MAP_FILE).write_text(FULL.replace("max_documents: 4", "max_documents: 6"), encoding="utf-8")
    assert home_map(context).max_documents == 6
    assert len(_kept()) == 2


def test_an_invalid_map_is_never_kept_and_its_error_names_its_line_each_time(tmp_path: Path) -> None:
    context = _home(tmp_path, FULL.replace("cutoff: 0.55", "cutoff: 2"))
    for _ in range(2):
        with pytest.raises(ContextMapError, match=r"context\.yml:8: ranking\.cutoff: must be between 0 and 1"):
            home_map(context)
    assert _kept() == []


def test_the_map_is_the_one_at_this_runs_path(tmp_path: Path) -> None:
    first = _home(tmp_path / "one", FULL)
    second = _home(tmp_path / "two", FULL)  # a teammate's clone: the same text elsewhere
    assert home_map(first).path == first / MAP_FILE
    assert home_map(second).path == second / MAP_FILE
    assert len(_kept()) == 1


def test_a_home_without_a_map_keeps_the_bundled_one_as_its_fallback(tmp_path: Path) -> None:
    context = tmp_path / "home" / "context"
    context.mkdir(parents=True)
    for _ in range(2):
        cmap = home_map(context)
        assert cmap.fallback
        assert dataclasses.replace(cmap, fallback=False) == parse_map(BUNDLED.read_text(encoding="utf-8"), BUNDLED)
    assert len(_kept()) == 1


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: "{not json",
        lambda data: json.dumps({**data, "kinds": []}),  # no kinds
        lambda data: json.dumps({**data, "default_kind": "nope"}),
        lambda data: json.dumps({**data, "max_documents": "4"}),
        lambda data: json.dumps({**data, "cutoff": True}),
        lambda data: json.dumps({**data, "core": [["patterns.md", None, 1]]}),
        lambda data: json.dumps({key: value for key, value in data.items() if key != "related"}),
        lambda data: json.dumps([data]),
    ],
)
def test_a_kept_map_that_cannot_be_read_is_validated_again_and_replaced(tmp_path: Path, damage: object) -> None:
    context = _home(tmp_path, FULL)
    expected = home_map(context)
    [kept] = _kept()
    kept.write_text(damage(json.loads(kept.read_text())), encoding="utf-8")  # type: ignore[operator]
    assert home_map(context) == expected
    assert parsed_maps.cached(FULL, context / MAP_FILE) == expected  # kept again, sound


def test_another_version_of_the_validating_code_validates_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = _home(tmp_path, FULL)
    home_map(context)
    monkeypatch.setattr(parsed_maps, "_code", "the digest of other code")
    assert parsed_maps.cached(FULL, context / MAP_FILE) is None
    home_map(context)
    assert len(_kept()) == 2


def test_a_check_that_must_write_nothing_keeps_nothing(tmp_path: Path) -> None:
    context = _home(tmp_path, FULL)
    assert home_map(context, remember=False) == parse_map(FULL, context / MAP_FILE)
    assert _kept() == []


def test_only_the_newest_maps_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsed_maps, "LIMIT", 2)
    context = _home(tmp_path, FULL)
    for number in (4, 5, 6):
        (context / MAP_FILE).write_text(FULL.replace("max_documents: 4", f"max_documents: {number}"))
        home_map(context)
    kept = [json.loads(path.read_text())["max_documents"] for path in _kept()]
    assert sorted(kept) == [5, 6]


def test_a_cache_that_cannot_be_written_only_costs_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    context = _home(tmp_path, FULL)
    assert home_map(context) == parse_map(FULL, context / MAP_FILE)

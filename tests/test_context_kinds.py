"""context.yml: the map from kinds to documents, its validation, and classification."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

import pytest

from generator.context.kinds import ContextMap, Words, _plurals, classify, load_map, parse_map
from generator.errors import ContextMapError
from tests.helpers import REPO_ROOT
from tests.test_context_fixtures import MAP

BUNDLED = REPO_ROOT / "context"


@pytest.fixture(scope="module")
def bundled_map() -> ContextMap:
    return load_map(BUNDLED / "context.yml")


def test_the_bundled_map_covers_the_templates_and_free_text_kinds(bundled_map: ContextMap) -> None:
    assert {"service", "api", "infra", "script", "debug", "deploy", "review"} <= set(bundled_map.kinds)
    assert [str(ref) for ref in bundled_map.core] == ["patterns.md", "architecture.md"]
    assert bundled_map.default_kind == "general"
    assert bundled_map.ranked_folders == ("decisions", "incidents", "runbooks", "anti-patterns")


def test_every_document_the_bundled_map_names_exists(bundled_map: ContextMap) -> None:
    for kind in bundled_map.kinds.values():
        for ref in kind.documents:
            target = BUNDLED / ref.path
            assert target.is_dir() if ref.is_folder else target.is_file(), f"{kind.name}: {ref}"
            if ref.heading:
                assert f"## {ref.heading}\n" in target.read_text(), f"{kind.name}: {ref}"


@pytest.mark.parametrize(
    ("task", "kind"),
    [
        ("Add a POST /v1/refunds endpoint that returns problem details on conflicts", "api"),
        ("Paginate the invoices list with a cursor", "api"),
        ("Terraform module for an S3 bucket holding audit logs", "infra"),
        ("New FastAPI service that consumes order events, with health checks", "service"),
        ("Write a cron script to clean up stale branches, with a dry run", "script"),
        ("Checkout returns 502 errors since this morning, find the root cause", "debug"),
        ("The nightly export job crashes with a traceback", "debug"),
        ("Roll back yesterday's release of billing-api in production", "deploy"),
        ("Review this pull request for the payments refactor", "review"),
        ("Summarise what our team believes about naming", "general"),
    ],
)
def test_free_text_tasks_are_classified_by_keywords(bundled_map: ContextMap, task: str, kind: str) -> None:
    assert classify(task, bundled_map)[0] == kind


def test_classification_reports_the_deciding_keywords(bundled_map: ContextMap) -> None:
    kind, words = classify("deploy the canary to staging", bundled_map)
    assert kind == "deploy"
    assert {"deploy*", "canary", "staging"} <= set(words)
    assert classify("", bundled_map) == ("general", [])


def test_phrases_prefixes_and_ties() -> None:
    cmap = parse_map(
        "version: 1\nkinds:\n"
        "  first:\n    keywords: [shared]\n"
        "  second:\n    keywords: [shared]\n"
        "  api:\n    keywords: [problem details, paginat*]\n",
        Path("context.yml"),
    )
    assert classify("a shared thing", cmap)[0] == "first"  # ties go to the kind listed first
    assert classify("return Problem-Details", cmap)[0] == "api"
    assert classify("add pagination", cmap)[0] == "api"
    assert classify("problems with details", cmap)[0] == "first"  # no phrase match: the default
    assert cmap.default_kind == "first"


def test_a_keyword_matches_its_plurals_but_a_short_one_only_as_written() -> None:
    cmap = parse_map(
        "version: 1\nkinds:\n"
        "  general:\n    keywords: [nothing]\n"
        "  service:\n    keywords: [worker, dependency, batch, state file]\n"
        "  review:\n    keywords: [pr, delay]\n",
        Path("context.yml"),
    )
    for task in ("scale the workers", "bump the dependencies", "split the batches", "lock the state files"):
        assert classify(task, cmap)[0] == "service", task
    assert classify("the delays at night", cmap)[0] == "review"  # a vowel before the y: delays
    assert classify("the delaies", cmap)[0] == "general"
    assert classify("open two prs", cmap)[0] == "general"  # two letters: as written
    assert classify("the workerz", cmap)[0] == "general"
    assert classify("the workeres", cmap)[0] == "general"  # -es only after s, x, z, ch, sh
    assert classify("the dependencys", cmap)[0] == "general"


def test_ignored_answers_are_read_by_name_and_none_by_default() -> None:
    assert parse_map(MAP, Path("context.yml")).ignore_answers == frozenset()
    text = MAP.replace("ranking:\n", "ranking:\n  ignore_answers: [team, cost_center]\n", 1)
    assert parse_map(text, Path("context.yml")).ignore_answers == {"team", "cost_center"}


def test_document_references_parse_sections_and_folders() -> None:
    cmap = parse_map(MAP, Path("context.yml"))
    refs = cmap.kinds["api"].documents
    assert (refs[0].path, refs[0].heading, refs[0].line) == ("style.md", "Python", 10)
    assert not refs[1].heading


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("version: 1\nkinds:\n  api:\n    keywords: [a, b\n", 5, "invalid YAML"),
        # Found lines below where the parser gave up: where it opened is said too.
        (
            "version: 1\nranking:\n  folders: [decisions, runbooks\n  cutoff: 0.5\nkinds:\n  api: {}\n",
            4,
            "invalid YAML: did not find expected ',' or ']' (the [ list from line 3)",
        ),
        (
            "version: 1\nkinds:\n  api:\n    keywords:\n      - {fastapi:2}\n",
            5,
            "write `{fastapi: 2}`: a space after ':'",
        ),
        ("version: 2\nkinds: {}\n", 1, "only version 1"),
        ("kinds:\n  api: {}\n", 1, "missing `version: 1`"),
        ("version: 1\n", 1, "missing `kinds:`"),
        ("version: 1\nkind:\n  api: {}\n", 2, "unknown key 'kind'"),
        ("version: 1\nkinds:\n  api:\n    documents: style.md\n", 4, "kinds.api.documents: expected a list"),
        ("version: 1\nkinds:\n  api:\n    documents:\n      - {file: x.md}\n", 5, "unknown key 'file'"),
        ("version: 1\nkinds:\n  api:\n    documents:\n      - {when: {a: b}}\n", 5, "needs `path:` too"),
        (
            "version: 1\nkinds:\n  api:\n    documents:\n      - {path: x.md, when: [a]}\n",
            5,
            "when: expected a mapping",
        ),
        (
            "version: 1\nkinds:\n  api:\n    documents:\n      - {path: x.md, when: {a: []}}\n",
            5,
            "give at least one value",
        ),
        (
            "version: 1\nkinds:\n  api:\n    documents:\n      - {path: x.md, when: {a: {b: c}}}\n",
            5,
            "kinds.api.documents[0].when.a",
        ),
        ("version: 1\nranking: {related: -1}\nkinds:\n  api: {}\n", 2, "ranking.related: must be between 0 and 100"),
        # YAML's own numbers: `.nan` and `.inf` are floats no range holds; `0x`, `_` forms are read as YAML reads them.
        ("version: 1\nranking:\n  cutoff: .nan\nkinds:\n  api: {}\n", 3, "ranking.cutoff: must be between 0 and 1"),
        ("version: 1\nranking:\n  cutoff: -.inf\nkinds:\n  api: {}\n", 3, "ranking.cutoff: must be between 0 and 1"),
        ("version: 1\nranking:\n  related: 0x7f\nkinds:\n  api: {}\n", 3, "ranking.related: must be between 0 and 100"),
        ("version: 1\nkinds:\n  api:\n    keywords: [{api: .inf}]\n", 4, "a weight must be above 0 and at most 100"),
        ("version: 1\nkinds:\n  api:\n    keywords: [{api: .NaN}]\n", 4, "a weight must be above 0 and at most 100"),
        ("version: 1\nranking:\n  related: 1" + "0" * 400 + "\nkinds:\n  api: {}\n", 3, "must be between 0 and 100"),
        ("version: 1\nranking:\n  related: !!int abc\nkinds:\n  api: {}\n", 3, "expected a whole number"),
        ("version: 1\nranking:\n  cutoff: !!float ''\nkinds:\n  api: {}\n", 3, "expected a number between 0 and 1"),
        ("version: 1\nranking:\n  related: !!int ''\nkinds:\n  api: {}\n", 3, "expected a whole number"),
        (
            "version: 1\nranking: {ignore_answers: team}\nkinds:\n  api: {}\n",
            2,
            "ranking.ignore_answers: expected a list",
        ),
        (
            "version: 1\nranking:\n  ignore_answers: [team, ' ']\nkinds:\n  api: {}\n",
            3,
            "ranking.ignore_answers[1]: an answer's name cannot be empty",
        ),
        (
            "version: 1\nranking:\n  ignore_answers: [{team: x}]\nkinds:\n  api: {}\n",
            3,
            "ranking.ignore_answers[0]: expected an answer's name (a string)",
        ),
        ("version: 1\nkinds:\n  api:\n    documents:\n      - {path: x.md, when: {}}\n", 5, "name at least one answer"),
        ("version: 1\nkinds:\n  api:\n    documents:\n      - {path: x.md, when: {'': a}}\n", 5, "cannot be empty"),
        ("version: 1\nkinds:\n  api:\n    documents: [../secrets.md]\n", 4, "must be a path inside context/"),
        ("version: 1\nkinds:\n  api:\n    documents: [notes.txt]\n", 4, "must be a markdown file"),
        ("version: 1\nkinds:\n  api:\n    keyword: [x]\n", 4, "unknown key 'keyword'"),
        ("version: 1\nkinds:\n  api:\n    keywords: ['***']\n", 4, "must be words"),
        ("version: 1\nkinds:\n  Bad Kind: {}\n", 3, "kind name 'Bad Kind'"),
        ("version: 1\ndefault_kind: nope\nkinds:\n  api: {}\n", 2, "'nope' is not one of the kinds"),
        ("version: 1\nranking:\n  top_k: many\nkinds:\n  api: {}\n", 3, "ranking.top_k: expected a whole number"),
        ("version: 1\nkinds:\n  api: {}\n  api: {}\n", 4, "duplicate key 'api'"),
        ("", 1, "the file is empty"),
    ],
)
def test_malformed_maps_name_the_file_and_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "context.yml"
    path.write_text(text)
    with pytest.raises(ContextMapError) as caught:
        load_map(path)
    assert str(caught.value).startswith(f"{path}:{line}:")
    assert message in str(caught.value)


def test_a_missing_map_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(ContextMapError, match=r"missing; every knowledge home needs context/context\.yml"):
        load_map(tmp_path / "context.yml")


def test_a_map_that_is_not_utf8_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "context" / "context.yml"
    path.parent.mkdir()
    path.write_bytes(MAP.encode() + b"# caf\xe9\n")
    with pytest.raises(ContextMapError) as caught:
        load_map(path)
    line = MAP.count("\n") + 1
    assert str(caught.value) == f"{path}:{line}: not UTF-8 text (byte 0xe9); save the file as UTF-8"


def test_a_map_that_is_a_link_out_of_the_home_is_not_followed(tmp_path: Path) -> None:
    # Its keys would be echoed in the errors ("unknown key 'SECRET_TOKEN_...'").
    (tmp_path / "private.yml").write_text("SECRET_TOKEN_x: 1\n")
    home = tmp_path / "home"
    (home / "context").mkdir(parents=True)
    (home / "context" / "context.yml").symlink_to(tmp_path / "private.yml")
    with pytest.raises(ContextMapError) as caught:
        load_map(home / "context" / "context.yml")
    assert str(caught.value).endswith(
        "context.yml: cannot read it: a symlink that leads out of the knowledge home; copy the file in instead"
    )
    # Within the home, a link is the team's own arrangement.
    (home / "config").mkdir()
    (home / "config" / "context.yml").write_text(MAP)
    (home / "context" / "context.yml").unlink()
    (home / "context" / "context.yml").symlink_to("../config/context.yml")
    assert load_map(home / "context" / "context.yml").kinds


@pytest.mark.parametrize(
    "task",
    [
        "rotate the database credentials for billing",
        "Rotate the database credentials for billing-service",
    ],
)
def test_credentials_rotation_is_not_a_script_task(bundled_map: ContextMap, task: str) -> None:
    assert classify(task, bundled_map, ["billing-service"])[0] != "script"


def test_weighted_keywords_and_the_minimum_weight() -> None:
    cmap = parse_map(
        "version: 1\nkinds:\n"
        "  general: {}\n"
        "  script:\n    keywords: [{script*: 2}, cleanup]\n"
        "  deploy:\n    keywords: {release*: 1.5, production: 0.5}\n",
        Path("context.yml"),
    )
    assert cmap.kinds["script"].weights == (2.0, 1.0)
    assert classify("a cleanup script", cmap) == ("script", ["script*", "cleanup"])
    assert classify("the release of the cleanup", cmap)[0] == "deploy"  # 1.5 beats 1
    assert classify("read the production tables", cmap)[0] == "general"  # 0.5 alone is not enough


def test_project_names_are_not_keywords(bundled_map: ContextMap) -> None:
    assert classify("why is billing-api slow", bundled_map, ["billing-api"])[0] != "api"
    assert classify("why is billing-api slow", bundled_map)[0] == "api"


def test_a_missing_map_falls_back_to_the_given_one(tmp_path: Path) -> None:
    cmap = load_map(tmp_path / "context.yml", fallback=BUNDLED / "context.yml")
    assert cmap.fallback and cmap.path == BUNDLED / "context.yml"
    broken = tmp_path / "broken" / "context.yml"
    broken.parent.mkdir()
    broken.write_text("version: 1\nkinds:\n  api:\n    keywords: [a, b\n")
    with pytest.raises(ContextMapError, match=r"context\.yml:5: invalid YAML"):
        load_map(broken, fallback=BUNDLED / "context.yml")


def test_the_bundled_core_sections_split_the_core_documents_by_kind(bundled_map: ContextMap) -> None:
    from generator.context.documents import load_library
    from generator.context.select import core_section_kinds

    library = load_library(BUNDLED)
    owners = {
        section.trail: core_section_kinds(section, bundled_map)
        for path in ("patterns.md", "architecture.md")
        for section in library.sections_of(path) or []
    }
    assert owners["Coding patterns > Terraform modules"] == ["infra"]
    assert owners["Coding patterns > Operational scripts"] == ["script"]
    assert owners["Coding patterns > Python services (FastAPI)"] == ["service", "api"]
    assert owners["Coding patterns > HTTP APIs (contract-first)"] == ["service", "api"]
    assert owners["Coding patterns > Everything we write"] == []
    assert owners["Coding patterns > Testing"] == []
    assert owners["Architecture principles > Security"] == []
    # Heading patterns take no plurals: `http` claims "HTTP APIs", not a general "HTTPS and TLS".
    api = bundled_map.kinds["api"]
    assert "http" in api.core_sections and not api.claims(["https", "and", "tls"])


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("version: 1\nkinds:\n  api:\n    keywords: [{a: 1, b: 2}]\n", 4, "one `keyword: weight` pair"),
        ("version: 1\nkinds:\n  api:\n    keywords: {a: lots}\n", 4, "expected a weight"),
        ("version: 1\nkinds:\n  api:\n    keywords: {a: 0}\n", 4, "above 0"),
        ("version: 1\nranking:\n  cutoff: 2\nkinds:\n  api: {}\n", 3, "between 0 and 1"),
        ("version: 1\nranking:\n  top_k: 2\n  max_documents: 3\nkinds:\n  api: {}\n", 3, "not both"),
        ("version: 1\nkinds:\n  api:\n    core_sections: ['**']\n", 4, "must be words"),
    ],
)
def test_malformed_weights_and_ranking(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "context.yml"
    path.write_text(text)
    with pytest.raises(ContextMapError) as caught:
        load_map(path)
    assert str(caught.value).startswith(f"{path}:{line}:")
    assert message in str(caught.value)


def test_a_map_nested_too_deep_is_an_error_naming_the_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import yaml

    # PyYAML's own loader (where libyaml is missing) recurses once per level.
    monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    with pytest.raises(ContextMapError, match=r"context\.yml: invalid YAML: nested too deep"):
        parse_map("version: 1\nkinds: " + "[" * 3000 + "\n", tmp_path / "context.yml")


def _scanned(words: list[str], phrase: list[str], prefix: bool, plurals: bool) -> bool:
    """What `Words.contains` must answer, the slow way: every place in the text looked at."""
    endings = _plurals(phrase[-1]) if plurals else (phrase[-1],)
    for start in range(len(words) - len(phrase) + 1):
        last = words[start + len(phrase) - 1]
        if words[start : start + len(phrase) - 1] == phrase[:-1] and (
            last in endings or (prefix and last.startswith(phrase[-1]))
        ):
            return True
    return False


def test_the_indexed_words_find_what_a_scan_of_every_place_finds() -> None:
    rng = random.Random(12)
    vocabulary = ["deploy", "deploys", "deployment", "roll", "back", "rollback", "batch", "batches", "pr", "x", "db"]
    for _ in range(3000):
        words = [rng.choice(vocabulary) for _ in range(rng.randint(0, 9))]
        phrase = [rng.choice(vocabulary) for _ in range(rng.randint(1, 3))]
        prefix, plurals = rng.random() < 0.5, rng.random() < 0.5
        expected = _scanned(words, phrase, prefix, plurals)
        assert Words(words).contains(phrase, prefix, plurals) == expected, (words, phrase, prefix, plurals)


def test_a_long_task_is_classified_by_its_keywords_wherever_they_are(tmp_path: Path) -> None:
    cmap = parse_map(MAP, tmp_path / "context.yml")
    filler = "lorem ipsum dolor sit amet " * 20_000  # a pasted log of 100,000 words
    assert classify(filler + "then release it", cmap) == ("deploy", ["release*"])
    assert classify("rollback " + filler, cmap) == ("deploy", ["rollback"])
    assert classify(filler, cmap) == (cmap.default_kind, [])


def test_a_task_is_indexed_once_for_all_the_keywords(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Indexed once per keyword (or scanned once per keyword, as before), a pasted megabyte took 13.7 s.
    cmap = parse_map(MAP, tmp_path / "context.yml")
    made: list[int] = []
    real = Words.__init__

    def counted(self: Words, words: Sequence[str]) -> None:
        made.append(len(words))
        real(self, words)

    monkeypatch.setattr(Words, "__init__", counted)
    classify("lorem ipsum " * 1000 + "rollback", cmap)
    assert [size for size in made if size > 1000] == [2001]

"""Finding documents, splitting them into sections, and the cached index."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from generator.context import documents
from generator.context.documents import MAX_SECTION_BYTES, load_library, scan_files, split_sections
from tests.helpers import REPO_ROOT
from tests.test_context_fixtures import make_home


def sections(text: str, path: str = "doc.md") -> list[tuple[str, str, int]]:
    data = text.encode()
    return [(raw.heading, raw.trail, raw.line) for raw in split_sections(path, data)]


def test_sections_start_at_headings_up_to_level_three() -> None:
    text = "intro\n# Title\nbody\n## Part A\na\n### Detail\nd\n#### Deep\nstays in Detail\n## Part B\nb\n"
    assert sections(text) == [
        ("(preamble)", "Title", 1),
        ("Title", "Title", 2),
        ("Part A", "Title > Part A", 4),
        ("Detail", "Title > Part A > Detail", 6),
        ("Part B", "Title > Part B", 10),
    ]


def test_headings_inside_fenced_code_do_not_split() -> None:
    text = "# Runbook\n```bash\n# not a heading\n```\n~~~~\n## nor this\n~~~~\n## Real\n"
    assert [heading for heading, _, _ in sections(text)] == ["Runbook", "Real"]


def test_sections_cover_the_file_byte_for_byte() -> None:
    text = "\ufeff# Tïtle\n\nbödy\n## Zweite\nmehr\n"
    data = text.encode()
    raw = split_sections("doc.md", data)
    assert raw[0].start == 3  # the byte order mark is not content
    assert b"".join(data[s.start : s.end] for s in raw) == data[3:]


def test_a_document_without_h1_is_titled_by_its_file_name() -> None:
    assert sections("## Steps\n1. do it\n", "runbooks/restart-workers.md") == [("Steps", "restart-workers > Steps", 1)]


def test_oversized_sections_are_cut_into_parts_at_boundaries() -> None:
    paragraph = "word " * 200 + "\n\n"
    text = "# Big\n" + paragraph * 40
    data = text.encode()
    raw = split_sections("big.md", data)
    assert len(raw) > 3
    assert all(s.end - s.start <= MAX_SECTION_BYTES for s in raw)
    assert raw[1].heading == "Big (part 2)"
    assert all(data[s.start - 2 : s.start] == b"\n\n" for s in raw[1:])  # cut after blank lines
    assert raw[2].line == 1 + data.count(b"\n", 0, raw[2].start)


def test_one_enormous_line_is_cut_between_characters() -> None:
    text = "# Blob\n" + "é" * (MAX_SECTION_BYTES * 2)
    data = text.encode()
    raw = split_sections("blob.md", data)
    assert len(raw) >= 3
    for part in raw:
        data[part.start : part.end].decode("utf-8")  # never splits a character


def test_scan_skips_private_folders_and_reports_symlink_problems(tmp_path: Path) -> None:
    root = tmp_path / "context"
    (root / "runbooks").mkdir(parents=True)
    (root / "runbooks" / "deploy.md").write_text("# Deploy\n")
    (root / "_templates").mkdir()
    (root / "_templates" / "decision.md").write_text("# $title\n")
    (root / ".git").mkdir()
    (root / "notes.txt").write_text("not markdown")
    (root / "runbooks" / "loop").symlink_to(root)  # a folder symlink back up: a loop
    (root / "self.md").symlink_to(root / "self.md")  # a symlink to itself
    (root / "gone.md").symlink_to(root / "missing.md")

    entries, warnings = scan_files(root)

    assert [entry.path for entry in entries] == ["runbooks/deploy.md"]
    assert any("runbooks/loop/" in w and "symlink loop" in w for w in warnings)
    assert any("self.md" in w and "symlink loop" in w for w in warnings)
    assert any("gone.md" in w and "broken symlink" in w for w in warnings)


def test_non_utf8_files_are_skipped_with_a_warning(tmp_path: Path) -> None:
    make_home(tmp_path, {"context/runbooks/latin1.md": "# Café\n".encode("latin-1")})
    library = load_library(tmp_path / "context")
    assert library.sections_of("runbooks/latin1.md") is None
    assert any("runbooks/latin1.md" in w and "not UTF-8" in w for w in library.warnings)
    assert library.sections_of("runbooks/deploy.md")


def test_unreadable_files_are_skipped_with_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_home(tmp_path)
    real_read = documents._read_bytes

    def read(path: Path) -> bytes:
        if path.name == "deploy.md":
            raise PermissionError(13, "Permission denied", str(path))
        return real_read(path)

    monkeypatch.setattr(documents, "_read_bytes", read)
    library = load_library(tmp_path / "context")
    assert library.sections_of("runbooks/deploy.md") is None
    assert any("runbooks/deploy.md" in w and "Permission denied" in w for w in library.warnings)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_files_by_permissions(tmp_path: Path) -> None:
    make_home(tmp_path)
    target = tmp_path / "context" / "runbooks" / "deploy.md"
    target.chmod(0)
    try:
        library = load_library(tmp_path / "context")
    finally:
        target.chmod(0o644)
    assert any("runbooks/deploy.md" in w for w in library.warnings)


def test_the_index_is_cached_and_only_changed_files_are_parsed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_home(tmp_path)
    context = tmp_path / "context"
    first = load_library(context)
    parsed: list[str] = []
    real_parse = documents._parse_file

    def parse(root: Path, path: str) -> tuple[str | None, list[list[Any]]]:
        parsed.append(path)
        return real_parse(root, path)

    monkeypatch.setattr(documents, "_parse_file", parse)
    again = load_library(context)
    assert parsed == []
    assert again.fingerprint == first.fingerprint
    assert again.sections_of("style.md") == first.sections_of("style.md")

    deploy = context / "runbooks" / "deploy.md"
    deploy.write_text("# Deploy\n\n## Steps\n\nUse the pipeline.\n\n## Verify\n\nWatch the dashboard.\n")
    os.utime(deploy, ns=(deploy.stat().st_atime_ns, deploy.stat().st_mtime_ns + 10**9))
    changed = load_library(context)
    assert parsed == ["runbooks/deploy.md"]
    assert [s.heading for s in changed.sections_of("runbooks/deploy.md") or []] == ["Deploy", "Steps", "Verify"]


def test_reading_a_section_returns_its_text(tmp_path: Path) -> None:
    make_home(tmp_path)
    library = load_library(tmp_path / "context")
    python = next(s for s in library.sections_of("style.md") or [] if s.heading == "Python")
    assert library.read(python) == "## Python\n\nType hints everywhere; ruff format.\n\n"
    assert python.trail == "Style > Python"
    assert python.line == 7
    assert python.tokens == -(-len(library.read(python)) // 3)


def test_bm25_ranks_sections_of_the_ranked_folders_only(tmp_path: Path) -> None:
    make_home(tmp_path)
    library = load_library(tmp_path / "context")
    folders = ["decisions", "incidents", "runbooks", "anti-patterns"]

    ranked = library.rank("rotate the TLS certificate on the gateway", folders, 3)
    assert ranked[0][0].path == "runbooks/rotate-certificates.md"
    assert all(score > 0 for _, score in ranked)
    assert [score for _, score in ranked] == sorted((score for _, score in ranked), reverse=True)

    kafka = library.rank("consumer lag on the kafka topics", folders, 1)
    assert kafka[0][0].path == "decisions/0003-kafka.md"

    everything = library.rank("terraform snake_case names", folders, 50)
    assert all(section.folder in folders for section, _ in everything)
    assert library.rank("zzzz qqqq", folders, 5) == []


def test_repeated_queries_are_answered_from_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_home(tmp_path)
    folders = ["decisions", "runbooks"]
    expected = load_library(tmp_path / "context").rank("deploy workflow image tag", folders, 2)

    def no_ranker(self: documents.Library, folders: tuple[str, ...]) -> documents._Ranker | None:
        raise AssertionError("the ranker should not be needed for a cached query")

    monkeypatch.setattr(documents.Library, "_load_or_build_ranker", no_ranker)
    assert load_library(tmp_path / "context").rank("deploy workflow image tag", folders, 2) == expected


def test_scores_from_the_cached_postings_equal_bm25s_scores(tmp_path: Path) -> None:
    import bm25s
    import Stemmer

    make_home(tmp_path)
    context = tmp_path / "context"
    library = load_library(context)
    library.rank("warm up", ["decisions", "incidents", "runbooks"], 1)
    ranker = documents._Ranker.load(next((library._store.folder or tmp_path).glob("bm25-*")), library.fingerprint)
    assert ranker is not None

    texts: list[str] = []
    for path, ordinal in ranker.rows:
        section = library.section((path, ordinal))
        assert section is not None
        texts.append(section.trail + "\n" + library.read(section))
    stemmer = Stemmer.Stemmer("english")
    model = bm25s.BM25(method="lucene")
    model.index(bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False)

    for query in ("rotate the TLS certificates", "Kafka lag, lag and more lag", "PostgreSQL orders", "nothing-here"):
        tokens = bm25s.tokenize([query], stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False)[0]
        ids = model.get_tokens_ids(tokens)
        expected = model.get_scores_from_ids(ids) if ids else [0.0] * len(texts)
        ours = ranker.scores(query)
        assert bool(ours) == (query != "nothing-here")
        for row, score in enumerate(expected):
            assert ours.get(row, 0.0) == pytest.approx(float(score), rel=1e-5, abs=1e-6), (query, row)


def test_a_warm_query_imports_neither_numpy_nor_bm25s(tmp_path: Path) -> None:
    import subprocess
    import sys

    make_home(tmp_path)
    load_library(tmp_path / "context").rank("warm up the cache", ["runbooks"], 1)
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from generator.context.documents import load_library\n"
        f"hits = load_library(Path({str(tmp_path / 'context')!r})).rank('deploy image tag', ['runbooks'], 2)\n"
        "print(hits[0][0].path, 'numpy' in sys.modules, 'bm25s' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, check=True)
    assert result.stdout.split() == ["runbooks/deploy.md", "False", "False"]

"""References between documents (generator/context/links.py) and the index's neighbours of a document."""

from __future__ import annotations

import os
import random
from pathlib import Path, PurePosixPath

import pytest

from generator.context import links, sections
from generator.context.documents import load_library
from generator.context.links import (
    MAX_TEXT,
    STATUS_WITHIN,
    Catalogue,
    Retired,
    reference_keys,
    retirement,
    without_numbered_references,
)
from generator.context.sections import FileEntry
from tests.helpers import REPO_ROOT, cpu_seconds
from tests.test_context_fixtures import make_home

PATHS = [
    "decisions/0004-idempotency-keys.md",
    "decisions/0005-cursor-pagination.md",
    "decisions/0012-money.md",
    "incidents/0002-double-charges.md",
    "incidents/0007-list-timeouts.md",
    "runbooks/rollback.md",
    "runbooks/deploy.md",
    "archive/deploy.md",
    "anti-patterns/offset-pagination.md",
    "project-contexts/billing.md",
]


def resolved(path: str, text: str, paths: list[str] = PATHS) -> list[str]:
    catalogue = Catalogue(paths)
    found = (catalogue.resolve(key) for key in reference_keys(path, text))
    return list(dict.fromkeys(target for target in found if target is not None))


def test_links_paths_and_numbers_name_documents_of_the_home() -> None:
    text = """Keyset pagination, see ADR 0005 and incident 7 (postmortem in incidents/0007-list-timeouts.md).
It [rolls back](../runbooks/rollback.md#steps "how") like [the rest](<../decisions/0012-money.md>).
Follow-up: ADR-4; also INC-0002.
"""
    assert resolved("anti-patterns/offset-pagination.md", text) == [
        "runbooks/rollback.md",
        "decisions/0012-money.md",
        "incidents/0007-list-timeouts.md",
        "decisions/0005-cursor-pagination.md",
        "decisions/0004-idempotency-keys.md",
        "incidents/0002-double-charges.md",
    ]


def test_what_names_nothing_in_the_home_is_left_out() -> None:
    text = """ADR 0099 does not exist; [up](../../etc/passwd.md), [web](https://example.com/x.md),
[absolute](/srv/notes.md), deploy.md (two documents have that name), 2024 incidents, version 0005.
Numbered decisions: none. decisions/0004-idempotency-keys.md is written from the root.
"""
    assert resolved("runbooks/rollback.md", text) == ["decisions/0004-idempotency-keys.md"]


def test_an_absolute_path_is_a_key_only_for_a_task() -> None:
    # A document's link to a file on its writer's machine means nothing on another; a task, run on
    # the machine it names a file of, may mean one of the home's (`Library.named_in`).
    text = "Status: Superseded by [the new one](/decisions/0010-new.md), see /srv/kb/context/runbooks/deploy.md"
    assert reference_keys("decisions/0001-old.md", text) == []
    assert reference_keys("", text, in_task=True) == [
        "abs:/decisions/0010-new.md",
        "abs:/srv/kb/context/runbooks/deploy.md",
    ]
    assert retirement("decisions/0001-old.md", f"# Old\n\n{text.split(', see')[0]}\n") == ("superseded", [])


def test_a_path_after_a_root_the_scan_back_cannot_read_whole_keeps_its_place() -> None:
    # A root holding a space, or written from the user's home, is matched where the path starts; each
    # key keeps the text's order, and a document's own text (no `absolute`) gets none of them.
    roots = ["/srv/Team Docs/context/", "~/kb/context/"]
    text = "see ~/kb/context/b.md, /srv/Team Docs/context/runbooks/a.md and /x/c.md"
    assert reference_keys("", text, in_task=True, roots=roots) == [
        "abs:~/kb/context/b.md",
        "abs:/srv/Team Docs/context/runbooks/a.md",
        "abs:/x/c.md",
    ]
    assert reference_keys("", text, roots=roots) == ["path:Docs/context/runbooks/a.md"]


def test_references_to_numbered_documents_are_blanked_from_what_ranks() -> None:
    # Only those that name a document: "incident 500 errors" names none, and its words are the task's.
    text = "Summarise ADR 0002 and Incident #3, post-mortem 12; incident 500 errors, postgres 16 and madr 9 stay"
    names = {"num:adr:2", "num:incident:3", "num:post-mortem:12"}.__contains__
    blanked = without_numbered_references(text, names)
    assert len(blanked) == len(text)
    assert blanked.split() == [
        *("Summarise", "and", ",", ";", "incident", "500", "errors,"),
        *("postgres", "16", "and", "madr", "9", "stay"),
    ]
    assert without_numbered_references("upgrade postgres 16", names) == "upgrade postgres 16"
    assert without_numbered_references(text, lambda key: False) == text


def test_a_name_with_combining_marks_is_read_back_whole() -> None:
    # Text from macOS may write `é` as e and U+0301: read back only to the mark, `résume.md` named
    # `sume.md`, another document.
    paths = ["runbooks/sume.md", "runbooks/re\u0301sume\u0301.md"]
    assert resolved("", "see re\u0301sume\u0301.md first", paths) == ["runbooks/re\u0301sume\u0301.md"]
    assert resolved("", "see runbooks/re\u0301sume\u0301.md first", paths) == ["runbooks/re\u0301sume\u0301.md"]
    assert resolved("", "see r\u00e9sum\u00e9.md first", paths) == []  # the other form: only a task folds it


def test_names_read_back_after_a_name_are_those_a_reading_of_each_finds() -> None:
    # Reading back from each ".md" stops at the last name's ".md" and takes what was read for that
    # one: the same names as reading back each time, at most 300 characters, on text built to end
    # runs anywhere (spaces, marks, runs longer than 300, suffixes back to back).
    def read_back_each_time(text: str) -> list[str]:
        keys: dict[str, None] = {}
        for match in links._SUFFIX.finditer(text):
            begin = end = match.start()
            while begin > 0 and end - begin < 300 and links._in_path(text[begin - 1]):
                begin -= 1
            written = text[begin : match.end()]
            if begin == end:
                continue
            if "/" in written:
                links._add_path(keys, "", written, False)
            else:
                keys[f"name:{written.casefold()}"] = None
        return list(keys)

    rng = random.Random(5)
    pieces = ["a", "\u00e9", "e\u0301", "\u0301", "/", ".", "-", " ", ".md", ".MD", ".markdown", "x" * 120, "runbooks/"]
    for _ in range(400):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 60)))
        assert reference_keys("", text) == read_back_each_time(text), repr(text)


def test_many_file_names_resolve_as_one_does() -> None:
    # Past `NAMES_ONE_BY_ONE`, the names are worked out at once, not in one pass each over the home.
    paths = [f"notes/{number:03d}-Note.md" for number in range(40)] + ["a/twice.md", "b/twice.md"]
    catalogue = Catalogue(paths)
    asked = [f"name:{number:03d}-note.md" for number in range(40)] + ["name:twice.md", "name:none.md"]
    assert [catalogue.resolve(key) for key in asked] == [*paths[:40], None, None]
    assert catalogue._by_name is not None  # worked out at once (the one-by-one answers are the same)


def test_numbers_follow_the_folder_the_home_has() -> None:
    paths = ["adr/0003-queues.md", "postmortems/0003-outage.md", "runbooks/x.md"]
    assert resolved("runbooks/x.md", "ADR 3, then incident 0003", paths) == [
        "adr/0003-queues.md",
        "postmortems/0003-outage.md",
    ]
    catalogue = Catalogue(paths)
    assert "num:adr:3" in catalogue.keys_naming("adr/0003-queues.md")
    assert "num:incident:3" in catalogue.keys_naming("postmortems/0003-outage.md")


def test_keys_naming_a_document_are_what_resolves_to_it() -> None:
    catalogue = Catalogue(PATHS)
    for path in PATHS:
        keys = catalogue.keys_naming(path)
        assert keys and all(catalogue.resolve(key) == path for key in keys), (path, keys)
    assert "name:deploy.md" not in catalogue.keys_naming("runbooks/deploy.md")  # two documents have that name


def test_the_index_gives_a_documents_references_both_ways_and_keeps_them_current(tmp_path: Path) -> None:
    make_home(
        tmp_path,
        {
            "context/decisions/0005-cursor-pagination.md": "# 5. Cursor pagination\n\nLists page by cursor.\n",
            "context/incidents/0007-list-timeouts.md": "# List timeouts\n\nFixed by ADR 0005.\n",
            "context/anti-patterns/offset-pagination.md": "# Offset pagination\n\nSee [the decision]"
            "(../decisions/0005-cursor-pagination.md).\n",
        },
    )
    context = tmp_path / "context"
    library = load_library(context)
    assert library.neighbours("decisions/0005-cursor-pagination.md", library.paths()) == [
        "anti-patterns/offset-pagination.md",
        "incidents/0007-list-timeouts.md",
    ]
    assert library.neighbours("incidents/0007-list-timeouts.md", library.paths()) == [
        "decisions/0005-cursor-pagination.md"
    ]

    incident = context / "incidents" / "0007-list-timeouts.md"
    incident.write_text("# List timeouts\n\nFixed by adding an index.\n")
    os.utime(incident, ns=(incident.stat().st_atime_ns, incident.stat().st_mtime_ns + 10**9))
    (context / "anti-patterns" / "offset-pagination.md").unlink()
    library = load_library(context)
    assert library.neighbours("decisions/0005-cursor-pagination.md", library.paths()) == []
    assert library.neighbours("incidents/0007-list-timeouts.md", library.paths()) == []


def test_an_unedited_stub_refers_to_nothing(tmp_path: Path) -> None:
    template = "# $number. $title\n\nDate: $date\n\nSupersedes ADR 0001 (if it does).\n"
    make_home(
        tmp_path,
        {
            "context/_templates/decision.md": template,
            "context/decisions/0001-first.md": "# 1. First\n\nA decision.\n",
            "context/decisions/0002-stub.md": "# 0002. Stub\n\nDate: 2026-01-01\n\nSupersedes ADR 0001 (if it does).\n",
        },
    )
    assert load_library(tmp_path / "context").neighbours("decisions/0001-first.md", ["decisions/0002-stub.md"]) == []


def test_a_document_the_full_text_index_suspects_is_read_to_confirm(tmp_path: Path) -> None:
    # Stemmed, "decisive 0005" looks like "decision 0005" to the index; its text refers to nothing.
    make_home(
        tmp_path,
        {
            "context/decisions/0005-cursor-pagination.md": "# 5. Cursor pagination\n\nLists page by cursor.\n",
            "context/incidents/0009-lookalike.md": "# Lookalike\n\nA decisive 0005 second pause.\n",
            "context/incidents/0010-cites.md": "# Cites\n\nWe follow decision 5 here.\n",
        },
    )
    library = load_library(tmp_path / "context")
    assert library.neighbours("decisions/0005-cursor-pagination.md", library.paths()) == ["incidents/0010-cites.md"]


def test_dates_shared_numbers_and_plurals_name_nothing() -> None:
    paths = [
        "incidents/2024-01-10-dns-outage.md",
        "incidents/2024-05-02-double-charge.md",
        "decisions/0002-postgres.md",
        "decisions/0005-a.md",
        "decisions/0005-b.md",  # two branches both took 0005
        "runbooks/x.md",
    ]
    text = "After incident 2024-05-02 we met: two decisions 2 weeks ago, open incidents: 3, ADR 5, version 2.1."
    assert resolved("runbooks/x.md", text, paths) == []
    assert resolved("runbooks/x.md", "see decision 2 and ADR #0002", paths) == ["decisions/0002-postgres.md"]
    assert Catalogue(paths).keys_naming("decisions/0005-a.md") == ["path:decisions/0005-a.md", "name:0005-a.md"]


NUMBERED = {
    "decisions/0003-12-factor-config.md": "num:adr:3",
    "decisions/0004-64-bit-ids.md": "num:adr:4",
    "decisions/0012-10x-latency.md": "num:adr:12",
    "incidents/7.md": "num:incident:7",
    "incidents/12-3-tier-outage.md": "num:incident:12",
    "incidents/0042-march-madness.md": "num:incident:42",
    "decisions/2024-decision-log.md": "num:adr:2024",
}
DATED = [
    "incidents/2024-05-02-outage.md",
    "incidents/2024_05_03_dns.md",
    "incidents/2024.07.01-cdn.md",
    "incidents/2024-W18-queue.md",
    "incidents/2024-5-3-cache.md",
    "incidents/2024-05-checkout.md",
    "incidents/20240502-login.md",
    "incidents/24-05-02-outage.md",
    "incidents/12-03-2024-db.md",
    "incidents/5.2.2024-cdn.md",
    "incidents/05-02-2024-db-outage.md",
    "incidents/2024-w18-retro.md",
    "incidents/2024W18-x.md",
    "incidents/2024-Q2-review.md",
    "incidents/2024-H1-review.md",
    "incidents/2024-may-outage.md",
    "incidents/2024_September_dns.md",
]


def test_a_number_then_digits_is_numbered_and_a_date_is_not() -> None:
    catalogue = Catalogue([*NUMBERED, *DATED])
    for path, key in NUMBERED.items():
        assert key in catalogue.keys_naming(path), path
    for path in DATED:
        assert not [key for key in catalogue.keys_naming(path) if key.startswith("num:")], path


def test_file_names_are_read_back_from_their_suffix() -> None:
    # Searching back from every ".md" with a regular expression took 0.5 s on 200 KB of this; walking back, ms.
    assert reference_keys("runbooks/x.md", "a .md " * 40_000) == []
    assert reference_keys("runbooks/x.md", "see a.md, ./b.md and (c/d.MD)") == [
        "name:a.md",
        "path:runbooks/b.md",
        "path:b.md",
        "path:runbooks/c/d.MD",
        "path:c/d.MD",
    ]


def test_only_the_documents_selection_would_take_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files: dict[str, str | bytes] = {
        f"context/runbooks/note-{n:02d}.md": f"# Note {n}\n\nWe follow ADR 42.\n" for n in range(20)
    }
    files["context/decisions/0042-cursor-pagination.md"] = "# 42. Cursor pagination\n\nPages by cursor.\n"
    make_home(tmp_path, files)
    library = load_library(tmp_path / "context")
    read: list[str] = []
    real = sections.read_bytes

    limits: set[int] = set()

    def spy(root: Path, path: str, seen: FileEntry | None = None, limit: int = -1, *, hidden: bool = False) -> bytes:
        read.append(PurePosixPath(path).name)
        limits.add(limit)
        return real(root, path, seen, limit, hidden=hidden)

    monkeypatch.setattr(sections, "read_bytes", spy)
    assert library.neighbours("decisions/0042-cursor-pagination.md", ["runbooks/note-07.md"]) == ["runbooks/note-07.md"]
    assert sorted(read) == ["0042-cursor-pagination.md", "note-07.md"]
    assert limits == {MAX_TEXT * 4}  # no more than references are looked for in


def test_a_folder_with_few_documents_is_ranked_even_when_others_crowd_the_best_rows(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        f"context/project-contexts/svc-{n}.md": f"# svc-{n}\n\n## Connection pool sizing\n\npool {n}\n"
        for n in range(12)
    }
    files["context/decisions/0001-pgbouncer.md"] = "# 1. PgBouncer\n\nWe size the connection pool per service.\n"
    make_home(tmp_path, files)
    library = load_library(tmp_path / "context")
    # The best 2 x 2 rows are all project contexts' sections; the decision is found all the same.
    ranked = library.rank("connection pool sizing", ["decisions"], 2)
    assert [section.path for section, _ in ranked] == ["decisions/0001-pgbouncer.md"]


@pytest.mark.parametrize(
    ("head", "status", "keys"),
    [
        ("# 0007 SFTP\n\nStatus: superseded by ADR 0015 (May 2024).\n", "superseded", ["num:adr:15"]),
        # As the bundled ADR 0001 says to write it: a number of the document's own folder.
        ("# 7. X\n\nStatus: Superseded by 0015\n", "superseded", ["in:decisions:15"]),
        ("Status: superseded by #15 and 16 (2024-05-02)\n", "superseded", ["in:decisions:15", "in:decisions:16"]),
        ("# 7. X\n\n* Status: Deprecated\n", "deprecated", []),
        ("**Status:** Superseded by [0015](0015-mft.md)\n", "superseded", ["path:decisions/0015-mft.md", "name:0015-mft.md"]),
        ("| Status | Superseded by ADR-15 |\n", "superseded", ["num:adr:15"]),
        ("---\nstatus: superseded\n---\n# X\n", "superseded", []),
        ("---\nsuperseded_by: 0015\n---\n# X\n", "superseded", ["in:decisions:15"]),
        ("# X\n\n## Status\n\nSuperseded by ADR 15\n", "superseded", ["num:adr:15"]),
        ("# X\r\n\r\n## Status\r\n\r\nSuperseded by ADR 15\r\n", "superseded", ["num:adr:15"]),  # CRLF
        ("## Status: Superseded by ADR 15\n", "superseded", ["num:adr:15"]),
        # adr-tools' own spelling, and its link to the successor.
        ("## Status\n\nSuperceded by [15. HTTPS API](0015-https-api.md)\n", "superseded",
         ["path:decisions/0015-https-api.md", "name:0015-https-api.md"]),
        ("Status: ~~Accepted~~ Superseded by ADR 15\n", "superseded", ["num:adr:15"]),
        ("Status: Replaced by ADR 15\n", "superseded", ["num:adr:15"]),
        ("> Status: DEPRECATED, see runbooks/new.md\n", "deprecated", ["path:decisions/runbooks/new.md", "path:runbooks/new.md"]),
    ],
)  # fmt: skip
def test_a_document_saying_it_no_longer_holds_is_retired(head: str, status: str, keys: list[str]) -> None:
    assert retirement("decisions/0007-sftp.md", head) == (status, keys)


@pytest.mark.parametrize(
    "head",
    [
        "Status: Accepted (supersedes ADR 0007)\n",  # the successor
        "Status: Proposed\n",
        "# X\n\n## Status\n\nAccepted\n\nIt superseded the SFTP exchange.\n",
        "The status: superseded approach is gone.\n",  # not a status line
        "Deprecated: the v1 endpoints\n",
        "# Deploy\n\n```yaml\nstatus: deprecated\n```\n",  # an example, not the document's status
        "# Deploy\n\n~~~\n* Status: Superseded by ADR 9\n~~~\n",
        "# ADR 20\n\nStatus: Accepted\n\n- Status: Deprecated - still served\n",  # the first status is its own
        "# MD5\n\nStatus: Deprecated practice - never hash passwords with MD5\n",  # the subject's status
        "x" * STATUS_WITHIN + "\nStatus: superseded by ADR 9\n",  # a status is written at the top
    ],
)
def test_a_document_that_holds_or_only_mentions_supersession_is_not_retired(head: str) -> None:
    assert retirement("decisions/0015-mft.md", head) is None


def test_the_library_reads_a_status_from_the_head_and_names_successors_that_are_written(tmp_path: Path) -> None:
    stub = (REPO_ROOT / "context" / "_templates" / "decision.md").read_text(encoding="utf-8")
    make_home(
        tmp_path,
        {
            "context/decisions/0007-sftp.md": "# 7. SFTP\n\nStatus: Superseded by 0009\n\n## Decision\n\nUse SFTP.\n",
            "context/decisions/0008-ftp.md": "# 8. FTP\n\n## Status\n\nSuperseded by 0008 and 0010\n",
            "context/decisions/0009-mft.md": "# 9. MFT\n\nStatus: Accepted\n\n## Decision\n\nUse MFT.\n",
            "context/decisions/0010-next.md": stub.replace("$number", "0010").replace("$title", "Next"),
            "context/decisions/0011-old.md": "# 11. Old\n\nStatus: Superseded by 0010\n",
            "context/decisions/0012-example.md": "# 12. Ex\n\n## Decision\n\nStatus: deprecated, in a later section\n",
            "context/decisions/0013-queue.md": "# 13. Queue\n\nStatus: Superseded by 0014\n",
            "context/decisions/0014-stream.md": "# 14. Stream\n\n## Status\n\nRejected (2025-02)\n\n## Context\n\nX.\n",
        },
    )
    library = load_library(tmp_path / "context")
    assert library.retired("decisions/0007-sftp.md") == Retired("superseded", ("decisions/0009-mft.md",), True)
    # Itself and an unedited stub are no successors; a stub as the only one leaves the old in force.
    assert library.retired("decisions/0008-ftp.md") is None
    assert library.retired("decisions/0011-old.md") is None
    assert library.retired("decisions/0009-mft.md") is None
    assert library.retired("decisions/0012-example.md") is None  # not in its head
    assert library.retired("decisions/0013-queue.md") is None  # its successor was rejected: it holds


def test_brackets_repeated_are_read_once_not_to_the_end_each_time() -> None:
    # Each "](" of "[x](" repeated read on to the end of the text: 20,000 of them took 7 s, these 40,000
    # half a minute. Not a timing: a bound an order of magnitude off either way, against a hang.
    text = "[x](" * 40_000 + "[the ADR](../decisions/0001-a.md)"
    started = cpu_seconds()
    keys = reference_keys("runbooks/deploy.md", text)
    assert cpu_seconds() - started < 5
    assert "path:decisions/0001-a.md" in keys

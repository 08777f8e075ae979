"""References between documents (generator/context/links.py) and the index's neighbours of a document."""

from __future__ import annotations

import os
from pathlib import Path

from generator.context.documents import load_library
from generator.context.links import Catalogue, reference_keys
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
    assert library.neighbours("decisions/0005-cursor-pagination.md") == [
        "anti-patterns/offset-pagination.md",
        "incidents/0007-list-timeouts.md",
    ]
    assert library.neighbours("incidents/0007-list-timeouts.md") == ["decisions/0005-cursor-pagination.md"]

    incident = context / "incidents" / "0007-list-timeouts.md"
    incident.write_text("# List timeouts\n\nFixed by adding an index.\n")
    os.utime(incident, ns=(incident.stat().st_atime_ns, incident.stat().st_mtime_ns + 10**9))
    (context / "anti-patterns" / "offset-pagination.md").unlink()
    library = load_library(context)
    assert library.neighbours("decisions/0005-cursor-pagination.md") == []
    assert library.neighbours("incidents/0007-list-timeouts.md") == []


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
    assert load_library(tmp_path / "context").neighbours("decisions/0001-first.md") == []


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
    assert library.neighbours("decisions/0005-cursor-pagination.md") == ["incidents/0010-cites.md"]

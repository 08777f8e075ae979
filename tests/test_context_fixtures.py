"""Shared support for the context tests: a small knowledge home written from a dict.

No tests here; `make_home` builds `<root>/context/` with a minimal context.yml and a few
documents, so each test states only the files it cares about.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from generator.context import sections
from tests.helpers import build_file_tree

MAP = """\
version: 1
core: [patterns.md, architecture.md]
default_kind: general
ranking:
  folders: [decisions, incidents, runbooks, anti-patterns]
  top_k: 4
  per_document: 2
kinds:
  api:
    documents: [style.md#Python, decisions/0002-problem-details.md]
    keywords: [api, endpoint*, problem details]
  infra:
    documents: [style.md#Terraform]
    keywords: [terraform, bucket*, module*]
  deploy:
    documents: [runbooks/deploy.md]
    keywords: [deploy*, rollback, release*]
  general:
    documents: [style.md#General]
"""

DOCUMENTS = {
    "context/patterns.md": """\
        # Patterns

        ## Services

        Services use an app factory and a lifespan for resources.

        ## Terraform

        Modules are secure by default.
        """,
    "context/architecture.md": """\
        # Architecture

        Services own their data.
        """,
    "context/style.md": """\
        # Style

        ## General

        Names say what things are for.

        ## Python

        Type hints everywhere; ruff format.

        ## Terraform

        terraform fmt is law; snake_case names.
        """,
    "context/decisions/0001-postgres.md": """\
        # 0001. Use PostgreSQL for relational data

        ## Decision

        We store relational data such as orders and invoices in PostgreSQL.
        """,
    "context/decisions/0002-problem-details.md": """\
        # 0002. RFC 9457 problem details

        ## Decision

        Errors are application/problem+json documents.
        """,
    "context/decisions/0003-kafka.md": """\
        # 0003. Kafka for event streaming

        ## Decision

        Services publish domain events to Kafka topics; consumers track their lag.
        """,
    "context/incidents/0001-dns-outage.md": """\
        # 0001. DNS outage took down the gateway

        ## Summary

        An expired resolver configuration made the gateway fail every lookup for an hour.

        ## Action items

        Alert on resolver errors.
        """,
    "context/runbooks/deploy.md": """\
        # Deploy

        ## Steps

        Run the deploy workflow with the image tag.
        """,
    "context/runbooks/rotate-certificates.md": """\
        # Rotate TLS certificates

        ## Steps

        Issue a new certificate for the gateway, install it, and reload the proxy.
        """,
    "context/anti-patterns/shared-database.md": """\
        # Shared databases

        Two services writing one table couple their releases.
        """,
    "context/project-contexts/billing-api.md": """\
        # billing-api

        Money is Decimal, never float.
        """,
}


def make_home(root: Path, extra: dict[str, str | bytes] | None = None, context_map: str = MAP) -> Path:
    """Write a knowledge home at `root` (documents plus `extra`, which may override them)."""
    files: dict[str, str | bytes] = {"context/context.yml": context_map, **DOCUMENTS}
    files.update(extra or {})
    build_file_tree(root, files)
    return root


def read_limits(monkeypatch: pytest.MonkeyPatch, wanted: str) -> list[int]:
    """The `limit` of each read of the document `wanted` (relative to `context/`) from now on."""
    limits: list[int] = []
    real_read = sections.read_bytes

    def spy(
        root: Path, path: str, seen: sections.FileEntry | None = None, limit: int = -1, *, hidden: bool = False
    ) -> bytes:
        if path == wanted:
            limits.append(limit)
        return real_read(root, path, seen, limit, hidden=hidden)

    monkeypatch.setattr(sections, "read_bytes", spy)
    return limits


def touch_later(path: Path) -> None:
    """Move a file's mtime a second on (its ctime moves too): a change the stamps tell on any clock."""
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 10**9))


def save_within_one_tick(context: Path, path: str, old: bytes, new: bytes) -> None:
    """Replace `old` with `new` (of the same length) in a document the index has, and give the index the
    file's new stamps, as a coarse clock (FAT, SMB, older kernels) would leave them: unchanged."""
    from generator.context import index as index_module
    from generator.context.documents import index_path

    file = context / path
    file.write_bytes(file.read_bytes().replace(old, new))
    info = file.stat()
    index = index_module.SectionIndex.open(index_path(context))
    with index.transaction():
        query = "UPDATE files SET mtime_ns = ?, ctime_ns = ? WHERE path = ?"
        index.db.execute(query, (info.st_mtime_ns, info.st_ctime_ns, path))
        stamps = index_module.stamps_digest(sections.scan_files(context)[0])
        index.db.execute("UPDATE meta SET value = ? WHERE key = 'stamps'", (stamps,))
    index.db.close()

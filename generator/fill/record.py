"""Provenance of fills: `.scaffold/fills.yml` in the project, one entry per region.

Each filled region has an entry: which model wrote it, a hash of the prompt that produced it,
hashes of the context documents the prompt carried, a hash of the body written, when, and the
model's notes (what it could not carry out, or assumed) when it gave any. It never holds the API
key or the prompt itself. Records written before notes existed read the same. A region without
an entry, or whose status is not `filled` (older versions recorded `fallback`), is unfilled:
`scaffold fill` fills those.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from generator.errors import UsageError, describe_yaml_error

RECORD_FILE = ".scaffold/fills.yml"
FILLED = "filled"

_HEADER = """\
# Written by `scaffold fill`: which fill regions hold a model's code and where it came from.
# Keep it committed; `scaffold fill` fills only regions not recorded as filled here.
"""


@dataclass(frozen=True)
class Entry:
    status: str
    model: str | None
    date: str
    body_sha256: str
    prompt_sha256: str | None = None
    context: dict[str, str] = field(default_factory=dict)
    # What the model said it could not carry out, or assumed, in the answer this fill came from.
    notes: str | None = None
    # The project's checks the fill passed (e.g. "make check"), and those that did not run on it.
    verified_by: str | None = None
    not_verified: list[str] = field(default_factory=list)
    # Files derived from the code (`make generated`) that were not regenerated with the fill.
    stale: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value not in (None, {}, [])}


def sha256(text: str | bytes) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


def _context(value: object) -> dict[str, str]:
    """The recorded context hashes; anything but a mapping (a hand edit gone wrong) counts as none."""
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def read_records(project: Path) -> dict[str, Entry]:
    """The recorded entries by region key; a missing file means nothing was filled yet."""
    path = project / RECORD_FILE
    if not path.is_file():
        return {}
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise UsageError(f"cannot read {path}: {describe_yaml_error(error)}; restore it from git") from None
    regions = data.get("regions") if isinstance(data, dict) else None
    if not isinstance(regions, dict):
        raise UsageError(f"{path} has no 'regions' mapping; restore it from git")
    entries: dict[str, Entry] = {}
    for key, value in regions.items():
        # Any status loads (only `filled` counts as filled) and unknown keys are dropped: a record
        # written by an older or a newer scaffold must not stop this one.
        if not isinstance(value, dict) or not isinstance(value.get("status"), str):
            raise UsageError(f"{path}: entry {key!r} has no valid status; restore the file from git")
        entries[str(key)] = Entry(
            status=value["status"],
            model=value.get("model"),
            date=str(value.get("date", "")),
            body_sha256=str(value.get("body_sha256", "")),
            prompt_sha256=value.get("prompt_sha256"),
            context={str(k): str(v) for k, v in context.items()}
            if isinstance(context := value.get("context"), dict)
            else {},
            notes=value["notes"] if isinstance(value.get("notes"), str) else None,
            verified_by=value.get("verified_by"),
            not_verified=[str(item) for item in (value.get("not_verified") or [])],
            stale=[str(item) for item in (value.get("stale") or [])],
        )
    return entries


def record_text(entries: Mapping[str, Entry]) -> str:
    import yaml

    body = {"version": 1, "regions": {key: entries[key].to_dict() for key in sorted(entries)}}
    return _HEADER + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=120)

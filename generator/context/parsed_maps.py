"""context.yml as validated before: kept by the digest of its text, so a run reads it without PyYAML.

Every run reads the home's context.yml (or the bundled one), and parsing it costs about 25 ms, most
of it importing PyYAML: its reader compiles a large regular expression. A valid map is kept as JSON
under the user cache dir, named by a digest of the file's text and of the code that validates it
(`kinds.py`, and `sections.py` for its words). The next run that reads the same text takes the map
from there; one that cannot use the file (missing, damaged, of another format) parses the text
again. A text that is not valid is never kept, so each run reports its error from the text itself,
with its line.

The map's path is not kept: it is the file's path in this run (a teammate's clone reads the same
text at another path).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path
from typing import Any

from generator.context.kinds import ContextMap, DocRef, Kind, parse_map
from generator.context.kinds import home_map as kinds_home_map

# Bump when what a kept map holds changes shape.
FORMAT = 1
# Maps kept at most (one per version of each home's context.yml): the oldest go first.
LIMIT = 64

_code: str | None = None


def home_map(context_dir: Path, *, remember: bool = True) -> ContextMap:
    """`kinds.home_map`, through the cache: a map validated before is read from it, and with `remember`
    one validated now is kept there (a check that must write nothing, `scaffold doctor`, passes False)."""

    def parse(text: str, path: Path) -> ContextMap:
        cmap = cached(text, path)
        if cmap is None:
            cmap = parse_map(text, path)
            if remember:
                keep(text, cmap)
        return cmap

    return kinds_home_map(context_dir, parse)


def cached(text: str, path: Path) -> ContextMap | None:
    """The map kept for this text of context.yml (at `path` in this run), or None."""
    try:
        data = json.loads(_file(text).read_text(encoding="utf-8"))
        return _map(data, path)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def keep(text: str, cmap: ContextMap) -> None:
    """Keep a map validated from `text` for the next run; one that cannot be written only costs time."""
    from generator.errors import UsageError
    from generator.plumbing.atomic import write_atomic

    with contextlib.suppress(OSError, UsageError):
        target = _file(text)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Private, as the caches beside it: it names the home's documents.
        write_atomic(target, json.dumps(_data(cmap), separators=(",", ":")), mode=0o600)
        kept = sorted(target.parent.glob("*.json"), key=lambda file: file.stat().st_mtime_ns, reverse=True)
        for old in kept[LIMIT:]:
            old.unlink(missing_ok=True)


def _file(text: str) -> Path:
    from generator.context.documents import cache_root

    digest = hashlib.sha256(f"{FORMAT}\0{_code_digest()}\0{text}".encode("utf-8", "surrogatepass")).hexdigest()
    return cache_root() / "maps" / f"{digest[:32]}.json"


def _code_digest() -> str:
    """A digest of the code that validates a map: another version of it validates afresh."""
    global _code
    if _code is None:
        from generator.context import kinds, sections

        sources = b"".join(Path(module.__file__ or "").read_bytes() for module in (kinds, sections))
        _code = hashlib.sha256(sources).hexdigest()
    return _code


def _data(cmap: ContextMap) -> dict[str, Any]:
    return {
        "core": [_ref_data(ref) for ref in cmap.core],
        "default_kind": cmap.default_kind,
        "ranked_folders": list(cmap.ranked_folders),
        "max_documents": cmap.max_documents,
        "per_document": cmap.per_document,
        # A list, not an object: the kinds' order decides the default kind and classification's ties.
        "kinds": [
            [
                kind.name,
                kind.description,
                [_ref_data(ref) for ref in kind.documents],
                list(kind.keywords),
                kind.line,
                list(kind.weights),
                list(kind.core_sections),
            ]
            for kind in cmap.kinds.values()
        ],
        "cutoff": cmap.cutoff,
        "related": cmap.related,
        "ignore_answers": sorted(cmap.ignore_answers),
        "ignore_answers_line": cmap.ignore_answers_line,
    }


def _ref_data(ref: DocRef) -> list[Any]:
    return [ref.path, ref.heading, ref.line, [[name, list(values)] for name, values in ref.when]]


def _map(data: dict[str, Any], path: Path) -> ContextMap:
    """The map `_data` gave, checked field by field (TypeError or ValueError when it does not hold one)."""
    kinds: dict[str, Kind] = {}
    for name, description, documents, keywords, line, weights, sections in data["kinds"]:
        kinds[_text(name)] = Kind(
            _text(name),
            _text(description),
            tuple(_ref(item) for item in documents),
            tuple(_text(word) for word in keywords),
            _whole(line),
            tuple(_number(weight) for weight in weights),
            tuple(_text(section) for section in sections),
        )
    if not kinds or data["default_kind"] not in kinds:
        raise ValueError("no kinds, or a default kind that is not one")
    return ContextMap(
        path,
        tuple(_ref(item) for item in data["core"]),
        _text(data["default_kind"]),
        tuple(_text(folder) for folder in data["ranked_folders"]),
        _whole(data["max_documents"]),
        _whole(data["per_document"]),
        kinds,
        _number(data["cutoff"]),
        related=_whole(data["related"]),
        ignore_answers=frozenset(_text(name) for name in data["ignore_answers"]),
        ignore_answers_line=_whole(data["ignore_answers_line"]),
    )


def _ref(item: list[Any]) -> DocRef:
    path, heading, line, when = item
    conditions = tuple((_text(name), tuple(_text(value) for value in values)) for name, values in when)
    return DocRef(_text(path), None if heading is None else _text(heading), _whole(line), conditions)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _whole(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected a whole number, got {type(value).__name__}")
    return value


def _number(value: Any) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    return float(value)

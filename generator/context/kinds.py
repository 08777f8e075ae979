"""`context.yml`: which documents each kind of task gets, and how free text is classified.

The file is validated on load; every error starts with `path:line:` and names the key:

    version: 1
    core: [patterns.md, architecture.md]   # always included, first, in this order
    default_kind: general                  # for a task no keyword matches
    ranking:
      folders: [decisions, incidents, runbooks, anti-patterns]
      top_k: 8                             # BM25-ranked sections added per task
      per_document: 3                      # of which at most this many from one document
    kinds:
      api:
        description: Contract-first HTTP APIs
        documents:                         # after the core, in this order
          - style.md#Python                # one section (and its sub-sections)
          - decisions/0004-rfc-9457-problem-details.md
          - anti-patterns/                 # every document in a folder
        keywords: [endpoint, openapi, "problem details", paginat*]

Keywords are words (letters and digits) matched whole and case-insensitively; a phrase
matches its words in sequence, whatever separates them (spaces, `-`, `_`, `/`), and a
trailing `*` lets the last word end in anything. A task's kind is the one whose matched
keywords weigh most (a phrase weighs its number of words); ties go to the kind listed first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from generator.errors import ContextMapError

MAP_FILE = "context.yml"
DEFAULT_CORE = ("patterns.md", "architecture.md")
DEFAULT_RANKED = ("decisions", "incidents", "runbooks", "anti-patterns")
DEFAULT_TOP_K = 8
DEFAULT_PER_DOCUMENT = 3
_KIND_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class DocRef:
    """A document (or folder, or one section) named in context.yml, with its line."""

    path: str
    heading: str | None
    line: int

    @property
    def is_folder(self) -> bool:
        return self.path.endswith("/")

    def __str__(self) -> str:
        return self.path + (f"#{self.heading}" if self.heading else "")


@dataclass(frozen=True)
class Kind:
    """One kind of task: its documents and the keywords that recognise it."""

    name: str
    description: str
    documents: tuple[DocRef, ...]
    keywords: tuple[str, ...]
    line: int

    def matches(self, words: Sequence[str]) -> tuple[int, list[str]]:
        """The weight of this kind's keywords found in a task's `words`, and which matched."""
        weight, found = 0, []
        for keyword in self.keywords:
            phrase = split_words(keyword)
            if phrase and _contains(words, phrase, keyword.endswith("*")):
                weight += len(phrase)
                found.append(keyword)
        return weight, found


@dataclass(frozen=True)
class ContextMap:
    """The validated contents of context.yml."""

    path: Path
    core: tuple[DocRef, ...]
    default_kind: str
    ranked_folders: tuple[str, ...]
    top_k: int
    per_document: int
    kinds: dict[str, Kind]


def split_words(text: str) -> list[str]:
    """Lowercase runs of letters and digits: what keywords and tasks are compared as."""
    return _WORD.findall(text.casefold())


def _contains(words: Sequence[str], phrase: list[str], prefix: bool) -> bool:
    size = len(phrase)
    for start in range(len(words) - size + 1):
        if words[start : start + size - 1] != phrase[:-1]:
            continue
        last = words[start + size - 1]
        if last == phrase[-1] or (prefix and last.startswith(phrase[-1])):
            return True
    return False


def classify(text: str, cmap: ContextMap) -> tuple[str, list[str]]:
    """The kind of a free-text task and the keywords that decided it (none: the default)."""
    task_words = split_words(text)
    best_name, best_weight, best_words = cmap.default_kind, 0, []
    for kind in cmap.kinds.values():
        weight, words = kind.matches(task_words)
        if weight > best_weight:
            best_name, best_weight, best_words = kind.name, weight, words
    return best_name, best_words


# --- loading and validating ----------------------------------------------------------------


def load_map(path: Path) -> ContextMap:
    """Read and validate a context.yml."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContextMapError(
            f"{path}: missing; every knowledge home needs context/{MAP_FILE} "
            "(copy the bundled one, or run `scaffold init` for a fresh home)"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ContextMapError(f"{path}: cannot read it: {error}") from None
    return parse_map(text, path)


def parse_map(text: str, path: Path) -> ContextMap:
    """Validate the text of a context.yml (`path` is only used in messages)."""
    import yaml

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        root = yaml.compose(text, Loader=loader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ContextMapError(f"{where}: invalid YAML: {error.problem or error}") from None
    except yaml.YAMLError as error:
        raise ContextMapError(f"{path}: invalid YAML: {error}") from None
    return _Validator(path).document(root)


class _Validator:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, node: Any, where: str, message: str) -> ContextMapError:
        line = node.start_mark.line + 1 if node is not None else 1
        return ContextMapError(f"{self.path}:{line}: {where}: {message}")

    def mapping(self, node: Any, where: str, allowed: tuple[str, ...]) -> dict[str, tuple[Any, Any]]:
        import yaml

        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, where, f"expected a mapping, got {_describe(node)}")
        result: dict[str, tuple[Any, Any]] = {}
        for key, value in node.value:
            name = self.scalar(key, where, "a key")
            if allowed and name not in allowed:
                raise self.fail(key, where, f"unknown key {name!r} (expected one of: {', '.join(allowed)})")
            if name in result:
                raise self.fail(key, where, f"duplicate key {name!r}")
            result[name] = (key, value)
        return result

    def scalar(self, node: Any, where: str, what: str, numbers: bool = False) -> str:
        import yaml

        tags = ("tag:yaml.org,2002:str", "tag:yaml.org,2002:int") if numbers else ("tag:yaml.org,2002:str",)
        if not isinstance(node, yaml.ScalarNode) or node.tag not in tags:
            raise self.fail(node, where, f"expected {what} (a string), got {_describe(node)}")
        return str(node.value)

    def sequence(self, node: Any, where: str) -> list[Any]:
        import yaml

        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, where, f"expected a list, got {_describe(node)}")
        return list(node.value)

    def doc_ref(self, node: Any, where: str) -> DocRef:
        value = self.scalar(node, where, "a document path").strip()
        path, _, heading = value.partition("#")
        pure = PurePosixPath(path)
        if not path or pure.is_absolute() or ".." in pure.parts or "\\" in path:
            raise self.fail(node, where, f"{value!r} must be a path inside context/, like 'runbooks/deploy.md'")
        if not path.endswith("/") and pure.suffix.lower() not in (".md", ".markdown"):
            raise self.fail(node, where, f"{value!r} must be a markdown file (.md) or a folder ending in '/'")
        if heading and path.endswith("/"):
            raise self.fail(node, where, f"{value!r}: a folder cannot name a section")
        return DocRef(path, heading.strip() or None, node.start_mark.line + 1)

    def document(self, root: Any) -> ContextMap:
        if root is None:
            raise ContextMapError(f"{self.path}:1: the file is empty; it needs at least `version: 1` and `kinds:`")
        top = self.mapping(root, "top level", ("version", "core", "default_kind", "ranking", "kinds"))
        if "version" not in top:
            raise self.fail(root, "top level", "missing `version: 1`")
        version_node = top["version"][1]
        if getattr(version_node, "value", None) != "1":
            raise self.fail(version_node, "version", "only version 1 is supported")
        if "kinds" not in top:
            raise self.fail(root, "top level", "missing `kinds:` (the map from task kinds to documents)")

        core = tuple(DocRef(path, None, 0) for path in DEFAULT_CORE)
        if "core" in top:
            items = self.sequence(top["core"][1], "core")
            core = tuple(self.doc_ref(item, f"core[{index}]") for index, item in enumerate(items))

        folders: tuple[str, ...] = DEFAULT_RANKED
        top_k, per_document = DEFAULT_TOP_K, DEFAULT_PER_DOCUMENT
        if "ranking" in top:
            ranking = self.mapping(top["ranking"][1], "ranking", ("folders", "top_k", "per_document"))
            if "folders" in ranking:
                items = self.sequence(ranking["folders"][1], "ranking.folders")
                folders = tuple(self.folder(item, f"ranking.folders[{i}]") for i, item in enumerate(items))
            if "top_k" in ranking:
                top_k = self.count(ranking["top_k"][1], "ranking.top_k")
            if "per_document" in ranking:
                per_document = self.count(ranking["per_document"][1], "ranking.per_document")

        kinds_node = top["kinds"][1]
        kinds: dict[str, Kind] = {}
        for name, (key, value) in self.mapping(kinds_node, "kinds", ()).items():
            if not _KIND_NAME.match(name):
                raise self.fail(key, "kinds", f"kind name {name!r} must match [a-z][a-z0-9_-]*")
            kinds[name] = self.kind(name, key, value)
        if not kinds:
            raise self.fail(kinds_node, "kinds", "define at least one kind")

        default = next(iter(kinds))
        if "default_kind" in top:
            key, node = top["default_kind"]
            default = self.scalar(node, "default_kind", "a kind name")
            if default not in kinds:
                raise self.fail(node, "default_kind", f"{default!r} is not one of the kinds: {', '.join(kinds)}")
        return ContextMap(self.path, core, default, folders, top_k, per_document, kinds)

    def kind(self, name: str, key: Any, node: Any) -> Kind:
        where = f"kinds.{name}"
        fields = self.mapping(node, where, ("description", "documents", "keywords"))
        description = ""
        if "description" in fields:
            description = self.scalar(fields["description"][1], f"{where}.description", "a description")
        documents: tuple[DocRef, ...] = ()
        if "documents" in fields:
            items = self.sequence(fields["documents"][1], f"{where}.documents")
            documents = tuple(self.doc_ref(item, f"{where}.documents[{i}]") for i, item in enumerate(items))
        keywords: list[str] = []
        if "keywords" in fields:
            for index, item in enumerate(self.sequence(fields["keywords"][1], f"{where}.keywords")):
                word = self.scalar(item, f"{where}.keywords[{index}]", "a keyword", numbers=True).strip()
                if not split_words(word) or "*" in word.rstrip("*"):
                    raise self.fail(
                        item, f"{where}.keywords[{index}]", f"{word!r} must be words, optionally ending in '*'"
                    )
                keywords.append(word.casefold())
        return Kind(name, description, documents, tuple(keywords), key.start_mark.line + 1)

    def folder(self, node: Any, where: str) -> str:
        value = self.scalar(node, where, "a folder name").strip().strip("/")
        if not value or "/" in value or value.startswith((".", "_")):
            raise self.fail(node, where, f"{value!r} must be a top-level folder of context/, like 'decisions'")
        return value

    def count(self, node: Any, where: str) -> int:
        import yaml

        if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:int":
            raise self.fail(node, where, f"expected a whole number, got {_describe(node)}")
        value = int(node.value)
        if not 0 <= value <= 100:
            raise self.fail(node, where, "must be between 0 and 100")
        return value


def _describe(node: Any) -> str:
    import yaml

    if node is None:
        return "nothing"
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    kind = str(node.tag).rsplit(":", 1)[-1]
    return f"{'an' if kind[:1] in 'aeiou' else 'a'} {kind} ({node.value!r})"

"""`context.yml`: which documents each kind of task gets, and how free text is classified.

The file is validated on load; every error starts with `path:line:` and names the key:

    version: 1
    core: [patterns.md, architecture.md]   # included first, by section (see core_sections)
    default_kind: general                  # for a task no keyword matches
    ranking:
      folders: [decisions, incidents, runbooks, anti-patterns]
      max_documents: 3                     # at most this many ranked documents (alias: top_k)
      cutoff: 0.7                          # keep those scoring at least this share of the best
      related: 2                           # plus up to this many documents close to the best one
      per_document: 3                      # sections of one long document
      ignore_answers: [team]               # answers that say nothing about what a project does
    kinds:
      api:
        description: Contract-first HTTP APIs
        documents:                         # after the core, in this order
          - style.md#Python                # one section (and its sub-sections)
          - decisions/0004-rfc-9457-problem-details.md
          - anti-patterns/                 # every document in a folder
          - path: style.md#Shell           # only when the project's answers say so
            when: {language: bash}         # (a task without that answer gets it)
        keywords: [endpoint, openapi, "problem details", paginat*]
        core_sections: [api*, http]        # core sections whose headings match are for this kind

Keywords are words (letters and digits) matched whole and case-insensitively, a keyword's last
word of three letters or more in its plurals too (`worker` matches "workers", `state file` "state
files"); a phrase matches its words in sequence, whatever separates them (spaces, `-`, `_`, `/`), and a
trailing `*` lets the last word end in anything. A keyword weighs its number of words, or
what it is given: `keywords: {script*: 2, rotate logs: 3, one-off: 1}` (or list items like
`{script*: 2}`). A task's kind is the one whose matched keywords weigh most, if that is at
least `MIN_WEIGHT` (1); ties go to the kind listed first. Names of the home's projects
(`billing-api`) are not read as keywords.

`core_sections` are patterns of the same form (without plurals), matched against the headings
of the core documents' sections: a core section that some kind's patterns match is written for those
kinds and goes only to their tasks; every other core section is general and always goes.

A home without context.yml uses the bundled one (`ContextMap.fallback`); the documents it
lists that the home lacks are skipped without a warning.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from generator.errors import ContextMapError

MAP_FILE = "context.yml"
DEFAULT_CORE = ("patterns.md", "architecture.md")
DEFAULT_RANKED = ("decisions", "incidents", "runbooks", "anti-patterns")
DEFAULT_MAX_DOCUMENTS = 3
DEFAULT_CUTOFF = 0.7
DEFAULT_RELATED = 2
DEFAULT_PER_DOCUMENT = 3
MIN_WEIGHT = 1.0
_KIND_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
# Answers to scaffold's own questions (copier.yml) that say nothing about what a project does, left
# out of its ranking query: the owning team's name is in every document it owns ("Owner:
# platform-team."), whatever the topic, and ranked the bundled runbooks first for any project with
# the default owner; a Python version or a port matches release notes and incident timelines.
# A team's own templates name theirs in `ranking.ignore_answers`.
UNRANKED_ANSWERS = frozenset({"owner", "python_version", "port"})
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class DocRef:
    """A document (or folder, or one section) named in context.yml, with its line."""

    path: str
    heading: str | None
    line: int
    # `when:` in context.yml: answer name -> the values it must have (a listed document only).
    when: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def is_folder(self) -> bool:
        return self.path.endswith("/")

    def applies(self, answers: Mapping[str, Any]) -> bool:
        """Whether the task's answers allow this document; a task without the answer gets it (it cannot tell).

        A multiple-choice answer (a list) matches when any of its values does.
        """
        for name, values in self.when:
            value = answers.get(name)
            given = value if isinstance(value, list | tuple | set) else [value]
            if value is not None and not any(answer_text(item) in values for item in given):
                return False
        return True

    def __str__(self) -> str:
        return self.path + (f"#{self.heading}" if self.heading else "")


def answer_text(value: Any) -> str:
    """An answer or a `when:` value as compared: YAML's true/false/numbers and strings alike, case-insensitively."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).casefold()


@dataclass(frozen=True)
class Kind:
    """One kind of task: its documents and the keywords that recognise it."""

    name: str
    description: str
    documents: tuple[DocRef, ...]
    keywords: tuple[str, ...]
    line: int
    weights: tuple[float, ...] = ()
    core_sections: tuple[str, ...] = ()

    def matches(self, words: Sequence[str] | Words) -> tuple[float, list[str]]:
        """The weight of this kind's keywords found in a task's `words`, and which matched."""
        weight, found, indexed = 0.0, [], Words.of(words)
        for position, keyword in enumerate(self.keywords):
            if matches_pattern(indexed, keyword):
                weight += self.weights[position] if position < len(self.weights) else len(split_words(keyword))
                found.append(keyword)
        return weight, found

    def claims(self, heading_words: Sequence[str] | Words) -> bool:
        """Whether a core section with these heading words is written for this kind."""
        indexed = Words.of(heading_words)
        # Without plurals: a heading names its topic exactly, and `http` must not claim "HTTPS and TLS".
        return any(matches_pattern(indexed, pattern, plurals=False) for pattern in self.core_sections)


@dataclass(frozen=True)
class ContextMap:
    """The validated contents of context.yml."""

    path: Path
    core: tuple[DocRef, ...]
    default_kind: str
    ranked_folders: tuple[str, ...]
    max_documents: int
    per_document: int
    kinds: dict[str, Kind]
    cutoff: float = DEFAULT_CUTOFF
    fallback: bool = False
    related: int = DEFAULT_RELATED
    # A team template's answers left out of a project's ranking query, beside scaffold's own
    # (`UNRANKED_ANSWERS`): a team's name is in every document it owns.
    ignore_answers: frozenset[str] = frozenset()
    ignore_answers_line: int = 0  # of the list in context.yml, for warnings about its names
    # `claiming`'s answers so far: not a field of the map (a copy by `replace` starts afresh).
    _claimed: dict[str, tuple[str, ...]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def claiming(self, heading_words: Sequence[str]) -> tuple[str, ...]:
        """The kinds that claim a core section with these heading words (`Kind.claims`), remembered:
        selection asks for every section it scores, a few hundred of them, with a few dozen headings."""
        key = " ".join(heading_words)
        if key not in self._claimed:
            indexed = Words(heading_words)
            self._claimed[key] = tuple(spec.name for spec in self.kinds.values() if spec.claims(indexed))
        return self._claimed[key]

    @property
    def top_k(self) -> int:
        """The old name of `max_documents`."""
        return self.max_documents

    @property
    def unranked_answers(self) -> frozenset[str]:
        """The answers left out of a project's ranking query: scaffold's own and `ignore_answers`."""
        return UNRANKED_ANSWERS | self.ignore_answers

    def misspelt_answers(self, answers: Collection[str], ranked: Collection[str]) -> list[str]:
        """A warning for each `ignore_answers` name that a project's `answers` lack but one that
        still ranks its documents (`ranked`: `Task.ranked_answers`) nearly is: a misspelling that
        leaves that answer in the ranking. Compared without case, `-` as `_`. A home serves
        several templates: a name of another template's question is warned about only when it
        is this close to one of this project's (`author` beside `auth` is not)."""
        missing = sorted(self.ignore_answers - set(answers))
        if not missing or not ranked:
            return []
        import difflib

        spelt = {_spelling(name): name for name in ranked}
        warnings = []
        for name in missing:
            for meant in difflib.get_close_matches(_spelling(name), list(spelt), n=1, cutoff=MISSPELLING_CUTOFF):
                warnings.append(
                    f"{self.path}:{self.ignore_answers_line}: ranking.ignore_answers names {name!r}, which this "
                    f"project's answers do not have; did you mean {spelt[meant]!r}?"
                )
        return warnings


# How alike (difflib's ratio) an ignored name and an answer's must be to be taken for a misspelling:
# `descripton` (0.95), `pagnation` and `service_log_levl` are; `author` for `auth` (0.80) and `stage`
# for `storage` (0.83), names a team may ignore for other templates, are not.
MISSPELLING_CUTOFF = 0.85


def _spelling(name: str) -> str:
    return name.casefold().replace("-", "_")


def split_words(text: str) -> list[str]:
    """Lowercase runs of letters and digits: what keywords and tasks are compared as."""
    return _WORD.findall(text.casefold())


class Words:
    """A text's words (`split_words`), indexed: a keyword is looked for in time of the places its
    first word is at, not of the text's length. A task can be a pasted diff of a megabyte, and
    every kind's keywords are looked for in it (a scan of every word for each cost 13.7 s there)."""

    def __init__(self, words: Sequence[str]) -> None:
        self.words = list(words)
        self._at: dict[str, list[int]] = {}
        for position, word in enumerate(self.words):
            self._at.setdefault(word, []).append(position)
        self._sorted: list[str] | None = None  # the distinct words, sorted when a prefix is first looked for

    @classmethod
    def of(cls, words: Sequence[str] | Words) -> Words:
        return words if isinstance(words, Words) else cls(words)

    def contains(self, phrase: Sequence[str], prefix: bool, plurals: bool) -> bool:
        """Whether `phrase` occurs, its last word as written, in its plurals (`plurals`) or as the start
        of a longer word (`prefix`)."""
        *leading, last = phrase
        endings = _plurals(last) if plurals else (last,)
        if not leading:
            return any(ending in self._at for ending in endings) or (prefix and self._starts(last))
        for start in self._at.get(leading[0], ()):
            end = start + len(leading)  # the last word's place
            if end < len(self.words) and self.words[start:end] == leading:
                found = self.words[end]
                if found in endings or (prefix and found.startswith(last)):
                    return True
        return False

    def _starts(self, stem: str) -> bool:
        if self._sorted is None:
            self._sorted = sorted(self._at)
        place = bisect.bisect_left(self._sorted, stem)
        return place < len(self._sorted) and self._sorted[place].startswith(stem)


def matches_pattern(words: Sequence[str] | Words, pattern: str, plurals: bool = True) -> bool:
    """Whether a keyword or heading pattern (see the module docstring) occurs in `words`, its last
    word also in its plurals unless told not to. Looking for many in one text: pass its `Words`."""
    phrase = split_words(pattern)
    return bool(phrase) and Words.of(words).contains(phrase, pattern.endswith("*"), plurals)


def _plurals(word: str) -> tuple[str, ...]:
    """`word` and its English plural: a task about "workers", "batches" or "dependencies" is about
    a worker, a batch or a dependency. Words of digits, and those of one or two letters (`pr`,
    `tf`), stay as written. A verb's third person matches too ("the job rests" has `rest`).

    Not ranking's Porter stemmer: it also folds "deployment" into "deploy" and "tests" into
    "test", and a keyword that wants more than its plurals says so with `*`.
    """
    if len(word) < 3 or not word.isalpha():
        return (word,)
    if word.endswith("y") and word[-2:-1] not in ("a", "e", "i", "o", "u"):
        return (word, word[:-1] + "ies")
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return (word, word + "es")  # batches, not "plan" in "planes"
    return (word, word + "s")


def classify(text: str, cmap: ContextMap, names: Sequence[str] = ()) -> tuple[str, list[str]]:
    """The kind of a free-text task and the keywords that decided it (none: the default).

    `names` (project names) are taken out of the text first: "billing-service" is a name,
    not a request for a service.
    """
    task_words = Words(split_words(without_names(text, names)))
    best_name, best_weight, best_words = cmap.default_kind, 0.0, []
    for kind in cmap.kinds.values():
        weight, words = kind.matches(task_words)
        if weight > best_weight and weight >= MIN_WEIGHT:
            best_name, best_weight, best_words = kind.name, weight, words
    return best_name, best_words


def matching_kinds(text: str, cmap: ContextMap, names: Sequence[str] = ()) -> list[str]:
    """Every kind whose keywords weigh `MIN_WEIGHT` or more in `text`, heaviest first."""
    task_words = Words(split_words(without_names(text, names)))
    weights = {name: kind.matches(task_words)[0] for name, kind in cmap.kinds.items()}
    matched = [name for name in cmap.kinds if weights[name] >= MIN_WEIGHT]
    return sorted(matched, key=lambda name: -weights[name])


def mentioned_names(text: str, names: Sequence[str]) -> list[str]:
    """Which of `names` (like "billing-api") occur in `text` as whole words, case-insensitively."""
    return [name for name in names if _name_pattern(name).search(text)]


def without_names(text: str, names: Sequence[str]) -> str:
    for name in names:
        text = _name_pattern(name).sub(" ", text)
    return text


def _name_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])", re.IGNORECASE)


# --- loading and validating ----------------------------------------------------------------


def home_map(context_dir: Path) -> ContextMap:
    """A home's context.yml, or the bundled one if the home has none (`ContextMap.fallback`)."""
    from generator.settings import bundled_root

    return load_map(context_dir / MAP_FILE, fallback=bundled_root() / "context" / MAP_FILE)


def load_map(path: Path, fallback: Path | None = None) -> ContextMap:
    """Read and validate a context.yml; if it does not exist, `fallback` (the bundled one)."""
    from generator.context.sections import read_bytes, why_unreadable

    try:
        # As a document is read, but within the home: a context.yml may link to a file beside
        # context/ (`../config/context.yml`), not to one of the user's (its keys are quoted in errors).
        # Through hidden names too (a home kept in `.data/context`): it is read, never sent.
        data = read_bytes(path.parent.parent, f"{path.parent.name}/{path.name}", hidden=True)
    except FileNotFoundError:
        if fallback is None or fallback == path:
            raise ContextMapError(
                f"{path}: missing; every knowledge home needs context/{MAP_FILE} "
                "(copy the bundled one, or run `scaffold init` for a fresh home)"
            ) from None
        return replace(load_map(fallback), fallback=True)
    except OSError as error:
        raise ContextMapError(f"{path}: cannot read it: {why_unreadable(error, 'the knowledge home')}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ContextMapError(
            f"{path}:{line}: not UTF-8 text (byte 0x{data[error.start]:02x}); save the file as UTF-8"
        ) from None
    return parse_map(text, path)


def _redacted(message: str) -> str:
    """A message about the map, redacted (`redact.redacted_messages`); imported only for a broken map."""
    from generator.context.redact import redacted_messages

    return redacted_messages([message])[0]


def parse_map(text: str, path: Path) -> ContextMap:
    """Validate the text of a context.yml (`path` is only used in messages)."""
    import yaml

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        root = yaml.compose(text, Loader=loader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        # A `[` or `{` left open is found where the parser gives up, lines below: say where it opened.
        opened, given_up = error.context_mark, error.problem_mark
        since = ""
        if opened is not None and given_up is not None and opened.line != given_up.line:
            what = {"while parsing a flow sequence": "the [ list", "while parsing a flow mapping": "the { mapping"}
            since = f" ({what.get(str(error.context), str(error.context))} from line {opened.line + 1})"
        # PyYAML's own loader quotes the text (an undefined alias, a tag), libyaml's does not.
        raise ContextMapError(_redacted(f"{where}: invalid YAML: {error.problem or error}{since}")) from None
    except yaml.YAMLError as error:
        raise ContextMapError(_redacted(f"{path}: invalid YAML: {error}")) from None
    except RecursionError:  # PyYAML's own loader recurses once per level of nesting
        raise ContextMapError(f"{path}: invalid YAML: nested too deep") from None
    return _Validator(path).document(root)


def _number(node: Any) -> float | None:
    """A YAML int or float scalar's value: as Python reads it (`010` is 10, `1_000` is 1000), else as YAML
    1.1 does (`0x7f`, `.inf`, `.nan`, which no range holds: the callers' checks refuse them); None when
    neither can (`!!int abc`)."""
    from yaml.constructor import SafeConstructor

    is_int = node.tag == "tag:yaml.org,2002:int"
    try:
        return int(node.value) if is_int else float(node.value)
    except ValueError:
        pass
    try:
        constructor = SafeConstructor()
        value = constructor.construct_yaml_int(node) if is_int else constructor.construct_yaml_float(node)
        return float(value)
    except (ValueError, IndexError, OverflowError):
        return None


class _Validator:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, node: Any, where: str, message: str) -> ContextMapError:
        line = node.start_mark.line + 1 if node is not None else 1
        # It quotes the map's own words (names, keys): redacted. The map's other errors give only
        # the file's path and a fixed text.
        return ContextMapError(_redacted(f"{self.path}:{line}: {where}: {message}"))

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

    def listed(self, node: Any, where: str) -> DocRef:
        """A kind's document: a path, or `{path: P, when: {answer: value or [values]}}`."""
        import yaml

        if not isinstance(node, yaml.MappingNode):
            return self.doc_ref(node, where)
        fields = self.mapping(node, where, ("path", "when"))
        if "path" not in fields:
            raise self.fail(node, where, "a document with `when:` needs `path:` too")
        ref = self.doc_ref(fields["path"][1], f"{where}.path")
        when: list[tuple[str, tuple[str, ...]]] = []
        if "when" in fields:
            conditions = self.mapping(fields["when"][1], f"{where}.when", ())
            if not conditions:
                raise self.fail(fields["when"][1], f"{where}.when", "name at least one answer, like {language: bash}")
            for name, (key, value) in conditions.items():
                place = f"{where}.when.{name}"
                if not name.strip():
                    raise self.fail(key, f"{where}.when", "an answer's name cannot be empty")
                items = self.sequence(value, place) if isinstance(value, yaml.SequenceNode) else [value]
                values = tuple(self.answer_value(item, place) for item in items)
                if not values:
                    raise self.fail(key, place, "give at least one value")
                when.append((name, values))
        return DocRef(ref.path, ref.heading, ref.line, tuple(when))

    def answer_value(self, node: Any, where: str) -> str:
        """A `when:` value: a string, number or true/false, as `answer_text` compares it."""
        import yaml

        if not isinstance(node, yaml.ScalarNode) or node.tag.rpartition(":")[2] not in ("str", "int", "float", "bool"):
            raise self.fail(
                node, where, f"expected an answer's value (a string, number or true/false), got {_describe(node)}"
            )
        value = yaml.safe_load(yaml.serialize(node))
        return answer_text(value)

    def answer_name(self, node: Any, where: str) -> str:
        """The name of a template's question, as its answers file spells it (`team`, `cost_center`)."""
        name = self.scalar(node, where, "an answer's name").strip()
        if not name:
            raise self.fail(node, where, "an answer's name cannot be empty")
        return name

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
        max_documents, per_document, cutoff = DEFAULT_MAX_DOCUMENTS, DEFAULT_PER_DOCUMENT, DEFAULT_CUTOFF
        related = DEFAULT_RELATED
        ignore_answers: frozenset[str] = frozenset()
        ignore_answers_line = 0
        if "ranking" in top:
            keys = ("folders", "max_documents", "top_k", "cutoff", "per_document", "related", "ignore_answers")
            ranking = self.mapping(top["ranking"][1], "ranking", keys)
            if "folders" in ranking:
                items = self.sequence(ranking["folders"][1], "ranking.folders")
                folders = tuple(self.folder(item, f"ranking.folders[{i}]") for i, item in enumerate(items))
            if "top_k" in ranking and "max_documents" in ranking:
                raise self.fail(ranking["top_k"][0], "ranking", "give max_documents or its old name top_k, not both")
            for name in ("max_documents", "top_k"):
                if name in ranking:
                    max_documents = self.count(ranking[name][1], f"ranking.{name}")
            if "per_document" in ranking:
                per_document = self.count(ranking["per_document"][1], "ranking.per_document")
            if "cutoff" in ranking:
                cutoff = self.fraction(ranking["cutoff"][1], "ranking.cutoff")
            if "related" in ranking:
                related = self.count(ranking["related"][1], "ranking.related")
            if "ignore_answers" in ranking:
                items = self.sequence(ranking["ignore_answers"][1], "ranking.ignore_answers")
                ignore_answers_line = ranking["ignore_answers"][0].start_mark.line + 1
                ignore_answers = frozenset(
                    self.answer_name(item, f"ranking.ignore_answers[{i}]") for i, item in enumerate(items)
                )

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
        return ContextMap(
            self.path,
            core,
            default,
            folders,
            max_documents,
            per_document,
            kinds,
            cutoff,
            related=related,
            ignore_answers=ignore_answers,
            ignore_answers_line=ignore_answers_line,
        )

    def kind(self, name: str, key: Any, node: Any) -> Kind:
        where = f"kinds.{name}"
        fields = self.mapping(node, where, ("description", "documents", "keywords", "core_sections"))
        description = ""
        if "description" in fields:
            description = self.scalar(fields["description"][1], f"{where}.description", "a description")
        documents: tuple[DocRef, ...] = ()
        if "documents" in fields:
            items = self.sequence(fields["documents"][1], f"{where}.documents")
            documents = tuple(self.listed(item, f"{where}.documents[{i}]") for i, item in enumerate(items))
        keywords: list[str] = []
        weights: list[float] = []
        if "keywords" in fields:
            for word, weight in self.keywords(fields["keywords"][1], f"{where}.keywords"):
                keywords.append(word)
                weights.append(weight if weight is not None else float(len(split_words(word))))
        sections: list[str] = []
        if "core_sections" in fields:
            for index, item in enumerate(self.sequence(fields["core_sections"][1], f"{where}.core_sections")):
                sections.append(self.pattern(item, f"{where}.core_sections[{index}]"))
        line = key.start_mark.line + 1
        return Kind(name, description, documents, tuple(keywords), line, tuple(weights), tuple(sections))

    def keywords(self, node: Any, where: str) -> list[tuple[str, float | None]]:
        """A list of keywords (each a string or a one-entry `{keyword: weight}`), or a mapping."""
        import yaml

        if isinstance(node, yaml.MappingNode):
            return [(self.pattern(key, where), self.weight(value, f"{where}.{key.value}")) for key, value in node.value]
        found: list[tuple[str, float | None]] = []
        for index, item in enumerate(self.sequence(node, where)):
            place = f"{where}[{index}]"
            if isinstance(item, yaml.MappingNode):
                if len(item.value) != 1:
                    raise self.fail(item, place, "a weighted keyword is one `keyword: weight` pair")
                ((key, value),) = item.value
                if ":" in str(key.value) and value.tag == "tag:yaml.org,2002:null" and not value.value:
                    # `{fastapi:2}` is one key "fastapi:2" with no value: YAML needs a space after the colon.
                    raise self.fail(
                        item, place, f"write `{{{str(key.value).replace(':', ': ', 1)}}}`: a space after ':'"
                    )
                found.append((self.pattern(key, place), self.weight(value, place)))
            else:
                found.append((self.pattern(item, place), None))
        return found

    def pattern(self, node: Any, where: str) -> str:
        word = self.scalar(node, where, "a keyword", numbers=True).strip()
        if not split_words(word) or "*" in word.rstrip("*"):
            raise self.fail(node, where, f"{word!r} must be words, optionally ending in '*'")
        return word.casefold()

    def weight(self, node: Any, where: str) -> float:
        import yaml

        tags = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
        if not isinstance(node, yaml.ScalarNode) or node.tag not in tags:
            raise self.fail(node, where, f"expected a weight (a number), got {_describe(node)}")
        value = _number(node)
        if value is None:
            raise self.fail(node, where, f"expected a weight (a number), got {_describe(node)}")
        if not 0 < value <= 100:
            raise self.fail(node, where, "a weight must be above 0 and at most 100")
        return float(value)

    def fraction(self, node: Any, where: str) -> float:
        import yaml

        tags = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
        if not isinstance(node, yaml.ScalarNode) or node.tag not in tags:
            raise self.fail(node, where, f"expected a number between 0 and 1, got {_describe(node)}")
        value = _number(node)
        if value is None:
            raise self.fail(node, where, f"expected a number between 0 and 1, got {_describe(node)}")
        if not 0 <= value <= 1:
            raise self.fail(node, where, "must be between 0 and 1")
        return float(value)

    def folder(self, node: Any, where: str) -> str:
        value = self.scalar(node, where, "a folder name").strip().strip("/")
        if not value or "/" in value or value.startswith((".", "_")):
            raise self.fail(node, where, f"{value!r} must be a top-level folder of context/, like 'decisions'")
        return value

    def count(self, node: Any, where: str) -> int:
        import yaml

        if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:int":
            raise self.fail(node, where, f"expected a whole number, got {_describe(node)}")
        number = _number(node)
        if number is None:
            raise self.fail(node, where, f"expected a whole number, got {_describe(node)}")
        if not 0 <= number <= 100:
            raise self.fail(node, where, "must be between 0 and 100")
        return int(number)


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

"""Fill regions: find the blocks of a rendered project that the AI step may rewrite.

A region is a start line, optional instruction continuation lines, a fallback body,
and an end line, each marker a comment in the file's own syntax:

    # scaffold:fill domain Model the domain objects of this service
    # | Keep them free of I/O.
    <fallback body: works without a model>
    # scaffold:end domain

Markers count only where the comment token starts the line (after indentation), so
prose that merely mentions `scaffold:fill` is not a marker. Ids match
`[a-z][a-z0-9_-]*` and are unique within a file; regions do not nest.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from generator.errors import RegionError

ID_PATTERN = re.compile(r"[a-z][a-z0-9_-]*")
_MARKER = re.compile(
    r"^(?P<indent>[ \t]*)(?P<comment>#|//|--|<!--)[ \t]*scaffold:(?P<kind>fill|end)(?![A-Za-z0-9_-])(?P<rest>.*)$"
)
# VCS data, caches, and installed copies of a project's own code (a venv's site-packages): no regions of its own.
_SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "__pycache__",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        "site-packages",
        ".terraform",
    }
)
_MAX_FILE_BYTES = 2 * 1024 * 1024

_LANGUAGES = {
    ".py": "python",
    ".pyi": "python",
    ".tf": "hcl",
    ".hcl": "hcl",
    ".tfvars": "hcl",
    ".sh": "bash",
    ".bash": "bash",
    ".bats": "bash",
    ".yml": "yaml",
    ".yaml": "yaml",
    ".toml": "toml",
    ".json": "json",
    ".md": "markdown",
    ".sql": "sql",
    ".js": "javascript",
    ".ts": "typescript",
    ".cfg": "ini",
    ".ini": "ini",
}
_LANGUAGE_BY_NAME = {"Dockerfile": "dockerfile", "Makefile": "make", "Justfile": "make"}


@dataclass(frozen=True)
class Region:
    """One fill region of a file; line numbers are 1-based (`body_line` is the first body line)."""

    path: str
    id: str
    language: str
    instruction: str
    body: str
    start_line: int
    body_line: int
    end_line: int
    indent: str
    comment: str

    @property
    def key(self) -> str:
        """The region's project-wide name, `<relative/path>#<id>`."""
        return f"{self.path}#{self.id}"


def split_key(key: str) -> tuple[str, str]:
    """`<relative/path>#<id>` -> (path, id); the inverse of `Region.key`."""
    path, _, region_id = key.rpartition("#")
    return path, region_id


def bodies_by_file(bodies: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """Bodies keyed `<path>#<id>`, grouped as path -> id -> body, in first-seen order."""
    grouped: dict[str, dict[str, str]] = {}
    for key, body in bodies.items():
        path, region_id = split_key(key)
        grouped.setdefault(path, {})[region_id] = body
    return grouped


def read_text(path: Path) -> str:
    """A file's text exactly as stored: bytes decoded as UTF-8, so CRLF files keep their line endings
    in bodies and splices (text mode would turn them into LF and a splice would rewrite every line)."""
    return path.read_bytes().decode("utf-8")


def language_of(path: str, text: str = "") -> str:
    """Guess a file's language from its name, else its shebang line, for validation and the prompt."""
    name = Path(path).name
    if name in _LANGUAGE_BY_NAME:
        return _LANGUAGE_BY_NAME[name]
    if name.endswith(".tftest.hcl"):
        return "hcl"
    language = _LANGUAGES.get(Path(path).suffix.lower(), "text")
    if language == "text" and text.startswith("#!"):
        interpreter = text.split("\n", 1)[0]
        if re.search(r"\b(bash|sh)\b", interpreter):
            return "bash"
        if "python" in interpreter:
            return "python"
    return language


def is_marker(line: str) -> bool:
    """Whether `line` is a `scaffold:fill` or `scaffold:end` marker line."""
    return _MARKER.match(line.rstrip("\r\n")) is not None


def _marker_text(match: re.Match[str]) -> str:
    rest = match["rest"]
    if match["comment"] == "<!--":
        rest = rest.rstrip()
        rest = rest.removesuffix("-->")
    return rest.strip()


def _continuation(line: str, comment: str) -> str | None:
    stripped = line.strip()
    if not stripped.startswith(comment):
        return None
    text = stripped[len(comment) :]
    if comment == "<!--":
        text = text.rstrip().removesuffix("-->")
    text = text.strip()
    if not text.startswith("|"):
        return None
    return text[1:].strip()


def parse_regions(text: str, path: str) -> list[Region]:
    """Return the regions of one file's text; raise RegionError naming path:line if malformed."""
    lines = text.splitlines(keepends=True)
    regions: list[Region] = []
    seen: dict[str, int] = {}
    open_id: str | None = None
    open_line = 0
    open_match: re.Match[str] | None = None
    instruction: list[str] = []
    body_start = 0
    in_header = False

    def fail(lineno: int, message: str) -> RegionError:
        return RegionError(f"{path}:{lineno}: {message}")

    for index, line in enumerate(lines):
        lineno = index + 1
        match = _MARKER.match(line.rstrip("\r\n"))
        if match is None:
            if in_header and open_match is not None:
                more = _continuation(line, open_match["comment"])
                if more is not None:
                    instruction.append(more)
                    body_start = index + 1
                    continue
            in_header = False
            continue
        in_header = False
        words = _marker_text(match).split(maxsplit=1)
        region_id = words[0] if words else ""
        if match["kind"] == "fill":
            if open_id is not None:
                raise fail(
                    lineno,
                    f"region '{region_id}' starts inside region '{open_id}' "
                    f"(opened at line {open_line}); regions cannot nest",
                )
            if not ID_PATTERN.fullmatch(region_id):
                raise fail(lineno, f"invalid region id {region_id!r}: ids match [a-z][a-z0-9_-]*")
            if region_id in seen:
                raise fail(lineno, f"duplicate region id '{region_id}' (first used at line {seen[region_id]})")
            seen[region_id] = lineno
            open_id, open_line, open_match = region_id, lineno, match
            instruction = [words[1].strip()] if len(words) > 1 else []
            body_start = index + 1
            in_header = True
            continue
        if open_id is None or open_match is None:
            raise fail(lineno, f"'scaffold:end {region_id}' has no matching 'scaffold:fill {region_id}'")
        if region_id != open_id:
            raise fail(
                lineno,
                f"'scaffold:end {region_id}' does not close region '{open_id}' (opened at line {open_line})",
            )
        regions.append(
            Region(
                path=path,
                id=open_id,
                language=language_of(path, text),
                instruction=" ".join(part for part in instruction if part),
                body="".join(lines[body_start:index]),
                start_line=open_line,
                body_line=body_start + 1,
                end_line=lineno,
                indent=open_match["indent"],
                comment=open_match["comment"],
            )
        )
        open_id, open_match = None, None
    if open_id is not None and open_match is not None:
        close = " -->" if open_match["comment"] == "<!--" else ""
        raise fail(
            open_line,
            f"region '{open_id}' is never closed: add a line '{open_match['comment']} scaffold:end {open_id}{close}'",
        )
    return regions


def _candidate_files(root: Path) -> Iterator[Path]:
    for entry in sorted(root.iterdir()):
        if entry.is_symlink():
            continue
        if entry.is_dir():
            if entry.name not in _SKIP_DIRS:
                yield from _candidate_files(entry)
        elif entry.is_file() and entry.stat().st_size <= _MAX_FILE_BYTES:
            yield entry


def find_regions(root: Path) -> list[Region]:
    """Every region under `root` (symlinks, VCS folders and non-UTF-8 files are skipped)."""
    found: list[Region] = []
    for file in _candidate_files(root):
        try:
            text = read_text(file)
        except (UnicodeDecodeError, OSError):
            continue
        if "scaffold:" in text:
            found.extend(parse_regions(text, file.relative_to(root).as_posix()))
    return found


def splice(text: str, path: str, bodies: Mapping[str, str]) -> str:
    """Return `text` with the bodies of the named regions replaced; other bytes stay as they are."""
    regions = {region.id: region for region in parse_regions(text, path)}
    unknown = sorted(set(bodies) - set(regions))
    if unknown:
        raise RegionError(f"{path}: no region named {', '.join(unknown)}")
    lines = text.splitlines(keepends=True)
    for region in sorted((regions[i] for i in bodies), key=lambda r: r.start_line, reverse=True):
        body = bodies[region.id]
        if body and not body.endswith("\n"):
            body += "\n"
        lines[region.body_line - 1 : region.end_line - 1] = [body] if body else []
    return "".join(lines)

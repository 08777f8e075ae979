"""A failing check's output for the repair prompt: trimmed to what matters, and the regions it implicates.

A test run's output is mostly noise to the model (pip's install log, pytest's header and progress
dots, make's directory lines); what it needs is the failure lines, the error summaries and the last
frames of each traceback, and which regions they point at. Paths and line numbers in tracebacks
(`File "src/pkg/domain.py", line 42`) and in tool messages (`tests/test_domain.py:17:`,
`src/pkg/domain.py:3:5: F401`) are mapped to the region whose lines hold them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import PurePosixPath

from generator.fill.regions import Region

# Enough for several failures with their last frames; a whole log would bury them.
LIMIT = 3_000

_NOISE = re.compile(
    r"^\s*("
    r"Requirement already satisfied|Collecting |Downloading |Using cached |Installing collected packages|"
    r"Successfully (installed|built|uninstalled)|Building wheels? |Created wheel|Stored in directory|Obtaining |"
    r"Preparing (editable )?metadata|Getting requirements|Installing build dependencies|Building editable|"
    r"Attempting uninstall|Found existing installation|Uninstalling |\[notice\]|Looking in indexes|"
    r"Resolved \d+ packages|Prepared \d+ packages|Installed \d+ packages|Audited \d+ packages|[+-] \S+==|"
    r"platform \S+ -- Python|cachedir:|rootdir:|configfile:|plugins:|collect(ed|ing) \d+ items?|"
    r"=+ test session starts =+|make(\[\d+\])?: (Entering|Leaving) directory|"
    r"\S+\.py [.sxXF]+\s*(\[\s*\d+%\])?$|[.sxXFE]+\s*\[\s*\d+%\]$"
    r")"
)
# Lines that carry the failure: worth keeping when the whole output does not fit.
_SIGNAL = re.compile(
    r"(^E\s|^>\s|^_{3,} .* _{3,}$|^=+ .*(short test summary|FAILURES|ERRORS|failed|error|passed).* =+$|"
    r"^(FAILED|ERROR) |\berror:|\bError\b|Exception\b|^\S+:\d+:|Traceback \(most recent call last\)|"
    r"^\s*File \"[^\"]+\", line \d+|^Found \d+ errors?|^make: \*\*\*|^\w+(\.\w+)*(Error|Exception|Warning):)"
)
_LOCATIONS = (
    re.compile(r'File "(?P<path>[^"]+)", line (?P<line>\d+)'),
    re.compile(r"(?P<path>[\w./-]+\.\w+):(?P<line>\d+)(?::\d+)?:"),
    re.compile(r"(?P<path>[\w./-]+\.\w+), line (?P<line>\d+)"),
)
# pytest's summary names a failing test by its file and name, with no line (`FAILED tests/test_x.py::test_y`,
# `ERROR tests/test_x.py::TestZ::test_y[case]`): the region whose code defines it.
_TEST_ID = re.compile(r"^(?:FAILED|ERROR) (?P<path>[\w./-]+\.py)::(?:\w+::)*(?P<name>\w+)", re.M)
_FRAME = re.compile(r'^\s*File "[^"]+", line \d+')
# Frames kept at the end of each Python traceback (the deepest are the ones that failed).
_LAST_FRAMES = 2


def trim(output: str, limit: int = LIMIT) -> str:
    """`output` without tool noise; when still longer than `limit`, its failure lines, then its head and tail."""
    lines = _drop_noise(output.splitlines())
    lines = _last_frames(lines)
    text = "\n".join(lines).strip("\n")
    if len(text) <= limit:
        return text
    kept = [line for line in lines if _SIGNAL.search(line)]
    text = "\n".join(kept)
    if kept and len(text) <= limit:
        return f"[only the failure lines of a longer output]\n{text}"
    source = text if kept else "\n".join(lines)
    half = limit // 2
    left = source[:half].rsplit("\n", 1)[0]
    right = source[-half:].split("\n", 1)[-1]
    return f"{left}\n[… {len(source) - len(left) - len(right):,} characters left out …]\n{right}"


def _drop_noise(lines: Iterable[str]) -> list[str]:
    kept: list[str] = []
    for line in lines:
        if _NOISE.match(line):
            continue
        if not line.strip() and (not kept or not kept[-1].strip()):
            continue
        kept.append(line.rstrip())
    return kept


def _last_frames(lines: Sequence[str]) -> list[str]:
    """Python tracebacks cut to their last frames (each frame: a `File` line and its source line)."""
    kept: list[str] = []
    frames: list[list[str]] = []
    for line in lines:
        if _FRAME.match(line):
            frames.append([line])
        elif frames and line.startswith("    ") and len(frames[-1]) < 4:
            frames[-1].append(line)
        else:
            kept.extend(_tail_frames(frames))
            frames = []
            kept.append(line)
    kept.extend(_tail_frames(frames))
    return kept


def _tail_frames(frames: list[list[str]]) -> list[str]:
    dropped = len(frames) - _LAST_FRAMES
    lines = [f"  [… {dropped} earlier frames …]"] if dropped > 0 else []
    for frame in frames[-_LAST_FRAMES:]:
        lines.extend(frame)
    return lines


def implicated(output: str, regions: Sequence[Region]) -> list[str]:
    """The keys of the regions whose lines the output points at, in the order of `regions`.

    `regions` must carry the line spans of the files the output came from (the attempt in place).
    A path in the output may be relative to the project or absolute (it ends with the project path).
    """
    by_file: Mapping[str, list[Region]] = _by_file(regions)
    hits: set[str] = set()
    for pattern in _LOCATIONS:
        for match in pattern.finditer(output):
            path = _project_path(match["path"], by_file)
            if path is None:
                continue
            line = int(match["line"])
            hits.update(r.key for r in by_file[path] if r.start_line <= line <= r.end_line)
    for match in _TEST_ID.finditer(output):
        path = _project_path(match["path"], by_file)
        if path is not None:
            defines = re.compile(rf"^[ \t]*(?:async[ \t]+)?def[ \t]+{match['name']}[ \t]*\(", re.M)
            hits.update(r.key for r in by_file[path] if defines.search(r.body))
    return [region.key for region in regions if region.key in hits]


def _by_file(regions: Sequence[Region]) -> dict[str, list[Region]]:
    grouped: dict[str, list[Region]] = {}
    for region in regions:
        grouped.setdefault(region.path, []).append(region)
    return grouped


def _project_path(path: str, files: Mapping[str, object]) -> str | None:
    """A path from the output as a region file's project path: the region path it is or ends with."""
    parts = PurePosixPath(path.removeprefix("./")).parts
    for candidate in files:
        wanted = PurePosixPath(candidate).parts
        if parts[-len(wanted) :] == wanted:
            return candidate
    return None

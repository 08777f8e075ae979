"""What the pipeline returns and reports: plain records, never sentences.

The core (`generator.pipeline`) returns these and sends `Progress` events to a `Reporter` the
caller passes in; the CLI turns both into text for people or JSON, a library caller reads the
fields. Nothing here prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from generator.errors import ExitCode, ScaffoldError, UnknownTemplateError
from generator.fill.pricing import Usage

# --- progress -----------------------------------------------------------------------------------

Step = Literal["environment", "rerank", "call", "check", "baseline", "generate", "verify", "write"]


@dataclass(frozen=True)
class Progress:
    """One step of a fill run: building the project's environment for its checks (`environment`, once,
    before any call), the model's re-rank of the context (`rerank`, SCAFFOLD_RERANK), a model call
    (`purpose` first/repair/escalation call), checking `count` fills, running the project's checks
    (`baseline` on the project before any call, `verify` with the fills), or writing the fills."""

    step: Step
    model: str | None = None
    count: int = 0
    purpose: str = ""
    command: str = ""
    # A call after the project's checks failed: how many kept fills it may rewrite besides the `count` it asks for.
    kept: int = 0


@dataclass(frozen=True)
class FillOffer:
    """What a fill would cost, for the caller to accept or decline before anything is spent."""

    project: Path
    regions: int
    model: str
    # The first call's, and the context's re-rank when `rerank`.
    cost: float | None
    # What building the context warned about (`Prepared.warnings`), to see before saying yes.
    warnings: tuple[str, ...] = ()
    # Whether the model re-ranks the context first (SCAFFOLD_RERANK), in one more call.
    rerank: bool = False


class Reporter(Protocol):
    """The caller's side of a run: news to show, and the one question the core may ask."""

    def rendered(self, rendered: Rendered) -> None:
        """The project is in place (and committed): said at once, before any fill."""

    def progress(self, event: Progress) -> None: ...

    def tokens(self, count: int) -> None: ...

    def confirm_fill(self, offer: FillOffer) -> bool: ...


class SilentReporter:
    """Shows nothing and accepts every fill: for library callers and CI jobs."""

    def rendered(self, rendered: Rendered) -> None:
        pass

    def progress(self, event: Progress) -> None:
        pass

    def tokens(self, count: int) -> None:
        pass

    def confirm_fill(self, offer: FillOffer) -> bool:
        return True


# --- the fill -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    model: str
    purpose: str
    keys: tuple[str, ...]
    usage: Usage
    error: str | None
    # What the model said it could not carry out, or assumed (its answer's optional `notes`).
    notes: str | None = None


@dataclass(frozen=True)
class RegionResult:
    key: str
    filled: bool
    model: str | None
    reason: str | None


CommitSkip = Literal["no-git", "not-own-repo", "previous-kept"]
# Why the project's checks did not gate the fills: not asked (--no-verify), no `make check` in the
# project and no --verify-command, or its environment could not be built (`make install` failed).
GateOff = Literal["not-asked", "no-command", "setup-failed"]


@dataclass
class FillResult:
    """One fill run: each region's fate, the calls made, and the commit of the fills."""

    project: Path
    regions: list[RegionResult] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    commit: str | None = None
    # Why the fills were written but not committed, with `commit_detail` (the folder of the
    # previous versions for "previous-kept").
    commit_skipped: CommitSkip | None = None
    commit_detail: str = ""
    # Optional checkers the run needed and could not find (e.g. "ruff"), and what each would check.
    unchecked: tuple[tuple[str, str], ...] = ()
    # What building the context warned about (`Prepared.warnings`), for the record of the run.
    context_warnings: tuple[str, ...] = ()
    # What building it noted that the run's summary shows (the model's re-rank and its cost).
    context_notes: tuple[str, ...] = ()
    # What the model said it could not carry out of the description, or assumed, in the answers whose
    # fills were written (each distinct note once). Empty when it said nothing or nothing was written.
    notes: tuple[str, ...] = ()
    # The project's checks the fills had to pass (e.g. "make check"); or why none ran (`gate_off`,
    # with `gate_detail`: the failed setup command and its last line); and the checks the gate
    # itself could not run ("terraform validate (terraform is not installed)").
    gate: str | None = None
    gate_off: GateOff | None = None
    gate_detail: str = ""
    gate_skipped: tuple[str, ...] = ()
    # Files derived from the code that `make generated` rewrote for the fills (committed with them); or,
    # when it could not run (`stale_reason`), the files it writes, which may now be out of date.
    regenerated: tuple[str, ...] = ()
    stale: tuple[str, ...] = ()
    stale_reason: str = ""

    @property
    def verified(self) -> bool:
        """The fills passed the project's checks, every one of them."""
        return self.gate is not None and self.gate_off is None and not self.gate_skipped

    def not_verified(self) -> tuple[str, ...]:
        """What of the project's checks did not run on the fills, for the record."""
        if self.gate_off == "not-asked":
            return ("every check of the project (--no-verify)",)
        if self.gate_off == "no-command":
            return ("every check of the project (it has no 'make check'; give --verify-command)",)
        if self.gate_off == "setup-failed":
            return (f"every check of the project ({self.gate_detail})",)
        return self.gate_skipped

    @property
    def fell_back(self) -> bool:
        return any(not region.filled for region in self.regions)

    @property
    def filled(self) -> list[RegionResult]:
        return [region for region in self.regions if region.filled]

    def usage_by_model(self) -> dict[str, Usage]:
        totals: dict[str, Usage] = {}
        for call in self.calls:
            totals[call.model] = totals.get(call.model, Usage()) + call.usage
        return totals


FillSkip = Literal["no-regions", "no-api-key", "declined"]


@dataclass(frozen=True)
class FillPreview:
    """What a fill would send and cost (`--pretend`); no request is made."""

    project: Path
    # (region key, its instruction) for each region to fill; keys of those already filled.
    todo: tuple[tuple[str, str], ...]
    filled: tuple[str, ...]
    # Estimated tokens of each context document in the system prompt.
    context_tokens: dict[str, int]
    estimate: Usage
    model: str
    escalation: str
    # What building the context warned about (`Prepared.warnings`).
    context_warnings: tuple[str, ...] = ()
    # Whether the model will re-rank the ranked documents first (SCAFFOLD_RERANK): these are BM25's.
    rerank: bool = False
    # What that call is expected to use, and the documents its request shows the model, as named there.
    rerank_estimate: Usage | None = None
    rerank_candidates: tuple[str, ...] = ()
    # Whether the model's answer to that request is in the cache: it applies, and no call is made.
    rerank_cached: bool = False


# --- the commands -------------------------------------------------------------------------------

GitSkip = Literal["no-git", "inside-repo", "git-missing"]


@dataclass(frozen=True)
class Rendered:
    """A rendered project, moved into place (and committed unless `git_skipped` says why not)."""

    path: Path
    template: str
    version: str | None
    files: int
    commit: str | None
    git_skipped: GitSkip | None = None
    # The repository the project landed in, for git_skipped == "inside-repo".
    enclosing_repo: Path | None = None
    # The source's URL held a token or password, which the project does not record (teammates and CI
    # fetch the source with their own access).
    credentials_left_out: bool = False
    # The knowledge home's `origin` remote, which lacks the version rendered (or could not be asked): the
    # project records the home's local path instead, which teammates and CI cannot reach.
    remote_passed_over: PassedOver | None = None


@dataclass(frozen=True)
class PassedOver:
    """A knowledge home's `origin` remote that a project does not record (`Rendered.remote_passed_over`)."""

    remote: str  # without credentials
    why: str  # what it lacks ("has no v1.2.0 (not pushed?)"), or that it could not be asked
    fix: str  # what to do in the home before the project is pointed at it


@dataclass(frozen=True)
class NewResult:
    """`new_project`: the render, and the fill step's outcome when one was asked for.

    `fill` is the run when it happened; otherwise `fill_skipped` says why not, or `fill_error`
    holds the error that stopped it (the project exists all the same, with its fallbacks).
    `pending` counts the regions that still hold the template's fallbacks.
    """

    rendered: Rendered
    fill: FillResult | None = None
    fill_skipped: FillSkip | None = None
    fill_error: ScaffoldError | None = None
    pending: int = 0

    @property
    def path(self) -> Path:
        return self.rendered.path


@dataclass(frozen=True)
class FillRun:
    """`fill_project`: the run, or why there was none."""

    project: Path
    result: FillResult | None
    skipped: FillSkip | None = None


@dataclass(frozen=True)
class UpdateResult:
    """`update_project`: the versions, the files the update changed (uncommitted, for review), the
    files with conflicts, and the questions that were asked."""

    path: Path
    old_version: str | None
    new_version: str | None
    conflicts: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CheckResult:
    """`check_project`: where a generated project stands against its template source."""

    path: Path
    template: str
    source: str
    version: str | None
    # The newest release tag at the source; None when the source has no tags or cannot be read.
    newest: str | None
    behind: bool
    # Regions still holding the template's fallback ("path#id").
    unfilled: tuple[str, ...] = ()
    # Filled regions whose context documents changed since the fill ("path#id").
    stale: tuple[str, ...] = ()
    # Why the source could not be read, when it could not.
    unreachable: str | None = None
    # Whether the answers file records the source's URL with credentials (`source` is shown without).
    credentials_recorded: bool = False

    @property
    def exit_code(self) -> ExitCode:
        """What `scaffold check` exits with for this project alone."""
        if self.unreachable:
            return ExitCode.EXTERNAL
        if self.behind:
            return ExitCode.BEHIND
        return ExitCode.STALE_FILLS if self.stale else ExitCode.OK

    def to_dict(self) -> dict[str, Any]:
        """One project's entry of `scaffold check --json` (and the MCP server's `project_status`)."""
        return {
            "path": str(self.path),
            "template": self.template,
            "source": self.source,
            "version": self.version,
            "newest": self.newest,
            "behind": self.behind,
            "unfilled": list(self.unfilled),
            "stale": list(self.stale),
            "unreachable": self.unreachable,
            "credentials_recorded": self.credentials_recorded,
            "exit_code": int(self.exit_code),
        }


# --- the templates on offer ---------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionInfo:
    """One question a template asks, with its default as Copier computes it when only NAME is given (the raw
    text where scaffold cannot render it)."""

    name: str
    type: str
    default: Any
    help: str
    choices: tuple[Any, ...] = ()


@dataclass(frozen=True)
class TemplateEntry:
    name: str
    description: str
    questions: tuple[QuestionInfo, ...]


@dataclass(frozen=True)
class TemplateCatalog:
    """`list_templates`: where the templates come from, their version, and each template's questions."""

    source: str
    origin: str
    # What `new` renders (the newest release tag of a template repository; its HEAD for scaffold's checkout).
    version: str | None
    templates: tuple[TemplateEntry, ...]
    # The source's HEAD (`git describe`) when it is another commit than `version`'s.
    head: str | None = None

    def template(self, name: str) -> TemplateEntry:
        """One template by name; an unknown name raises `UnknownTemplateError` listing the others."""
        for entry in self.templates:
            if entry.name == name:
                return entry
        raise UnknownTemplateError.among(name, [entry.name for entry in self.templates])

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "origin": self.origin,
            "version": self.version,
            "head": self.head,
            "templates": [
                {
                    "name": entry.name,
                    "description": entry.description,
                    "questions": [
                        {
                            "name": question.name,
                            "type": question.type,
                            "default": question.default,
                            "help": question.help,
                            "choices": list(question.choices),
                        }
                        for question in entry.questions
                    ],
                }
                for entry in self.templates
            ],
        }


# --- doctor -------------------------------------------------------------------------------------

DoctorStatus = Literal["ok", "warn", "fail"]
# Who must act on a failed required check: the machine (install or upgrade git) or the configuration.
Fault = Literal["environment", "config"]


@dataclass(frozen=True)
class DoctorCheck:
    """One check of `scaffold doctor`: what it found (`detail`), and what to do about it (`fix`, "" when
    nothing). Only `required` checks fail; the optional ones warn."""

    name: str
    status: DoctorStatus
    detail: str
    fix: str = ""
    required: bool = False
    fault: Fault | None = None


@dataclass(frozen=True)
class DoctorReport:
    """Every check of `scaffold doctor`, in the order they ran."""

    version: str
    checks: tuple[DoctorCheck, ...]

    @property
    def failures(self) -> tuple[DoctorCheck, ...]:
        return tuple(check for check in self.checks if check.status == "fail")

    @property
    def warnings(self) -> tuple[DoctorCheck, ...]:
        return tuple(check for check in self.checks if check.status == "warn")

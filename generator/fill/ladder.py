"""A fill run: ask, check, repair, escalate, then write everything or nothing.

Ladder (docs/ai-fill.md): one call to the main model for every region to fill;
regions that fail the checks, or every region when the call itself failed, go to one
repair call to the main model with the checks' messages, then to one call to the escalation
model. When the project's own checks fail with every fill in place, the regions their output
points at are asked for again (all, when it points at none), and the call may rewrite the
others too. Regions still failing keep the template's fallback, and so do all the others of the
run: the template's fallbacks fit together and the model's fills fit together, but a mix
may not (the service's routes use the names its domain region defines).

Files are rewritten atomically, bytes outside regions never change, `.scaffold/fills.yml`
records provenance, and the fills become one commit of their own on top of the render, so
`copier update` treats them as the user's changes and keeps them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from generator.errors import DirtyTreeError, ExternalToolError, UsageError
from generator.fill.apply import Swap, refuse_links
from generator.fill.client import Client, ClientOptions, Outcome, configured_secrets, scrub
from generator.fill.failure import implicated
from generator.fill.plan import Plan
from generator.fill.prompt import current_texts, first_message, region_spans, repair_message, system_blocks
from generator.fill.record import FILLED, RECORD_FILE, Entry, record_text, sha256
from generator.fill.regions import split_key
from generator.fill.verify import CheckRun, Gate, run_tests
from generator.plumbing import gitutil
from generator.plumbing.transaction import Transaction, checkpoint
from generator.results import Call, CommitSkip, FillResult, GateOff, Progress, RegionResult, Reporter

if TYPE_CHECKING:
    from generator.fill.regenerate import Regenerated
    from generator.fill.validate import FileCheck

PREVIOUS_DIR = ".scaffold/previous"


@dataclass(frozen=True)
class FillOptions:
    model: str
    escalation: str
    client: ClientOptions
    # The project's checks the fills must pass (verify.gate_for), or None with the reason in gate_off.
    gate: Gate | None = None
    gate_off: GateOff | None = None
    # The command that regenerates the files derived from the code (`make generated`), when the project has one.
    regenerate: str | None = None
    commit: bool = True
    # Projects outside git: the files' previous versions go to .scaffold/previous/ (nothing else could restore them).
    keep_previous: bool = False


@dataclass
class _State:
    """What the ladder knows about each region between calls."""

    # The region files as the run found them: a change while the model works stops the write.
    found: dict[str, str] = field(default_factory=dict)
    accepted: dict[str, str] = field(default_factory=dict)
    by_model: dict[str, str] = field(default_factory=dict)
    prompt_hash: dict[str, str] = field(default_factory=dict)
    # The notes of the answer each accepted fill came from.
    notes: dict[str, str] = field(default_factory=dict)
    attempts: dict[str, tuple[str | None, list[str]]] = field(default_factory=dict)
    # Checks the gate said it could not run, in any of its runs.
    skipped: list[str] = field(default_factory=list)
    # What `make generated` changed in the gate's last passing run (written with the fills), and why it
    # did not run to the end there ("" when it did).
    generated: dict[str, tuple[bytes | None, bytes | None]] = field(default_factory=dict)
    regenerate_failure: str = ""
    # The last failure of the project's checks with every fill in place (`_verify`), and the regions its output
    # pointed at there. From then on every call is shown it and may rewrite any accepted region: the failure
    # may lie in one it did not point at (a test fails, the code it tests is wrong).
    gate_failure: str = ""
    gate_pointed: list[str] = field(default_factory=list)
    # The last call's rewrites of kept fills that failed their checks or were refused, with why (no text for
    # a refused one: it is never sent back). Not used: the kept fill stays, and the next call is told.
    dropped: dict[str, tuple[str | None, list[str]]] = field(default_factory=dict)

    def revisable(self, keys: Sequence[str], failing: Sequence[str]) -> list[str]:
        """The accepted regions a call may rewrite besides `failing` (see `gate_failure`), in plan order."""
        if not self.gate_failure:
            return []
        return [key for key in keys if key in self.accepted and key not in failing]


# The optional checkers each language's fills would go through, and what is lost without them.
_CHECKERS = {
    "python": ("ruff", "lint and format of Python fills"),
    "bash": ("shellcheck", "shellcheck of shell fills"),
    "hcl": ("terraform", "terraform fmt of Terraform fills"),
}


def missing_checkers(plan: Plan) -> tuple[tuple[str, str], ...]:
    """The optional checkers this run needs and cannot find, each with what it would check."""
    from generator.fill.validate import available_tools

    tools = available_tools()
    languages = {region.language for region in plan.todo}
    return tuple(
        (tool, what)
        for language, (tool, what) in _CHECKERS.items()
        if language in languages and tools.get(tool) is None
    )


def _written(plan: Plan) -> list[str]:
    """Every path a fill may write under the project (the previous versions' folder stands for its files)."""
    return [*plan.files, RECORD_FILE, f"{PREVIOUS_DIR}/-"]


def check_tree(plan: Plan) -> None:
    """Refuse to write through a symbolic link, or to rewrite files with uncommitted changes: the fills must
    not mix with unsaved work."""
    refuse_links(plan.project, _written(plan))
    if plan.repo is None:
        return
    dirty = _uncommitted(plan, [*plan.files, RECORD_FILE])
    if dirty:
        raise DirtyTreeError(
            f"{plan.project} has uncommitted changes in {', '.join(dirty)}; commit or stash them first "
            "(the fills are committed on top of your work)"
        )


def _uncommitted(plan: Plan, paths: list[str]) -> list[str]:
    """Which of `paths` (project-relative) differ from the last commit; none outside git."""
    if plan.repo is None or not paths:
        return []
    out = gitutil.git("status", "--porcelain", "--", *paths, cwd=plan.project)
    # Porcelain paths are relative to the repository root; the user thinks in project paths.
    prefix = gitutil.git("rev-parse", "--show-prefix", cwd=plan.project).strip()
    return [line[3:].removeprefix(prefix) for line in out.splitlines() if line.strip()]


def _regions(count: int) -> str:
    return f"{count} region{'s' * (count != 1)}"


def fill(
    plan: Plan,
    documents: str,
    context_hashes: Mapping[str, str],
    options: FillOptions,
    reporter: Reporter,
    transaction: Transaction,
) -> FillResult:
    """Run the ladder for `plan.todo` and write the outcome (see the module docstring)."""
    result = FillResult(plan.project, unchecked=missing_checkers(plan), gate_off=options.gate_off)
    keys = [region.key for region in plan.todo]
    if not keys:
        return result
    # Before any call: a link found only at the write would cost the calls for nothing.
    refuse_links(plan.project, _written(plan))
    system = system_blocks(documents)
    client = Client(options.client, reporter.tokens)
    state = _State(found=current_texts(plan), attempts={key: (None, []) for key in keys})
    rounds = [(options.model, "first call"), (options.model, "repair call")]
    if options.escalation != options.model:
        rounds.append((options.escalation, "escalation call"))
    options = _open_gate(plan, options, state, result, reporter)
    failing = list(keys)
    skip_model: str | None = None
    for model, purpose in rounds:
        if model == skip_model:
            continue
        # `failing` keeps plan order: every region at first, then what _absorb or _verify left.
        revisable = state.revisable(keys, failing)
        if purpose == "first call":
            user = first_message(plan)
        else:
            gate = (state.gate_failure, state.gate_pointed) if state.gate_failure else None
            attempts = {key: state.attempts[key] for key in failing}
            user = repair_message(plan, state.accepted, attempts, revisable, gate, state.dropped)
        reporter.progress(Progress("call", model, len(failing), purpose, kept=len(revisable)))
        checkpoint("fill.call", model=model, purpose=purpose)  # never pay for a call after an interrupt
        asked = [key for key in keys if key in failing or key in revisable]
        outcome = client.ask_safely(model, system, user, asked, keys)
        result.calls.append(Call(model, purpose, tuple(failing), outcome.usage, outcome.error, outcome.notes))
        prompt_hash = sha256(model + "\0" + repr(system) + "\0" + user)
        failing = _absorb(plan, options, state, outcome, failing, revisable, prompt_hash, reporter)
        if not failing or outcome.fatal:
            break
        skip_model = model if outcome.futile else None
    result.gate_skipped = tuple(dict.fromkeys(state.skipped))
    _finish(plan, options, state, failing, context_hashes, result, reporter, transaction)
    return result


def _absorb(
    plan: Plan,
    options: FillOptions,
    state: _State,
    outcome: Outcome,
    wanted: Sequence[str],
    revisable: Sequence[str],
    prompt_hash: str,
    reporter: Reporter,
) -> list[str]:
    """Check one call's bodies with those accepted before; return the keys still failing.

    `wanted` are the regions the call had to write; `revisable` those it could rewrite (see
    `_State.gate_failure`).
    """
    # Kept when not rewritten (an empty or unchanged answer), as the prompt says; a rewrite the client refused
    # (too big, holding the key) is dropped, and the next call told why.
    state.dropped = {}
    for key in revisable:
        body = outcome.bodies.get(key, "")
        if key in outcome.rejected:
            state.dropped[key] = (None, [outcome.rejected[key]])
        elif not body.strip() or body.rstrip("\n") == state.accepted[key].rstrip("\n"):
            outcome.bodies.pop(key, None)
    for key in wanted:
        if key in outcome.rejected:
            state.attempts[key] = (None, [outcome.rejected[key]])
        elif key not in outcome.bodies:
            state.attempts[key] = (state.attempts[key][0], [outcome.error or "the answer left this region out"])
    fallbacks = {region.key: region.body for region in plan.todo}
    for key, body in list(outcome.bodies.items()):
        if not body.strip() and fallbacks[key].strip():
            # An empty body would delete working code (a route table, a function others call).
            state.attempts[key] = (body, ["the answer for this region is empty; it must hold the region's code"])
            del outcome.bodies[key]
    if outcome.bodies:
        reporter.progress(Progress("check", outcome.model, len(outcome.bodies)))
        checks, problems = _checked(plan, {**state.accepted, **outcome.bodies})
        failed_rewrites = [key for key in revisable if key in outcome.bodies and key in problems]
        for key in failed_rewrites:
            # A kept fill passed these checks: a rewrite of it that fails them is dropped, not the fill.
            state.dropped[key] = (outcome.bodies.pop(key), problems[key])
        if failed_rewrites:
            # Checked again without them: what they broke in other regions is not those regions' fault.
            checks, problems = _checked(plan, {**state.accepted, **outcome.bodies})
        proposal = {**state.accepted, **outcome.bodies}
        for key, body in proposal.items():
            path, region_id = split_key(key)
            if key in problems:
                state.accepted.pop(key, None)
                state.attempts[key] = (body, problems[key])
                continue
            if key in outcome.bodies:
                state.by_model[key], state.prompt_hash[key] = outcome.model, prompt_hash
                _note(state, key, outcome.notes)
            # The checks may have formatted the body (ruff format, terraform fmt): keep what they spliced.
            state.accepted[key] = checks[path].bodies.get(region_id, body)
    failing = [region.key for region in plan.todo if region.key not in state.accepted]
    # A kept fill that fails now (a mended region changed what it uses) is asked for as failing, not as kept.
    state.dropped = {key: dropped for key, dropped in state.dropped.items() if key in state.accepted}
    if not failing and options.gate:
        failing = _verify(plan, options, state, reporter)
    return failing


def _checked(plan: Plan, proposal: Mapping[str, str]) -> tuple[dict[str, FileCheck], dict[str, list[str]]]:
    """The fast checks of every file with `proposal` in place, and each region's problems."""
    from generator.fill.validate import check_project

    checks = check_project(plan.project, proposal)
    problems: dict[str, list[str]] = {}
    for check in checks.values():
        for problem in check.problems:
            problems.setdefault(problem.key, []).append(problem.message)
    return checks, problems


def _note(state: _State, key: str, notes: str | None) -> None:
    if notes:
        state.notes[key] = notes
    else:
        state.notes.pop(key, None)


def _open_gate(plan: Plan, options: FillOptions, state: _State, result: FillResult, reporter: Reporter) -> FillOptions:
    """Build the checks' environment once (the project's own .venv), then run the checks on the project as it
    is: before any paid call, so a project that fails on its own is never blamed on the model or charged."""
    gate = options.gate
    if gate is None:
        return options
    key = options.client.api_key
    if gate.setup:
        reporter.progress(Progress("environment", command=gate.setup))
        setup = run_tests(plan.project, gate.setup, key)
        if setup.code != 0:
            # No network for the dependencies, say: the fills get the fast checks only, and the record says so.
            result.gate_off = "setup-failed"
            result.gate_detail = f"'{gate.setup}' failed with exit {setup.code}: {setup.last_line}"
            return dataclasses.replace(options, gate=None, gate_off="setup-failed")
    reporter.progress(Progress("baseline", command=gate.command))
    run = _baseline(plan, gate.command, key, options.regenerate)
    if run.code != 0:
        check = f"its check '{run.failed_check}' fails" if run.failed_check else "it fails"
        raise UsageError(
            f"'{gate.command}' cannot gate the fills: {check} on the project before any fill (exit {run.code}: "
            f"{run.last_line}). The template or the environment is at fault, not the model; no call was "
            "made. Fix it, or run with --no-verify"
        )
    state.skipped.extend(run.skipped)
    result.gate = gate.command
    return options


def _baseline(plan: Plan, command: str, api_key: str, regenerate_command: str | None) -> CheckRun:
    """The checks on the template's fallbacks, whatever the regions hold now (an earlier fill's code, say),
    with the derived files regenerated from them; the project as it stands when that fails, since code the
    team wrote outside the regions may rely on the filled bodies. Only when both fail is the project at fault."""
    from generator.fill.fallbacks import baseline_texts

    texts = baseline_texts(plan)
    if not texts:
        return run_tests(plan.project, command, api_key)
    run, _ = _checked_with(plan, texts, regenerate_command, command, api_key)
    return run if run.code == 0 else run_tests(plan.project, command, api_key)


def _checked_with(
    plan: Plan,
    texts: Mapping[str, str],
    regenerate_command: str | None,
    command: str,
    api_key: str,
    reporter: Reporter | None = None,
) -> tuple[CheckRun, Regenerated]:
    """Run the checks with `texts` swapped into the region files and the derived files regenerated for them;
    the files go back as they were however it ends (what `make generated` changed is returned, not kept)."""
    from generator.fill.regenerate import Regenerated, put_back, regenerate

    swap = Swap(plan.project, texts)
    made = Regenerated()
    try:
        swap.apply()  # inside: an interrupt right after it must still put the old bodies back
        if regenerate_command:
            if reporter is not None:
                reporter.progress(Progress("generate", command=regenerate_command))
            in_git = plan.repo is not None
            made = regenerate(plan.project, regenerate_command, api_key, in_git=in_git, skip=plan.files)
        if reporter is not None:
            reporter.progress(Progress("verify", command=command))
        run = run_tests(plan.project, command, api_key)
    finally:
        try:
            put_back(plan.project, made.changes)
        finally:
            swap.undo()
    return run, made


def _verify(plan: Plan, options: FillOptions, state: _State, reporter: Reporter) -> list[str]:
    """Regenerate the derived files and run the project's checks with the fills in place, then put the
    fallbacks and the files as they were back until the final write."""
    assert options.gate is not None
    command, api_key = options.gate.command, options.client.api_key
    texts = current_texts(plan, state.accepted)
    run, made = _checked_with(plan, texts, options.regenerate, command, api_key, reporter)
    state.skipped.extend(run.skipped)
    if run.code == 0:
        # A run that failed half-way may have left some files stale: none of them is taken.
        state.generated = {} if made.failure else made.changes
        state.regenerate_failure = made.failure
        return []
    # The first line stands alone (the report shows only it); the repair prompt gets the output's tail too.
    message = f"the project's tests failed with the fills ({command}, exit {run.code}): {run.last_line}"
    if run.tail.strip():
        message += f"\nlast lines of its output (stdout and stderr):\n{run.tail}"
    # Asked again: the regions the output points at (a traceback's frames, a linter's `path:line:`), the
    # others kept for the next calls to rewrite if the failure lies there (`_State.gate_failure`); all of
    # them when it points at none.
    pointed = implicated(run.output, region_spans(plan, state.accepted))
    state.gate_failure, state.gate_pointed = message, pointed
    todo = [region.key for region in plan.todo]
    failing = [key for key in todo if key in pointed] or todo
    for key in failing:
        state.attempts[key] = (state.accepted.pop(key), [message])
    return failing


def _finish(
    plan: Plan,
    options: FillOptions,
    state: _State,
    failing: Sequence[str],
    context_hashes: Mapping[str, str],
    result: FillResult,
    reporter: Reporter,
    transaction: Transaction,
) -> None:
    if failing:
        why = f"kept the template's fallback with the rest: {len(failing)} of {len(plan.todo)} regions failed"
        for region in plan.todo:
            problems = state.attempts[region.key][1] if region.key in failing else [why]
            # First lines only: a test run's output tail goes to the repair prompt, not to every report line.
            reason = "; ".join(problem.splitlines()[0] for problem in problems[:3] if problem)
            result.regions.append(RegionResult(region.key, False, None, reason or "not filled"))
        return
    reporter.progress(Progress("write", count=len(plan.todo)))
    changed = [path for path, text in current_texts(plan).items() if state.found.get(path) != text]
    if changed:
        raise DirtyTreeError(
            f"{', '.join(changed)} changed while the model was working; nothing was written. "
            "Run 'scaffold fill' again when your edits are saved (and committed)"
        )
    texts = current_texts(plan, state.accepted)
    _generated(plan, options, state, result)
    today = datetime.now(UTC).replace(microsecond=0).isoformat()
    entries = dict(plan.records)
    for region in plan.todo:
        key = region.key
        entries[key] = Entry(
            status=FILLED,
            model=state.by_model[key],
            date=today,
            body_sha256=sha256(state.accepted[key]),
            prompt_sha256=state.prompt_hash[key],
            context=dict(context_hashes),
            notes=state.notes.get(key),
            verified_by=result.gate if result.gate_off is None else None,
            not_verified=list(result.not_verified()),
            stale=list(result.stale),
        )
        result.regions.append(RegionResult(key, True, state.by_model[key], None))
    result.notes = tuple(dict.fromkeys(state.notes[r.key] for r in plan.todo if r.key in state.notes))
    record = record_text(entries)
    # Client.ask_safely refuses bodies that hold a credential; this is the last guard before the disk.
    secrets = configured_secrets(options.client.api_key)
    if any(scrub(text, secrets) != text for text in [record, *(state.accepted[r.key] for r in plan.todo)]):
        raise ExternalToolError("a fill holds the API key or another configured credential; nothing was written")
    generated = {path: after for path, (_, after) in state.generated.items() if after is not None}
    writes: dict[str, str | bytes] = {**texts, **generated, RECORD_FILE: record}
    previous = f"{PREVIOUS_DIR}/{today.replace(':', '').replace('+0000', 'Z')}"
    if options.keep_previous:
        # state.found is what the files hold now: the check above just compared them.
        writes.update({f"{previous}/{path}": state.found[path] for path in texts})
        writes.update({f"{previous}/{path}": old for path, (old, _) in state.generated.items() if old is not None})
    swap = Swap(plan.project, writes)
    # Held from the first temporary file to the commit: the fills land written and committed, or not at all.
    paths = [*texts, *generated, RECORD_FILE]
    with transaction.commit("fill.commit", project=plan.project):
        swap.apply()
        try:
            result.commit, result.commit_skipped, result.commit_detail = _commit(plan, options, state, paths, previous)
        except ExternalToolError as error:
            # All or nothing: fills written but left staged and uncommitted would read as done.
            swap.undo()
            gitutil.git("reset", "-q", "--", *paths, cwd=plan.project, check=False)
            raise ExternalToolError(
                f"the fills could not be committed ({error}); nothing was changed: fix that, then run "
                "'scaffold fill' again"
            ) from None
        swap.discard()
        transaction.landed(result)


def _generated(plan: Plan, options: FillOptions, state: _State, result: FillResult) -> None:
    """Say what `make generated` regenerated for the fills, or which files it would have and may be stale."""
    from generator.fill.regenerate import stale_files

    command = options.regenerate
    if command is None:
        return
    # A file `make generated` deleted stays (a fill deletes nothing); a derived file the user edited and did
    # not commit is theirs: not overwritten, but named as stale.
    mine = set(_uncommitted(plan, list(state.generated)))
    state.generated = {
        path: change for path, change in state.generated.items() if change[1] is not None and path not in mine
    }
    result.regenerated = tuple(state.generated)
    if mine:
        result.stale = tuple(sorted(mine))
        result.stale_reason = "they have uncommitted changes, so the regenerated versions were not written"
    if options.gate is not None and not state.regenerate_failure:
        return
    why = {
        "not-asked": "--no-verify",
        "no-command": "there is no check command",
        "setup-failed": "its environment could not be built",
    }
    reason = state.regenerate_failure or f"'{command}' did not run ({why[result.gate_off or 'not-asked']})"
    result.stale = stale_files(plan.project) or (f"the files '{command}' writes",)
    result.stale_reason = reason


def _commit(
    plan: Plan, options: FillOptions, state: _State, paths: list[str], previous: str
) -> tuple[str | None, CommitSkip | None, str]:
    """Commit the fills on their own; or say why not."""
    if options.keep_previous:
        return None, "previous-kept", f"{previous}/"
    if not options.commit:
        return None, "no-git", ""
    if not (plan.project / ".git").exists():
        return None, "not-own-repo", ""
    models = ", ".join(sorted(set(state.by_model.values())))
    message = f"Fill {_regions(len(plan.todo)).replace('region', 'template region')} with {models} (scaffold fill)"
    message = scrub(message, configured_secrets(options.client.api_key))
    return gitutil.commit_paths(plan.project, paths, message), None, ""

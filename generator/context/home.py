"""The knowledge home: a git repository holding the team's context/, templates/, includes/
and copier.yml, in the same layout as scaffold's own repository.

`scaffold init [DIR]` creates one from the bundled copy, commits it, tags it `v0.1.0` and
records it in the user config, so later commands take templates and context from it.
`scaffold new-decision|new-incident|new-runbook TITLE` add numbered, dated documents.
Which home a command uses is resolved by `generator.settings.HOME` (`--home`, then
`SCAFFOLD_HOME`, then the user config's `home`, then the bundled copy).
"""

from __future__ import annotations

import errno
import itertools
import re
import shlex
import shutil
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from generator import settings
from generator.context.sections import DOC_FOLDERS, fill_placeholders, name_form, read_bytes, why_unreadable
from generator.errors import (
    DestinationError,
    HomeError,
    MachineError,
    TemplateSourceError,
    UsageError,
    advice_for,
    check_text,
    disk_full,
    machine_trouble,
    one_line,
)
from generator.plumbing.atomic import folder_lock, remove_stale_temps, write_new
from generator.plumbing.transaction import Transaction, signals_held

INITIAL_TAG = "v0.1.0"
_IGNORE = shutil.ignore_patterns(
    ".git", "__pycache__", "*.py[co]", ".DS_Store", ".venv", ".terraform", "*.egg-info",
    ".pytest_cache", ".mypy_cache", ".ruff_cache", "node_modules",
)  # fmt: skip
_NUMBERED = re.compile(r"^(\d{4})-")
_SECTION = re.compile(r"^##[ \t]+(.+?)[ \t]*#*[ \t]*$")

HOME_README = """\
# Knowledge home

This repository is the team's scaffold home: the templates new projects start from and the
written knowledge that `scaffold context` selects for every task.

- `context/` - patterns, architecture, style, runbooks, decisions (ADRs), incidents
  (postmortems), anti-patterns and per-project notes; `context/context.yml` maps each kind
  of task to its documents.
- `templates/`, `includes/`, `copier.yml` - the Copier templates (`scaffold new`).

Add documents with `scaffold new-decision "TITLE"`, `scaffold new-incident "TITLE"` and
`scaffold new-runbook "TITLE"`, edit, commit, and tag a release (`git tag v0.2.0`) when
templates change so that `copier update` can move generated projects forward.
"""
# Written beside the README: what a scaffold command killed mid-write (SIGKILL, a power cut) can leave.
HOME_GITIGNORE = """\
# A scaffold command killed while writing leaves a hidden copy of the file beside it; a later
# `scaffold new-decision` (new-incident, new-runbook) in that folder removes it.
.*.scaffold-tmp
# macOS Finder's settings for a folder: never a document.
.DS_Store
"""
# What `init` writes into a new home beside the bundled layout.
_HOME_FILES = {"README.md": HOME_README, ".gitignore": HOME_GITIGNORE}


@dataclass(frozen=True)
class KnowledgeHome:
    """A resolved knowledge home and where the choice came from ("flag", "env", "config", "default")."""

    root: Path
    origin: str

    @property
    def context_dir(self) -> Path:
        return self.root / "context"

    @property
    def is_bundled(self) -> bool:
        return self.origin == "default"

    def note(self) -> str | None:
        """The one-line note for a run that falls back to the bundled context."""
        if not self.is_bundled:
            return None
        return (
            f"no knowledge home configured; using the bundled context in {self.context_dir} "
            "(create your own with `scaffold init`, or set SCAFFOLD_HOME)"
        )


def resolve_home(config: settings.Settings) -> KnowledgeHome:
    """The knowledge home to use (see the module docstring for the precedence)."""
    resolved = config.home
    if resolved.value is None:
        resolved = settings.Resolved(str(settings.bundled_root()), "default")
    root = Path(str(resolved.value)).expanduser()
    if resolved.origin != "default" and not (root / "context").is_dir():
        raise HomeError(f"{root} (from {settings.HOME.where(resolved.origin)}) {_not_a_home(root, resolved.origin)}")
    return KnowledgeHome(root, resolved.origin)


def record_again(root: Path, origin: str) -> str | None:
    """The fix for a home the user config records (`origin`) at `root`, gone (moved): init records its new
    place. None for one given by $SCAFFOLD_HOME or --home, which outrank what init records, or still there."""
    return (
        "`scaffold init NEW-PLACE` records a home that is there" if origin == "config" and not root.exists() else None
    )


def _not_a_home(root: Path, origin: str) -> str:
    """Why `root` (from the setting's `origin`) is no knowledge home, and the likeliest fix: a moved
    clone, or its context/ folder named."""
    if (root / "context.yml").is_file() or (root.name == "context" and (root.parent / ".git").exists()):
        return f"is the context/ folder of a knowledge home; give the folder above it: {root.parent}"
    if root.is_file():
        return "is a file; give the knowledge home's folder, the one that holds context/"
    if not root.exists():
        again = f" ({fix})" if (fix := record_again(root, origin)) else ""
        return (
            f"does not exist (moved or deleted?); point it at the home's new place{again}, or clone the team's "
            f"home there, or create a new one with `scaffold init {shell_argument(root)}`"
        )
    if root.is_dir() and _holds_anything(root):
        # `scaffold init` refuses a folder holding other things: name one it takes.
        return (
            "is not a scaffold knowledge home: it has no context/ folder; give the home's folder, or create "
            "one in a new or empty folder with `scaffold init FOLDER`"
        )
    return (
        "is not a scaffold knowledge home: it has no context/ folder; create one with "
        f"`scaffold init {shell_argument(root)}`"
    )


def shell_argument(path: Path) -> str:
    """`path` as a shell command's argument: quoted, and not taken for an option (`./-gone`)."""
    text = str(path)
    return shlex.quote(f"./{text}" if text.startswith("-") else text)


def _holds_anything(folder: Path) -> bool:
    """Whether `folder` holds anything; an unreadable one is taken to (a message must not fail)."""
    try:
        return any(folder.iterdir())
    except OSError:
        return True


def default_home_dir() -> Path:
    """Where `scaffold init` puts the home when no folder is given."""
    return settings.user_data_dir() / "home"


def is_home(path: Path) -> bool:
    """Whether `path` already looks like a knowledge home (context.yml and copier.yml)."""
    return (path / "context" / "context.yml").is_file() and (path / "copier.yml").is_file()


# --- scaffold init ---------------------------------------------------------------------------


@dataclass(frozen=True)
class InitResult:
    """What `init_home` did: the home, whether it already existed, the config it recorded in, and
    the home recorded there before if it was another one."""

    root: Path
    adopted: bool
    config_path: Path
    replaced: Path | None = None
    # Made in an empty clone (only `.git`, no ref) with an `origin`: where the message says to push.
    in_clone: bool = False


def _other_home(recorded: object, root: Path) -> Path | None:
    """The home the user config records if it is another folder than `root`; None for `root`, and
    for a value that is no path (`init` is how such a config is mended)."""
    if not isinstance(recorded, str) or not recorded.strip() or "\0" in recorded:
        return None
    recorded_path = Path(recorded)
    try:
        recorded_path = recorded_path.expanduser()  # `home: ~/kh` is the folder a user reads it as
        same = recorded_path.resolve() == root
    except (OSError, RuntimeError):  # a loop of links, no HOME for ~
        same = False
    return None if same else recorded_path


def init_home(dest: Path | None = None) -> InitResult:
    """Create a knowledge home at `dest` (or adopt an existing one) and record it.

    A new or empty folder gets the bundled context/, templates/, includes/ and copier.yml,
    a README, one commit and the tag v0.1.0. A folder that already is a knowledge home (a
    clone of the team's, say) is only recorded. Any other non-empty folder is refused.
    """
    root = (dest or default_home_dir()).expanduser().resolve()
    before = settings.load_user_config().get("home")  # a broken config must fail before anything is written
    replaced = _other_home(before, root)
    if root.exists() and not root.is_dir():
        raise DestinationError(f"{root} exists and is not a folder; choose a new or empty folder")
    # An empty git repository given (`_empty_repository`: whether it has an origin); None for none.
    repository: bool | None = None
    if root.is_dir() and any(root.iterdir()):
        if is_home(root):
            with Transaction() as transaction:
                return _record(transaction, root, adopted=True, replaced=replaced)
        # "Create the repository on the git server, clone it, init it": the usual way to start one.
        repository = _empty_repository(root)
        if repository is None:
            raise DestinationError(f"{root} is not empty and is not a scaffold home; {_why_not_empty(root)}")
    # Here, not at the top: every `scaffold context` resolves its home through this module, and only a
    # new home needs git and the bundle's layout (they import `subprocess`: 2.5 ms of every run).
    from generator.template.bundle import REPO_LAYOUT

    source = settings.bundled_root()
    missing = [item for item in REPO_LAYOUT if not (source / item).exists()]
    if missing:
        raise TemplateSourceError(f"the bundled copy in {source} lacks {', '.join(missing)}; reinstall scaffold")

    # The folders init creates, innermost first: taken away again if init does not finish.
    created = list(itertools.takewhile(lambda folder: not folder.exists(), (root, *root.parents)))
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:  # a parent that is a file, a read-only or pseudo file system (/proc)
        if dest is None:  # the per-user data folder: the machine's trouble, as README's exit 5 says
            raise MachineError(
                f"cannot create {root}: {error.strerror or error}; check that HOME (or XDG_DATA_HOME) is a folder you "
                "can write, or give init a folder"
            ) from error
        # A folder given: a bad choice, as `new-* --dest` says of one.
        message = f"cannot create {root}: {error.strerror or error}; choose a folder you can write to"
        raise DestinationError(message) from error
    with Transaction() as transaction:
        try:
            _make_home(root, source, REPO_LAYOUT)
            return _record(transaction, root, adopted=False, replaced=replaced, in_clone=bool(repository))
        except BaseException:
            if transaction.done is None:  # a home made but never recorded is taken away again
                with signals_held():  # whole: a second Ctrl-C left a home with no commit, which init then adopted
                    _remove_made(root, created, keep_git=repository is not None)
            raise


def _empty_repository(root: Path) -> bool | None:
    """For a folder holding only a git repository of its own with no commit yet: whether it has a remote
    named `origin` (a clone of an empty repository, to push to, as the message says); None for
    anything else."""
    from generator.plumbing import gitutil

    if [child.name for child in root.iterdir()] != [".git"]:
        return None
    git_dir = root / ".git"
    if git_dir.is_symlink() or not git_dir.is_dir():  # a worktree's or a submodule's `.git` file: not its own
        return None
    found = gitutil.git("rev-parse", "--absolute-git-dir", cwd=root, check=False).strip()
    if not found or Path(found).resolve() != git_dir.resolve():  # a broken `.git`, or another repository's
        return None
    if gitutil.git("rev-parse", "--is-inside-work-tree", cwd=root, check=False).strip() != "true":
        return None  # a bare repository as `.git`: no work tree to commit from
    # No ref at all, not only no commit on HEAD: a clone whose remote's default branch is unborn may
    # hold other branches and tags (its own v0.1.0, which init's undo would then delete).
    if gitutil.git("for-each-ref", "--count=1", cwd=root, check=False).strip():
        return None
    if gitutil.git("rev-parse", "-q", "--verify", "HEAD", cwd=root, check=False).strip():
        return None
    return "origin" in gitutil.git("remote", cwd=root, check=False).split()


def _why_not_empty(root: Path) -> str:
    """What to do about a folder init will not use: one holding only a git repository that is not empty
    (a clone of a repository created with a README, or with branches or tags; a bare or broken `.git`)
    gets its own advice."""
    from generator.plumbing import gitutil

    if [child.name for child in root.iterdir()] == [".git"] and (root / ".git").is_dir():
        if gitutil.git("rev-parse", "-q", "--verify", "HEAD", cwd=root, check=False).strip():
            what = "it is a git repository with commits"
        else:
            what = "its .git is no empty repository of its own (it has branches or tags, or is bare or broken)"
        return (
            f"{what}; create the team's repository empty (no README) and clone that, or run scaffold init in a "
            "new folder and push it there"
        )
    return "choose a new or empty folder (or an empty git clone)"


def _make_home(root: Path, source: Path, layout: Sequence[str]) -> None:
    """Copy the bundled `layout` from `source` into the empty folder `root`, add a README and a
    .gitignore, and commit and tag it all in a new git repository."""
    from generator.plumbing import gitutil

    failed: list[OSError] = []  # copytree keeps each file's error as text only: the first kept whole, errno and all

    def copy(source_file: str, target: str) -> object:
        try:
            return shutil.copy2(source_file, target)
        except OSError as error:
            failed.append(error)
            raise

    try:
        for item in layout:
            if (source / item).is_dir():
                shutil.copytree(source / item, root / item, ignore=_IGNORE, symlinks=False, copy_function=copy)
            else:
                copy(str(source / item), str(root / item))
        for name, text in _HOME_FILES.items():
            (root / name).write_text(text, encoding="utf-8")
    except OSError as error:  # a full disk, `ulimit -f` (shutil.Error too): the home's trouble, not the source's
        raise _cannot_write(root, failed[0] if failed else error) from None
    # Signals held: one landing inside `Popen` after its fork left git running on its own, to make
    # `.git` again after the cleanup. Held, git finishes and the interrupt lands after it.
    with signals_held():
        if not (root / ".git").exists():  # an empty clone keeps its own, with its remote and branch
            gitutil.git("init", "-q", "-b", "main", cwd=root)
        gitutil.commit_all(root, "Start the scaffold knowledge home")
        gitutil.git("tag", INITIAL_TAG, cwd=root)


def _cannot_write(root: Path, error: OSError) -> MachineError:
    """One line for a copy into the new home that failed: by its errno (the words of the reason are in
    the user's language), or a `shutil.Error` that copytree gathered with no file's error (a folder's)."""
    if isinstance(error, shutil.Error):
        gathered = error.args[0] if error.args and isinstance(error.args[0], list) else []
        reason = str(gathered[0][2]) if gathered and len(gathered[0]) == 3 else one_line(error)
    else:
        reason = error.strerror or one_line(error)
    fix = (
        "that the disk has room and that no file-size limit (ulimit -f) stops it"
        if disk_full(error)
        else "that you can write there"
    )
    return MachineError(
        f"cannot write the knowledge home in {root}: {reason}; check {fix}, then run scaffold init again"
    )


def _record(
    transaction: Transaction, root: Path, *, adopted: bool, replaced: Path | None, in_clone: bool = False
) -> InitResult:
    """Record `root` as the user's home: the commit point of `init`, so an interrupt lands before it
    (a home made for it is taken away again) or after it (the message says the home is recorded)."""
    try:
        with transaction.commit("init.record", root=root):
            config = settings.save_user_config({"home": str(root)})
            recorded = InitResult(root, adopted, config, replaced, in_clone)
            transaction.landed(recorded)
    except OSError as error:  # a full disk, a config folder that cannot be written
        kept = "nothing was changed" if adopted else "the home made for it was not kept"
        fix = advice_for(error)
        if error.errno == errno.EROFS:  # the config's place is the user's choice: another one, kept for later runs
            fix = "set SCAFFOLD_CONFIG (in your shell's profile, for later runs too) to a file on one you can write"
        raise MachineError(
            f"cannot record {root} as your knowledge home in {settings.user_config_path()}: "
            f"{error.strerror or error}; {kept}; {fix}, then run scaffold init again"
        ) from error
    return recorded


def _remove_made(root: Path, created: list[Path], *, keep_git: bool = False) -> None:
    """Take away what `init` made: `root` if it `created` it, with the folders above it it created
    while they are empty; else only what it put in `root` (a file someone else wrote there stays).
    The `.git` of an empty repository init was given (`keep_git`) is the user's: it stays, with no
    commit, tag or staged file of init's."""
    from generator.plumbing import gitutil
    from generator.template.bundle import REPO_LAYOUT

    if root not in created:
        for child in [root / item for item in (*REPO_LAYOUT, *_HOME_FILES, *(() if keep_git else (".git",)))]:
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
        if keep_git:
            gitutil.git("tag", "-d", INITIAL_TAG, cwd=root, check=False)
            gitutil.git("update-ref", "-d", "HEAD", cwd=root, check=False)  # the branch: unborn again
            gitutil.git("read-tree", "--empty", cwd=root, check=False)
        return
    shutil.rmtree(root, ignore_errors=True)
    for folder in created[1:]:
        try:
            folder.rmdir()
        except OSError:  # not empty: someone else's now
            break


# --- new-decision, new-incident, new-runbook -------------------------------------------------


def slugify(title: str) -> str:
    """A file-name slug (`sections.name_form`), at most 60 characters."""
    slug = name_form(title)
    if len(slug) > 60:
        slug = slug[:60].rsplit("-", 1)[0]
    return slug or "untitled"


def _number_of(name: str) -> int | None:
    """The NNNN- number a document's file name starts with, if it has one."""
    found = _NUMBERED.match(name)
    return int(found.group(1)) if found else None


def next_number(folder: Path) -> int:
    """One more than the highest NNNN- prefix in `folder` (1 for none). A folder that cannot be listed
    (writable, not readable: mode 0311) is an OSError, not an empty folder: that took 0001 again."""
    return max((number for child in folder.iterdir() if (number := _number_of(child.name)) is not None), default=0) + 1


# Documents of the same title a warning names; the rest are counted.
_SAME_NAMED = 3


@dataclass(frozen=True)
class NewDocument:
    """What `new_document` wrote, and what its caller tells the user."""

    path: Path
    doc_kind: str  # "decision", "incident" or "runbook"
    # The kinds of secret the title seemed to hold: the file name leaves them out, the heading does not.
    secrets: tuple[str, ...] = ()
    # Older documents of its folder with the same title: a second `new-decision` for one decision.
    same_title: tuple[Path, ...] = ()

    @property
    def home(self) -> Path:
        """The knowledge home it was written in (`HOME/context/<folder>/NNNN-title.md`): where to commit it."""
        return self.path.parents[2]

    def warnings(self) -> list[str]:
        """What the user should do about it, a line each (the CLI's warnings, the MCP tool's)."""
        said = []
        if self.same_title:  # one line, however many: a folder of 300 "Deploy" runbooks gave 300
            named = ", ".join(other.name for other in self.same_title[:_SAME_NAMED])
            more = f" and {len(self.same_title) - _SAME_NAMED} more" if len(self.same_title) > _SAME_NAMED else ""
            which = "that one" if len(self.same_title) == 1 else "one of them"
            have = "has" if len(self.same_title) == 1 else "have"
            said.append(
                f"{named}{more} already {have} this title; if it is the same {self.doc_kind}, delete "
                f"{self.path.name} and edit {which}"
            )
        if self.secrets:
            said.append(
                f"the title seems to hold a secret ({', '.join(self.secrets)}): the file name leaves it out, its "
                f"heading does not; edit it out of {self.path.name} before you commit it"
            )
        return said


def new_document(
    doc_kind: str,
    title: str,
    home: str | Path | None = None,
    when: date | None = None,
    *,
    sections: Mapping[str, str] | None = None,
    fields: Mapping[str, str] | None = None,
) -> NewDocument:
    """Add `<folder>/NNNN-<slug>.md` from the home's doc template and return its path, with what the
    user should hear of: a secret the title seemed to hold, kept out of the file name (which is
    committed, pushed, and listed lowercased, past what the redaction of names recognises), and
    older documents of the same title.

    `sections` fill the template's `## Heading` sections by heading (matched by its words, so
    "root_cause" fills "## Root cause" and "timeline" fills "## Timeline (UTC)"), replacing the
    template's guidance under it; a heading the template lacks is added at the end. `fields` set
    the header lines' values by name ("status" sets "Status: Proposed", "owner" the runbook's
    "Owner: team-name"); one the template lacks is added under the title.
    """
    if doc_kind not in DOC_FOLDERS:
        raise UsageError(f"unknown document kind {doc_kind!r} (expected one of: {', '.join(DOC_FOLDERS)})")
    # MCP's texts can hold a NUL, which made a document that `scaffold context` then skipped.
    texts = [("title", title)]
    for what, given in (("section", sections), ("field", fields)):
        for name, value in (given or {}).items():
            texts += [(f"{what} name", name), (f"{what} {name!r}", value)]
    for what, text in texts:
        check_text(f"{doc_kind} {what}", text)
    title = " ".join(title.split())
    if not title:
        raise UsageError(f'the {doc_kind} title is empty; give a short title, e.g. "{_EXAMPLE_TITLES[doc_kind]}"')
    unnamed = [value for name, value in (sections or {}).items() if not heading_key(name) and value.strip()]
    if unnamed:
        raise UsageError(f"a {doc_kind} section needs a heading; name each section, e.g. {{'Context': '...'}}")
    knowledge = resolve_home(settings.Settings.load(home=home))
    if knowledge.is_bundled:
        raise HomeError(
            "no knowledge home configured, and the bundled one is read-only: create yours with "
            "`scaffold init [DIR]`, or pass --home / set SCAFFOLD_HOME"
        )
    folder = knowledge.context_dir / DOC_FOLDERS[doc_kind]
    for link in (knowledge.context_dir, folder):
        if link.is_symlink():
            # Written through, the document would land where the link leads, out of the home's repository,
            # and `scaffold context` would never read it.
            raise HomeError(
                f"{link} is a symbolic link; scaffold never writes through links: replace it with the folder it "
                "points to (or a copy of it)"
            )
    template = _doc_template(knowledge, doc_kind)
    from generator.context.redact import cut_secrets

    day = (when or date.today()).isoformat()
    # The document as it will be written (but for its number), scanned for what its name must leave out.
    written = fill_placeholders(template, number="0000", title=title, date=day)
    named_after, secrets = cut_secrets(title, fill_document(written, sections or {}, fields or {}))
    slug = slugify(named_after)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Locked: two runs at once (an assistant writing decisions in parallel) took one number.
        with folder_lock(folder), Transaction() as transaction:
            number = next_number(folder)
            # A run killed (SIGKILL) between writing and linking left its copy: one whose number a document
            # has since taken, not one a run beside this one (unlocked, on NFS) is writing now.
            remove_stale_temps(folder, left=lambda name: (found := _number_of(name)) is not None and found < number)
            for _ in range(20):
                text = fill_placeholders(template, number=f"{number:04d}", title=title, date=day)
                text = fill_document(text, sections or {}, fields or {})
                path = folder / f"{number:04d}-{slug}.md"
                # The commit point: an interrupt leaves no document, or a whole one the message names.
                with transaction.commit("document.write", path=path):
                    try:
                        write_new(path, text)
                    except FileExistsError:  # another command took the number first
                        number = next_number(folder)
                        continue
                    transaction.landed(NewDocument(path, doc_kind, secrets))
                return NewDocument(path, doc_kind, secrets, tuple(same_title(path)))
    except OSError as error:
        # A read-only or full file system is the machine's trouble (exit 5), as everywhere else.
        kind = MachineError if machine_trouble(error) else HomeError
        raise kind(f"cannot write to {folder}: {error.strerror or error}") from None
    raise HomeError(f"could not find a free number in {folder}")


_EXAMPLE_TITLES = {
    "decision": "Use PostgreSQL for orders",
    "incident": "Checkout returned 502s after the 2.3 deploy",
    "runbook": "Rotate the database credentials",
}


def same_title(path: Path) -> list[Path]:
    """Other documents in `path`'s folder with its title, by name: those with the same heading but for
    its number (`0007. ` and `0004. `), numbered or not, whatever their file names (`rollback.md` is
    "Roll back a release"; an ADR's name is often shorter than its title). The headings are compared,
    not the slugs alone: titles in other scripts, or of only punctuation, are all named "untitled",
    and an older one retitled since is another document. A template whose title is no `# ` line
    (front matter) leaves the slugs to tell: numbered documents named after the same words."""
    match = _NUMBERED.match(path.name)
    slug = path.name[match.end() :] if match else path.name
    mine = _title_of(path)
    found: list[Path] = []
    for other in path.parent.iterdir():  # only when a document is written: the folder's headings, 4 KB each
        if other == path or other.name.startswith(".") or other.suffix != ".md":
            continue
        numbered = _NUMBERED.match(other.name)
        same_slug = numbered is not None and other.name[numbered.end() :] == slug
        theirs = _title_of(other) if mine is not None or same_slug else None
        if (mine is not None and theirs == mine) or (same_slug and (mine is None or theirs is None)):
            found.append(other)
    return sorted(found)


def _title_of(path: Path) -> str | None:
    """A document's first `# ` line, its number (its file name's, as the template wrote it: `0007. `,
    `ADR 0007: `) with the punctuation around it, and the punctuation that ends a sentence left out,
    in one case and Unicode form; None if it has none in its first lines, or cannot be read as the
    index reads a document (`read_bytes`: no link out, no FIFO to wait on)."""
    number = _NUMBERED.match(path.name)
    try:
        head = read_bytes(path.parent, path.name, limit=_TITLE_WITHIN).decode("utf-8", errors="replace")
    except OSError:
        return None
    for line in head.splitlines():
        if line.startswith("# "):
            title = line[2:].replace(number.group(1), "", 1) if number else line[2:]
            title = " ".join(unicodedata.normalize("NFKC", title).casefold().split())
            # "0007. Use PostgreSQL for data." is the title of "Use PostgreSQL for data" (an older template's);
            # "Use C++" and "Use C#" are not "Use C"; "!!!" and "???" (both named "untitled") are themselves.
            return title.lstrip(_TITLE_LEADING).rstrip(_SENTENCE_END) or title
    return None


# Around a heading's number ("0007. ", "ADR 0007: " less its number; dashes too), and what ends a
# sentence (after NFKC, which makes an ellipsis "..." and full-width marks ASCII; the ideographic full stop stays).
_TITLE_LEADING = " .:)-\u2013\u2014"
_SENTENCE_END = " .!?:;,\u3002"


# Where a document's title line is looked for: its first bytes (a template puts it first).
_TITLE_WITHIN = 4096


def heading_key(text: str) -> str:
    """A heading or a section name as words joined by '_', without a parenthesised note: "Root cause",
    "root_cause" and "Timeline (UTC)" give "root_cause", "root_cause" and "timeline"."""
    return "_".join(re.findall(r"[a-z0-9]+", re.sub(r"\([^)]*\)", " ", text.lower())))


def fill_document(text: str, sections: Mapping[str, str], fields: Mapping[str, str]) -> str:
    """A document skeleton with `sections` and `fields` filled in (see `new_document`)."""
    lines = text.rstrip("\n").split("\n")
    first_section = next((i for i, line in enumerate(lines) if _SECTION.match(line)), len(lines))
    head, body = _fill_fields(lines[:first_section], fields), lines[first_section:]
    wanted = {heading_key(name): value.strip("\n") for name, value in sections.items() if value.strip()}
    out: list[str] = []
    skipping = False
    for line in body:
        match = _SECTION.match(line)
        if match:
            skipping = False
            key = heading_key(match.group(1))
            out.append(line)
            if key in wanted:
                out.extend(["", wanted.pop(key), ""])
                skipping = True
            continue
        if not skipping:
            out.append(line)
    named = {heading_key(name): name for name in sections}
    for key, value in wanted.items():
        out.extend(["", f"## {_heading_text(named[key])}", "", value, ""])
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(head + out) + "\n"


def _fill_fields(lines: list[str], fields: Mapping[str, str]) -> list[str]:
    """The header lines with each field's value replaced (or the field added after the last header line)."""
    result = list(lines)
    for name, raw in fields.items():
        value = " ".join(str(raw).split())
        if not value:
            continue
        label = " ".join(heading_key(name).split("_"))
        pattern = re.compile(rf"(?i)(?<![\w-])({re.escape(label)}):[ \t]*(.*?)(?=\.[ \t]+[A-Z][\w ]*:|[ \t]*$)")
        for index, line in enumerate(result):
            match = pattern.search(line)
            if match:
                result[index] = f"{line[: match.start()]}{match.group(1)}: {value}{line[match.end() :]}"
                break
        else:
            last = max((i for i, line in enumerate(result) if re.match(r"^[A-Z][\w ]*:", line)), default=0)
            result.insert(last + 1, f"{label.capitalize()}: {value}")
    return result


def _heading_text(name: str) -> str:
    """A section name as a heading: a key ("root_cause") is "Root cause"; a name written as a heading
    keeps its capitals, notes and underscores ("API limits (v2)", "`max_connections` tuning")."""
    words = " ".join(name.split()).lstrip("#").strip()
    if " " not in words:
        words = words.replace("_", " ")
    return words[:1].upper() + words[1:]


def _doc_template(knowledge: KnowledgeHome, doc_kind: str) -> str:
    """The home's own template for a document kind, else the bundled one.

    A template of the home's that is there but cannot be used is an error, not a reason to use
    the bundled one: a document in another format than the team's would be written silently.
    """
    name = f"_templates/{doc_kind}.md"
    try:
        return read_bytes(knowledge.context_dir, name).decode("utf-8")  # not a link out
    except FileNotFoundError:
        if (knowledge.context_dir / name).is_symlink():
            raise HomeError(f"{knowledge.context_dir / name}: a symlink to a file that does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        reason = (
            "it is not UTF-8 text"
            if isinstance(error, UnicodeDecodeError)
            else why_unreadable(error, "the context folder")
        )
        fix = "fix it, or remove it to use the bundled template"
        raise HomeError(f"{knowledge.context_dir / name}: cannot read it: {reason} ({fix})") from None
    try:
        return read_bytes(settings.bundled_root() / "context", name).decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return "# $number. $title\n\nDate: $date\n"  # an install missing its data files still writes one

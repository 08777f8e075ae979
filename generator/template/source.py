"""The template source: which template repository to render from, and what it offers.

Sources, in the order `settings` resolves them: `--templates`, SCAFFOLD_TEMPLATES, the
user config, the knowledge home (`scaffold init`), then the templates shipped with
scaffold - the checkout itself when running from one, else the git bundle from the
wheel, copied to a stable per-user path and recorded as `~/...` so that plain
`copier update` finds it again after scaffold is upgraded.

Reading a source's copier.yml here needs no Copier import: `scaffold list` stays fast.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from generator import __version__, settings
from generator.errors import (
    ExternalToolError,
    TemplateSourceError,
    UnknownTemplateError,
    describe_yaml_error,
)
from generator.plumbing import gitutil
from generator.plumbing.atomic import replacing
from generator.results import PassedOver

if TYPE_CHECKING:
    from jinja2.sandbox import SandboxedEnvironment

BUNDLE_NAME = "templates.bundle"
# A source git fetches (Copier's forms: a URL, `git@host:`, its shorthands, `git+` before any of them or a path).
_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|git@|gh:|gl:|git\+)", re.IGNORECASE)


def is_remote(source: str) -> bool:
    """Whether a template source is fetched by git (`git_url` turns it into git's form), not a folder here."""
    return _REMOTE.match(source) is not None


@dataclass(frozen=True)
class Question:
    """A question as declared in copier.yml, reduced to what scaffold checks itself."""

    name: str
    type: str
    default: Any
    help: str
    choices: list[Any] = field(default_factory=list)
    validator: str = ""
    # (value, validator) of choices declared as {value: ..., validator: ...}: Copier disables such a choice
    # while its validator renders a message.
    choice_validators: tuple[tuple[Any, str], ...] = ()


@dataclass(frozen=True)
class TemplateInfo:
    name: str
    description: str


@dataclass(frozen=True)
class RepoConfig:
    """A template repository's root copier.yml with its includes resolved."""

    root: Path
    data: dict[str, Any]

    @property
    def templates(self) -> list[TemplateInfo]:
        """The templates/ folders, in the order of the `template` question's choices, then by name."""
        folders = {
            p.name for p in (self.root / "templates").iterdir() if p.is_dir() and not p.name.startswith((".", "_"))
        }
        spec = self.data.get("template")
        choices = spec.get("choices", {}) if isinstance(spec, dict) else {}
        labels: dict[str, str] = {}
        if isinstance(choices, dict):
            for label, value in choices.items():
                name, _, description = str(label).partition(" - ")
                labels[str(value)] = description.strip() or name
        ordered = [name for name in labels if name in folders] + sorted(folders - set(labels))
        return [TemplateInfo(name, labels.get(name, "")) for name in ordered]

    def questions(self, template: str, answers: Mapping[str, Any] | None = None) -> dict[str, Question]:
        """Questions that apply to `template`, in order: the root's shared ones and the template's own.

        A question's `when` is evaluated against the answers given so far (and the
        defaults of earlier questions), as Copier would; `when: false` marks values
        that are computed, never asked.
        """
        return self._walk(template, answers or {})[0]

    def default_answers(self, template: str, answers: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The answers Copier ends with under `--defaults`: `answers`, `template`, and for every other
        question (computed ones too) its default rendered with the answers before it. A default that
        cannot be rendered here is kept as its raw text."""
        return self._walk(template, answers or {})[1]

    def question(self, name: str) -> Question | None:
        """Question `name` as declared, whichever template it belongs to."""
        spec = self.data.get(name)
        if name.startswith("_") or spec is None:
            return None
        return _question(name, spec if isinstance(spec, dict) else {"default": spec})

    def rejection(self, question: Question, answers: Mapping[str, Any]) -> str:
        """What `question`'s validator (then the chosen choice's) says of `answers[question.name]`, on one line.

        "" when it accepts the answer, and also when scaffold cannot judge, leaving the answer to Copier's
        own check: the validator refers to a question missing from `answers` (Copier will ask it, so its
        answer is not known yet), or fails to render here.
        """
        from jinja2 import meta

        value = answers[question.name]
        chosen = [validator for choice, validator in question.choice_validators if choice == value]
        context = dict(answers)
        for validator in filter(None, [question.validator, *chosen]):
            try:
                needed = meta.find_undeclared_variables(self.jinja.parse(validator))
                if needed & (self._question_names - context.keys()):
                    continue
                message = " ".join(self.jinja.from_string(validator).render(context).split())
            except Exception:  # a template's Jinja can raise anything; Copier reports it in its own words
                continue
            if message:
                return message
        return ""

    @cached_property
    def jinja(self) -> SandboxedEnvironment:
        """The Jinja environment Copier renders questions with, built without importing Copier: a sandbox
        with the Ansible filters Copier adds (`regex_search`, `to_nice_yaml`, ...) and the repository's
        `_envops`, but Jinja's lenient `Undefined` always, so a missing answer renders empty instead of
        failing a listing."""
        from jinja2 import Undefined
        from jinja2.sandbox import SandboxedEnvironment
        from jinja2_ansible_filters import AnsibleCoreFiltersExtension

        envops = self.data.get("_envops")
        options = {k: v for k, v in envops.items() if k != "undefined"} if isinstance(envops, dict) else {}
        try:
            return SandboxedEnvironment(extensions=[AnsibleCoreFiltersExtension], undefined=Undefined, **options)
        except TypeError:  # an option this Jinja does not know: Copier reports that itself, when it renders
            return SandboxedEnvironment(extensions=[AnsibleCoreFiltersExtension], undefined=Undefined)

    @cached_property
    def _own_questions(self) -> dict[str, frozenset[str]]:
        """Each template's own question names, from its questions.yml."""
        return {
            info.name: frozenset(
                key
                for doc in _load_yaml_docs(self.root / "templates" / info.name / "questions.yml", self.root)
                for key in doc
            )
            for info in self.templates
        }

    @cached_property
    def _question_names(self) -> frozenset[str]:
        return frozenset(name for name in self.data if not name.startswith("_"))

    def _walk(self, template: str, answers: Mapping[str, Any]) -> tuple[dict[str, Question], dict[str, Any]]:
        """Copier's questionnaire under `--defaults`, asking nothing: the questions that apply, and the answers."""
        own = self._own_questions.get(template, frozenset())
        others = {key for name, keys in self._own_questions.items() if name != template for key in keys} - own
        context: dict[str, Any] = {"template": template, **answers}
        questions: dict[str, Question] = {}
        for name, spec in self.data.items():
            if name.startswith("_") or name in others:
                continue
            if not isinstance(spec, dict):
                spec = {"default": spec}
            if self._applies(spec.get("when", True), context):
                questions[name] = _question(name, spec)
            if name not in context and "default" in spec:
                context[name] = self._default(spec, context)
        return questions, context

    def _applies(self, when: Any, context: Mapping[str, Any]) -> bool:
        """Evaluate a question's `when`; anything we cannot evaluate counts as applicable."""
        if isinstance(when, bool):
            return when
        if not isinstance(when, str):
            return bool(when)
        try:
            rendered = self.jinja.from_string(when).render(dict(context)).strip()
        except Exception:  # a template's Jinja can raise anything; asking too much is the safe side
            return True
        return rendered.lower() not in {"", "false", "no", "0", "none", "off", "n"}

    def _default(self, spec: Mapping[str, Any], context: Mapping[str, Any]) -> Any:
        """A question's default rendered with `context` and read as its type (YAML reads "8000", "true"
        and JSON as Copier's casts do); the raw text when it cannot be rendered."""
        default = spec.get("default")
        if not isinstance(default, str):
            return default
        try:
            rendered = self.jinja.from_string(default).render(dict(context))
        except Exception:  # a template's Jinja can raise anything; the raw text still tells the reader something
            return default
        if str(spec.get("type", "str")) == "str":
            return rendered
        import yaml

        try:
            return yaml.safe_load(rendered)
        except yaml.YAMLError:
            return rendered


def _question(name: str, spec: Mapping[str, Any]) -> Question:
    return Question(
        name=name,
        type=str(spec.get("type", "str")),
        default=spec.get("default"),
        help=str(spec.get("help", "")),
        choices=_choice_values(spec.get("choices")),
        validator=str(spec.get("validator") or ""),
        choice_validators=_choice_validators(spec.get("choices")),
    )


def _choice_values(choices: Any) -> list[Any]:
    """The values of Copier's choice forms: a list, a label->value mapping, [label, value] pairs,
    or values given as {value: ..., validator: ...}."""
    items = list(choices.values()) if isinstance(choices, dict) else list(choices or [])
    values: list[Any] = []
    for item in items:
        if isinstance(item, dict):
            values.append(item.get("value"))
        elif isinstance(item, list | tuple) and len(item) == 2:
            values.append(item[1])
        else:
            values.append(item)
    return values


def _choice_validators(choices: Any) -> tuple[tuple[Any, str], ...]:
    """(value, validator) of each choice given as {value: ..., validator: ...}, in any of Copier's choice forms."""
    items = list(choices.values()) if isinstance(choices, dict) else list(choices or [])
    pairs: list[tuple[Any, str]] = []
    for item in items:
        if isinstance(item, list | tuple) and len(item) == 2:
            item = item[1]
        if isinstance(item, dict) and item.get("validator"):
            pairs.append((item.get("value"), str(item["validator"])))
    return tuple(pairs)


def _loader_for(path: Path, root: Path) -> Any:
    """A YAML loader for `path` whose `!include` reads the files a glob matches, as Copier's does."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def include(loader: Any, node: Any) -> list[Any]:
        pattern = str(loader.construct_scalar(node))
        docs: list[Any] = []
        for included in _included_files(path, root, pattern):
            docs.extend(_load_yaml_docs(included, root))
        return docs

    Loader.add_constructor("!include", include)
    return Loader


def _included_files(path: Path, root: Path, pattern: str) -> list[Path]:
    """The files `!include pattern` in `path` names: relative to the repository root and inside it.

    Copier (`load_template_config`) refuses the same two cases, so a template scaffold lists
    is one Copier renders.
    """
    if PurePosixPath(pattern).is_absolute():
        raise TemplateSourceError(
            f"{path}: '!include {pattern}' is an absolute path; include files by their path relative to {root}"
        )
    top = root.resolve()
    found = sorted(match.resolve() for match in root.glob(pattern))
    for match in found:
        if not match.is_relative_to(top):
            raise TemplateSourceError(
                f"{path}: '!include {pattern}' reaches {match}, outside the template repository {top}; "
                "move the file into the repository"
            )
    return found


def _load_yaml_docs(path: Path, root: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    import yaml

    try:
        loaded = list(yaml.load_all(path.read_text(encoding="utf-8"), Loader=_loader_for(path, root)))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise TemplateSourceError(f"cannot read {path}: {describe_yaml_error(error)}") from None
    docs: list[dict[str, Any]] = []
    for doc in loaded:
        items = doc if isinstance(doc, list) else [doc]
        docs.extend(item for item in items if isinstance(item, dict))
    return docs


def load_repo_config(root: Path) -> RepoConfig:
    """Read `root/copier.yml`; the later of two documents wins, as in Copier."""
    config = root / "copier.yml"
    if not config.is_file():
        raise TemplateSourceError(
            f"{root} is not a scaffold template repository: it has no copier.yml at its root "
            "(run 'scaffold init' to create one, or point --templates at one)"
        )
    if not (root / "templates").is_dir():
        raise TemplateSourceError(f"{root} has no templates/ folder; see docs/updates.md, 'Template repositories'")
    merged: dict[str, Any] = {}
    for doc in _load_yaml_docs(config, root):
        merged.update(doc)
    return RepoConfig(root=root, data=merged)


@dataclass(frozen=True)
class Recorded:
    """Where a generated project records its template source (`TemplateSource.recorded`)."""

    source: str
    # The URL given, or the home's remote, held a token or password, which is not recorded.
    credentials_left_out: bool = False
    # The home's `origin` remote, passed over (the local path recorded): it lacks the version rendered.
    passed_over: PassedOver | None = None


@dataclass(frozen=True)
class TemplateSource:
    """Where Copier renders from (`url`) and where scaffold reads the same files (`root`)."""

    url: str
    origin: str
    root: Path | None
    # `git describe` of a local repository's HEAD.
    version: str | None
    # Its newest final release tag (PEP 440), which Copier renders unless told otherwise.
    release: str | None = None
    # `version` when HEAD is another commit than `release`'s (commits past it, a pre-release, a branch).
    head: str | None = None

    @property
    def rendered(self) -> str | None:
        """The version `scaffold new` renders: HEAD for scaffold's own checkout, else the newest release
        tag (commits past it reach new projects once a release tags them), else HEAD."""
        return self.version if self.origin == "checkout" or not self.release else self.release

    @property
    def described(self) -> str:
        """`rendered` as `scaffold list` and `doctor` show it (`describe_version`)."""
        return describe_version(self.rendered, None if self.origin == "checkout" else self.head)

    @property
    def origin_label(self) -> str:
        return _origin_label(self.origin)

    @property
    def shown(self) -> str:
        """`url` as messages show it: without credentials (`gitutil.without_credentials`)."""
        return gitutil.without_credentials(self.url)

    def recorded(self, version: str | None) -> Recorded:
        """What a project rendered from this source at `version` (the `_commit` Copier wrote) records as
        its source: reachable from teammates' machines and CI when it can be (a knowledge home's `origin`
        remote, if it has that version), else `~/...` for the same user elsewhere; without credentials
        (`portable_source`)."""
        if self.origin in {"checkout", "bundled"}:
            return Recorded(self.url)
        where, passed_over = _recorded_as(self.url, follow_remote=True, version=version)
        return Recorded(gitutil.without_credentials(where), gitutil.has_credentials(where), passed_over)

    @contextmanager
    def readable(self) -> Iterator[Path]:
        """A local folder with the source's files; remote sources are cloned shallowly for the read."""
        if self.root is not None:
            yield self.root
            return
        gitutil.require_git()
        with tempfile.TemporaryDirectory(prefix="scaffold-src-") as tmp:
            result = subprocess.run(
                ["git", "clone", "--quiet", "--depth", "1", "--", git_url(self.url), tmp],
                capture_output=True,
                text=True,
                stdin=subprocess.DEVNULL,
                env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
                check=False,
            )
            if result.returncode != 0:
                cause = gitutil.error_cause(result.stderr) or "git clone failed"
                raise TemplateSourceError(f"cannot fetch templates from {self.shown}: {cause}")
            yield Path(tmp)


def shipped_bundle() -> Path:
    """The bundle inside the installed package (absent in a checkout)."""
    return settings.DATA_DIR / BUNDLE_NAME


def installed_bundle() -> Path:
    return settings.user_data_dir() / BUNDLE_NAME


def _stamp(bundle: Path) -> Path:
    """The file beside a placed bundle that holds the version of scaffold that placed it."""
    return bundle.with_name(BUNDLE_NAME + ".version")


def as_home_relative(path: Path) -> str:
    """`~/...` when `path` is under HOME, so answers files stay valid for the same user elsewhere."""
    home = Path.home().resolve()
    try:
        return "~/" + path.resolve().relative_to(home).as_posix()
    except ValueError:
        return str(path)


def portable_source(where: str, *, follow_remote: bool, version: str | None = None) -> str:
    """`where` as a project should record it: a URL as given; a local repository's `origin` remote when
    `follow_remote` and the remote has the rendered version (an unpushed home must not strand projects);
    else the path, as `~/...` when it is under HOME. A URL without its credentials: the project's
    history would hold them, and teammates and CI use their own."""
    return gitutil.without_credentials(_recorded_as(where, follow_remote=follow_remote, version=version)[0])


def _recorded_as(where: str, *, follow_remote: bool, version: str | None) -> tuple[str, PassedOver | None]:
    """`portable_source` before the credentials are taken out, and the home's `origin` remote when it was
    passed over (it lacks `version`, or could not be asked)."""
    if _REMOTE.match(where):
        return _expand_shorthand(where), None
    path = Path(where).expanduser().resolve()
    if follow_remote and path.is_dir() and gitutil.git_available():
        remote = recorded = gitutil.git("remote", "get-url", "origin", cwd=path, check=False).strip()
        if remote and not _REMOTE.match(remote) and not Path(remote).is_absolute() and ":" not in remote.split("/")[0]:
            # A path relative to the home (`../remotes/home.git`): from a project it would lead elsewhere.
            remote = str((path / remote).resolve())
            recorded = as_home_relative(Path(remote))
        if remote:
            lacking = _remote_lacks(remote, path, version) if version is not None else None
            if lacking is None:
                return recorded, None
            return as_home_relative(path), PassedOver(gitutil.without_credentials(recorded), *lacking)
    return as_home_relative(path), None


# How long `scaffold new` waits for the home's remote to say whether it has the version rendered.
REMOTE_CHECK_SECONDS = 15


def _remote_lacks(remote: str, local: Path, version: str) -> tuple[str, str] | None:
    """None if `remote` has what `version` names, as Copier will look for it there; else what it lacks
    (or why it could not be asked) and what to do in the home. A tag of the home must be there as the
    same tag (a branch pushed without its tags has the commit, not the tag Copier checks out);
    anything else (a commit, `git describe`'s `TAG-N-gHASH`, in a home without tags) must be a
    branch's head there, or behind one this home knows."""
    name = version.split(" ")[0]
    if remote.startswith("-"):
        return "is no remote (it starts with '-')", "set it with git remote set-url origin URL"
    local_tag = gitutil.git("rev-parse", "--verify", "--quiet", f"refs/tags/{name}", cwd=local, check=False).strip()
    try:
        if local_tag:
            listed = gitutil.git(
                "ls-remote", "--tags", "--", remote, f"refs/tags/{name}", cwd=local, timeout=REMOTE_CHECK_SECONDS
            )
        else:
            listed = gitutil.git("ls-remote", "--heads", "--", remote, cwd=local, timeout=REMOTE_CHECK_SECONDS)
    except ExternalToolError as error:
        # git's own words may quote the URL it was given, token and all.
        why = f"could not be asked for it ({gitutil.without_credentials(str(error))})"
        return why, "check that the home's remote answers (git remote -v)"
    found = [line.split("\t")[0] for line in listed.splitlines() if line.strip()]
    if local_tag:
        # The tag object (or commit) each side names: a tag moved since it was pushed is not the same.
        if local_tag in found:
            return None
        if found:
            return (
                f"has another {name} (moved since it was pushed)",
                f"tag a new release instead (or git push --force origin {name})",
            )
        return f"has no {name} (not pushed?)", f"push it: git push origin {name}"
    commit = gitutil.git("rev-parse", "--verify", "--quiet", f"{name}^{{commit}}", cwd=local, check=False).strip()
    for head in found:
        # Their merge base is the commit itself when the head holds it (a head this home has not fetched: no base).
        if head == commit or (
            commit and gitutil.git("merge-base", commit, head, cwd=local, check=False).strip() == commit
        ):
            return None
    return f"has no branch holding {name} (not pushed?)", "push it: git push"


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def _require_shipped() -> Path:
    shipped = shipped_bundle()
    if not shipped.is_file():
        raise TemplateSourceError(
            f"this scaffold installation has no template bundle ({shipped}); reinstall scaffold "
            "(pip install --force-reinstall scaffold-generator) or pass --templates"
        )
    return shipped


@dataclass(frozen=True)
class PlacedBundle:
    """The bundle at the per-user path: its version stamp (None when none is placed, or it has no
    stamp), and whether it serves this scaffold as it is (`current`: equal to or newer than the
    shipped one, so nothing needs placing)."""

    path: Path
    version: str | None
    current: bool


def placed_bundle() -> PlacedBundle:
    """What `ensure_bundle` would find at the per-user path; `scaffold doctor` reports it."""
    shipped = shipped_bundle()
    target = installed_bundle()
    stamp = _stamp(target)
    if not (target.is_file() and stamp.is_file()):
        return PlacedBundle(target, None, False)
    installed = stamp.read_text(encoding="utf-8").strip()
    same = installed == __version__ and shipped.is_file() and target.stat().st_size == shipped.stat().st_size
    return PlacedBundle(target, installed, same or _version_key(installed) > _version_key(__version__))


def ensure_bundle() -> Path:
    """Copy the wheel's bundle to the per-user path unless an equal or newer one is already there.

    Never downgrades: a newer bundle holds the history of every older release.
    """
    shipped = _require_shipped()
    placed = placed_bundle()
    if placed.current:
        return placed.path
    target = placed.path
    stamp = _stamp(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with replacing(target) as partial:
            shutil.copyfile(shipped, partial)
    except OSError as error:
        raise ExternalToolError(
            f"cannot place the bundled templates in {target.parent}: {error.strerror or error}; make that folder "
            "writable, or point XDG_DATA_HOME (or HOME) at one that is"
        ) from None
    # The stamp goes last: a bundle without one is placed again next time, never taken as current.
    with contextlib.suppress(OSError):
        stamp.write_text(__version__ + "\n", encoding="utf-8")
    return target


def _git_version(root: Path) -> str | None:
    if not gitutil.git_available():
        return None
    out = gitutil.git("describe", "--tags", "--always", cwd=root, check=False).strip()
    return out or None


def _release(root: Path) -> str | None:
    if not gitutil.git_available():
        return None
    return newest_release_of(gitutil.git("tag", "--list", cwd=root, check=False).split())


def describe_version(rendered: str | None, head: str | None) -> str:
    """The version new projects get, and the source's HEAD when it is another commit (its `git describe`):
    "1.2.0 (the newest release, which new projects get; HEAD is at 1.2.0-3-gHASH)"."""
    shown = rendered or "unversioned"
    return f"{shown} (the newest release, which new projects get; HEAD is at {head})" if head else shown


def newest_release_of(tags: Iterable[str]) -> str | None:
    """The highest final (PEP 440) release among `tags`, as Copier picks the version it renders."""
    from packaging.version import InvalidVersion, Version

    releases: dict[Version, str] = {}
    for tag in tags:
        try:
            parsed = Version(tag)
        except InvalidVersion:
            continue
        if not parsed.is_prerelease and not parsed.is_devrelease:
            releases[parsed] = tag
    return releases[max(releases)] if releases else None


def _local(path_text: str, origin: str) -> TemplateSource:
    path = Path(path_text).expanduser()
    if not path.exists():
        raise TemplateSourceError(f"template source {path_text!r} (from {_origin_label(origin)}) does not exist")
    path = path.resolve()
    is_bare = (path / "HEAD").is_file() and (path / "objects").is_dir()
    if is_bare or (path.is_file() and path.suffix == ".bundle"):
        # Git history without a work tree: Copier clones it, and so does readable().
        return TemplateSource(url=str(path), origin=origin, root=None, version=None)
    if path.is_file():
        raise TemplateSourceError(
            f"template source {path_text!r} is a file; give a template repository folder, a git bundle or a git URL"
        )
    # copier.yml is read (and checked) once, by whoever reads the source's templates next.
    if not (path / ".git").exists():
        return TemplateSource(url=str(path), origin=origin, root=path, version=None)
    version, release = _git_version(path), _release(path)
    head = None
    if release and version:
        # HEAD's `describe` when HEAD is another commit than the release's (it may name another tag of it).
        at_head, at_release = (
            gitutil.git("rev-parse", "--verify", "--quiet", ref, cwd=path, check=False).strip()
            for ref in ("HEAD", f"{release}^{{commit}}")
        )
        head = version if at_head != at_release else None
    return TemplateSource(url=str(path), origin=origin, root=path, version=version, release=release, head=head)


def _origin_label(origin: str) -> str:
    """Where the template source came from, in the words `settings.Setting.where` uses for a setting."""
    if origin in ("flag", "env", "config"):
        return settings.TEMPLATES.where(origin)
    if origin.startswith("home-"):
        return f"the knowledge home set by {settings.HOME.where(origin.removeprefix('home-'))}"
    return {"checkout": "this scaffold checkout", "bundled": "shipped with scaffold"}.get(origin, origin)


_SHORTHANDS = {"gh:": "https://github.com/", "gl:": "https://gitlab.com/"}


def git_url(url: str) -> str:
    """`url` as git's command line takes it, as Copier turns it: its shorthands (`gh:`, `gl:`) expanded
    and its `git+` prefix dropped (`git+https://...`, which git reads as a remote helper named
    `git+https`; `git+/path`). Copier reads every form a project may record."""
    return _expand_shorthand(url).removeprefix("git+")


def _expand_shorthand(url: str) -> str:
    for prefix, base in _SHORTHANDS.items():
        if url.startswith(prefix):
            # Copier's own expansion: `gh:/owner/repo` is `gh:owner/repo`.
            return base + url.removeprefix(prefix).lstrip("/").removesuffix(".git") + ".git"
    return url


def resolve(config: settings.Settings, *, place: bool = True) -> TemplateSource:
    """The template source after applying settings precedence.

    The bundled templates are placed at the per-user path on the way (`ensure_bundle`) unless
    `place` is false (`scaffold doctor` looks without changing anything).
    """
    chosen = config.templates
    if chosen.value is None:
        home = config.home
        if home.value:
            chosen = settings.Resolved(home.value, f"home-{home.origin}")
    if chosen.value is not None:
        if _REMOTE.match(chosen.value):
            url = _expand_shorthand(chosen.value)
            return TemplateSource(url=url, origin=chosen.origin, root=None, version=None)
        return _local(chosen.value, chosen.origin)
    checkout = settings.checkout_root()
    if checkout is not None:
        described = _git_version(checkout)
        version = f"{__version__} (checkout {described})" if described else __version__
        return TemplateSource(url=str(checkout), origin="checkout", root=checkout, version=version)
    if place:
        bundle = ensure_bundle()
    else:
        _require_shipped()
        bundle = installed_bundle()
    return TemplateSource(
        url=as_home_relative(bundle), origin="bundled", root=settings.DATA_DIR / "repo", version=__version__
    )


def check_template(config: RepoConfig, template: str) -> None:
    names = [info.name for info in config.templates]
    if template not in names:
        raise UnknownTemplateError.among(template, names)

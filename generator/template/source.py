"""The template source: which template repository to render from, and what it offers.

Sources, in the order `settings` resolves them: `--templates`, SCAFFOLD_TEMPLATES, the
user config, the knowledge home (`scaffold init`), then the templates shipped with
scaffold - the checkout itself when running from one, else the git bundle from the
wheel, copied to a stable per-user path and recorded as `~/...` so that plain
`copier update` finds it again after scaffold is upgraded.

Reading a source's copier.yml here needs no Copier import: `scaffold list` stays fast.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from generator import __version__, settings
from generator.errors import ExternalToolError, TemplateSourceError, UnknownTemplateError, describe_yaml_error
from generator.plumbing import gitutil
from generator.plumbing.atomic import replacing

BUNDLE_NAME = "templates.bundle"
_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|git@|gh:|gl:)", re.IGNORECASE)


@dataclass(frozen=True)
class Question:
    """A question as declared in copier.yml, reduced to what scaffold checks itself."""

    name: str
    type: str
    default: Any
    help: str
    choices: list[Any] = field(default_factory=list)


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
        own = {
            key
            for doc in _load_yaml_docs(self.root / "templates" / template / "questions.yml", self.root)
            for key in doc
        }
        others: set[str] = set()
        for info in self.templates:
            if info.name != template:
                path = self.root / "templates" / info.name / "questions.yml"
                others |= {key for doc in _load_yaml_docs(path, self.root) for key in doc} - own
        context: dict[str, Any] = {"template": template, **(answers or {})}
        result: dict[str, Question] = {}
        for name, spec in self.data.items():
            if name.startswith("_") or name in others:
                continue
            if not isinstance(spec, dict):
                spec = {"default": spec}
            if not _applies(spec.get("when", True), context):
                continue
            choices = _choice_values(spec.get("choices"))
            result[name] = Question(
                name=name,
                type=str(spec.get("type", "str")),
                default=spec.get("default"),
                help=str(spec.get("help", "")),
                choices=choices,
            )
            if name not in context and not (isinstance(spec.get("default"), str) and "{" in spec["default"]):
                context[name] = spec.get("default")
        return result


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


def _applies(when: Any, context: Mapping[str, Any]) -> bool:
    """Evaluate a question's `when`; anything we cannot evaluate counts as applicable."""
    if isinstance(when, bool):
        return when
    if not isinstance(when, str):
        return bool(when)
    from jinja2 import TemplateError
    from jinja2.sandbox import SandboxedEnvironment

    try:
        rendered = SandboxedEnvironment().from_string(when).render(**context).strip()
    except TemplateError:
        return True
    return rendered.lower() not in {"", "false", "no", "0", "none", "off", "n"}


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
        raise TemplateSourceError(f"{root} has no templates/ folder; see README, 'Template repositories'")
    merged: dict[str, Any] = {}
    for doc in _load_yaml_docs(config, root):
        merged.update(doc)
    return RepoConfig(root=root, data=merged)


@dataclass(frozen=True)
class TemplateSource:
    """Where Copier renders from (`url`) and where scaffold reads the same files (`root`)."""

    url: str
    origin: str
    root: Path | None
    version: str | None

    @property
    def origin_label(self) -> str:
        return _ORIGINS.get(self.origin, self.origin)

    @contextmanager
    def readable(self) -> Iterator[Path]:
        """A local folder with the source's files; remote sources are cloned shallowly for the read."""
        if self.root is not None:
            yield self.root
            return
        if not gitutil.git_available():
            raise ExternalToolError(f"git is not installed or not on PATH; install it to use {self.url}")
        with tempfile.TemporaryDirectory(prefix="scaffold-src-") as tmp:
            result = subprocess.run(
                ["git", "clone", "--quiet", "--depth", "1", self.url, tmp],
                capture_output=True,
                text=True,
                stdin=subprocess.DEVNULL,
                env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
                check=False,
            )
            if result.returncode != 0:
                cause = gitutil.error_cause(result.stderr) or "git clone failed"
                raise TemplateSourceError(f"cannot fetch templates from {self.url}: {cause}")
            yield Path(tmp)


def shipped_bundle() -> Path:
    """The bundle inside the installed package (absent in a checkout)."""
    return settings.DATA_DIR / BUNDLE_NAME


def installed_bundle() -> Path:
    return settings.user_data_dir() / BUNDLE_NAME


def as_home_relative(path: Path) -> str:
    """`~/...` when `path` is under HOME, so answers files stay valid for the same user elsewhere."""
    home = Path.home().resolve()
    try:
        return "~/" + path.resolve().relative_to(home).as_posix()
    except ValueError:
        return str(path)


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def ensure_bundle() -> Path:
    """Copy the wheel's bundle to the per-user path unless an equal or newer one is already there.

    Never downgrades: a newer bundle holds the history of every older release.
    """
    shipped = shipped_bundle()
    if not shipped.is_file():
        raise TemplateSourceError(
            f"this scaffold installation has no template bundle ({shipped}); reinstall scaffold "
            "(pip install --force-reinstall scaffold-generator) or pass --templates"
        )
    target = installed_bundle()
    stamp = target.with_name(BUNDLE_NAME + ".version")
    if target.is_file() and stamp.is_file():
        installed = stamp.read_text(encoding="utf-8").strip()
        same = installed == __version__ and target.stat().st_size == shipped.stat().st_size
        if same or _version_key(installed) > _version_key(__version__):
            return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with replacing(target) as partial:
        shutil.copyfile(shipped, partial)
    stamp.write_text(__version__ + "\n", encoding="utf-8")
    return target


def _git_version(root: Path) -> str | None:
    if not gitutil.git_available():
        return None
    out = gitutil.git("describe", "--tags", "--always", cwd=root, check=False).strip()
    return out or None


def _local(path_text: str, origin: str) -> TemplateSource:
    path = Path(path_text).expanduser()
    if not path.exists():
        raise TemplateSourceError(f"template source {path_text!r} (from {_ORIGINS.get(origin, origin)}) does not exist")
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
    version = _git_version(path) if (path / ".git").exists() else None
    return TemplateSource(url=str(path), origin=origin, root=path, version=version)


_ORIGINS = {
    "flag": "--templates",
    "env": "SCAFFOLD_TEMPLATES",
    "config": "the user config's 'templates'",
    "home-env": "the knowledge home in SCAFFOLD_HOME",
    "home-config": "the knowledge home in the user config",
    "checkout": "this scaffold checkout",
    "bundled": "shipped with scaffold",
}
_SHORTHANDS = {"gh:": "https://github.com/", "gl:": "https://gitlab.com/"}


def _expand_shorthand(url: str) -> str:
    for prefix, base in _SHORTHANDS.items():
        if url.startswith(prefix):
            return base + url.removeprefix(prefix).removesuffix(".git") + ".git"
    return url


def resolve(config: settings.Settings) -> TemplateSource:
    """The template source after applying settings precedence."""
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
    bundle = ensure_bundle()
    return TemplateSource(
        url=as_home_relative(bundle), origin="bundled", root=settings.DATA_DIR / "repo", version=__version__
    )


def check_template(config: RepoConfig, template: str) -> None:
    names = [info.name for info in config.templates]
    if template not in names:
        raise UnknownTemplateError.among(template, names)

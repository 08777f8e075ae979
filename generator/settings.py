"""Where scaffold's settings come from, in one place.

Precedence, highest first (docs/configuration.md):

1. command-line flags (`--templates`, `--home`, ...)
2. environment variables (`SCAFFOLD_TEMPLATES`, `SCAFFOLD_HOME`, ...)
3. the user config file, `<user config dir>/scaffold/config.yml` (`SCAFFOLD_CONFIG` moves it)
4. what ships with scaffold: the knowledge home `scaffold init` recorded, else the bundled
   templates and context (the checkout itself when running from one).

`Setting.resolve` is the only code that applies this order, and `Settings.load` the one
place a command calls it: once, at the start, for every setting.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from generator.errors import UsageError, describe_yaml_error

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = PACKAGE_DIR / "_data"
APP_NAME = "scaffold"


@dataclass(frozen=True)
class Resolved:
    """A setting's value and where it came from ("flag", "env", "config", "default")."""

    value: str | None
    origin: str


@dataclass(frozen=True)
class Setting:
    """One setting: its environment variable and its key in the user config."""

    env: str
    config_key: str

    def resolve(
        self,
        flag: str | None,
        default: Callable[[], str | None] = lambda: None,
    ) -> Resolved:
        if flag:
            return Resolved(flag, "flag")
        if os.environ.get(self.env):
            return Resolved(os.environ[self.env], "env")
        value = load_user_config().get(self.config_key)
        # `false` and `0` are values too (ai_stream: false, ai_retries: 0); only absent or empty is unset.
        if value is not None and value != "":
            return Resolved(str(value), "config")
        return Resolved(default(), "default")

    def where(self, origin: str) -> str:
        """Where a value of this setting from `origin` (`Resolved.origin`) was set, as the user would
        look for it: every message that says so words it here. A flag is also what a library caller
        passed (`fill_project(model=...)`)."""
        if origin == "flag":
            return f"--{self.config_key.replace('_', '-')}"
        if origin == "env":
            return f"${self.env}"
        if origin == "config":
            return f"'{self.config_key}' in the user config"
        return "the default"

    def where_to_set(self) -> str:
        """Where a user sets this setting: its environment variable, or its key in the user config."""
        return f"{self.where('env')} or {self.where('config')}"

    def fix(self, origin: str) -> str:
        """How to change a value of this setting from `origin`, where it was set; a default is one
        scaffold ships (the bundled templates and context), so the fix for it is a new install."""
        if origin == "env":
            return f"fix or unset {self.where(origin)}"
        if origin == "config":
            return f"fix or remove {self.where(origin)} ({user_config_path()})"
        if origin == "flag":
            return f"pass another value to {self.where(origin)}"
        return "reinstall scaffold (pip install --force-reinstall scaffold-generator)"


TEMPLATES = Setting("SCAFFOLD_TEMPLATES", "templates")
HOME = Setting("SCAFFOLD_HOME", "home")
MODEL = Setting("SCAFFOLD_MODEL", "model")
DEFAULT_MODEL = "claude-sonnet-5-5"
ESCALATION_MODEL = Setting("SCAFFOLD_ESCALATION_MODEL", "escalation_model")
DEFAULT_ESCALATION_MODEL = "claude-opus-5-5"
# The key is read, never written: scaffold passes it to the SDK and keeps it out of every file and message.
API_KEY = Setting("ANTHROPIC_API_KEY", "anthropic_api_key")
# Seconds before one API request gives up, and the SDK's own retries (429, 529, 5xx, connection errors).
AI_TIMEOUT = Setting("SCAFFOLD_AI_TIMEOUT", "ai_timeout")
DEFAULT_AI_TIMEOUT = 600.0
AI_RETRIES = Setting("SCAFFOLD_AI_RETRIES", "ai_retries")
DEFAULT_AI_RETRIES = 2
# Some proxies buffer server-sent events; "0" asks for whole JSON responses instead.
AI_STREAM = Setting("SCAFFOLD_AI_STREAM", "ai_stream")
# The command the fills must pass instead of the project's `make check` (`--verify-command`).
VERIFY_COMMAND = Setting("SCAFFOLD_VERIFY_COMMAND", "verify_command")
# The most one region's answer may hold: a larger one is refused, and a stream stops being read past
# this times the regions asked for (twice, for JSON escapes), so a runaway answer cannot fill memory.
AI_MAX_REGION_BYTES = Setting("SCAFFOLD_AI_MAX_REGION_BYTES", "ai_max_region_bytes")
DEFAULT_AI_MAX_REGION_BYTES = 1_000_000
# Whether the model re-ranks what BM25 ranked, wherever context is selected (`scaffold context`, the
# fill step's prompt, `scaffold mcp`). Unset, the fill step does and the others do not (`Settings.rerank`).
RERANK = Setting("SCAFFOLD_RERANK", "rerank")
# Every key the user config may hold; any other is a typo or a leftover (`scaffold doctor` says so).
CONFIG_KEYS = frozenset(value.config_key for value in list(globals().values()) if isinstance(value, Setting))


MAX_RETRIES = 10
_TRUE = frozenset({"1", "true", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "no", "n", "off"})
T = TypeVar("T")


def parse_switch(text: str) -> bool | None:
    """The one reading of yes/no words (settings, answers): True, False, or None when it is neither."""
    lowered = text.strip().lower()
    return True if lowered in _TRUE else False if lowered in _FALSE else None


def _seconds(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and value > 0 else None


def _retry_count(text: str) -> int | None:
    return int(text) if text.isdigit() and int(text) <= MAX_RETRIES else None


def _byte_count(text: str) -> int | None:
    return int(text) if text.isdigit() and int(text) > 0 else None


@dataclass(frozen=True)
class Settings:
    """Every setting of one command, resolved once (flag > env > user config > default) and passed down.

    Values stay as given until a command asks for one, so a bad `ai_timeout` troubles only the
    commands that use it; the typed accessors parse and name where a bad value was set.
    """

    templates: Resolved
    home: Resolved
    model: Resolved
    escalation_model: Resolved
    api_key: Resolved = field(repr=False)
    ai_timeout: Resolved
    ai_retries: Resolved
    ai_stream: Resolved
    ai_max_region_bytes: Resolved
    verify_command_setting: Resolved = Resolved(None, "default")
    rerank_setting: Resolved = Resolved(None, "default")

    @classmethod
    def load(
        cls,
        *,
        templates: str | Path | None = None,
        home: str | Path | None = None,
        model: str | None = None,
        api_key: str | None = None,
        rerank: bool | None = None,
    ) -> Settings:
        """Resolve every setting; keyword arguments are the command's flags (or a library caller's choices)."""
        return cls(
            templates=TEMPLATES.resolve(str(templates) if templates else None),
            home=HOME.resolve(str(home) if home else None),
            model=MODEL.resolve(model, default=lambda: DEFAULT_MODEL),
            escalation_model=ESCALATION_MODEL.resolve(None, default=lambda: DEFAULT_ESCALATION_MODEL),
            api_key=API_KEY.resolve(api_key),
            ai_timeout=AI_TIMEOUT.resolve(None),
            ai_retries=AI_RETRIES.resolve(None),
            ai_stream=AI_STREAM.resolve(None),
            ai_max_region_bytes=AI_MAX_REGION_BYTES.resolve(None),
            verify_command_setting=VERIFY_COMMAND.resolve(None),
            rerank_setting=RERANK.resolve(_switch_flag(rerank)),
        )

    def with_flags(
        self, *, templates: str | Path | None = None, model: str | None = None, rerank: bool | None = None
    ) -> Settings:
        """These settings with a call's own choices on top, as flags (the highest precedence)."""
        changes: dict[str, Resolved] = {}
        if templates:
            changes["templates"] = Resolved(str(templates), "flag")
        if model:
            changes["model"] = Resolved(model, "flag")
        if rerank is not None:
            changes["rerank_setting"] = Resolved(_switch_flag(rerank), "flag")
        return dataclasses.replace(self, **changes) if changes else self

    @property
    def main_model(self) -> str:
        return _model_name(MODEL, self.model, DEFAULT_MODEL)

    @property
    def escalation(self) -> str:
        return _model_name(ESCALATION_MODEL, self.escalation_model, DEFAULT_ESCALATION_MODEL)

    @property
    def verify_command(self) -> str | None:
        """The command that replaces the project's `make check` as the fills' gate, or None."""
        return self.verify_command_setting.value or None

    @property
    def key(self) -> str | None:
        """The Anthropic API key, or None; never printed or written anywhere.

        Surrounding white space (a YAML block scalar's line break, a pasted newline) is dropped; white space
        inside cannot be part of a key, and such a key must not reach an HTTP header or an error message.
        """
        raw = (self.api_key.value or "").strip()
        if not raw:
            return None
        if any(char.isspace() for char in raw):
            where = API_KEY.where(self.api_key.origin)
            raise UsageError(f"the API key in {where} contains white space; set it to the key alone")
        return raw

    def check_ai(self) -> None:
        """Every setting of the fill step read, so that a bad one fails before anything is asked or sent."""
        self.timeout()
        self.retries()
        self.stream()
        self.max_region_bytes()
        self.rerank(fill=True)
        _models = (self.main_model, self.escalation)

    def timeout(self, needed: float = 0.0, default: float = DEFAULT_AI_TIMEOUT) -> float:
        """The deadline of one AI call: the user's (SCAFFOLD_AI_TIMEOUT), else `default` (a fill's, or a
        shorter one for a short answer), or `needed` seconds when that is longer (a long answer expected)."""
        timeout = self._parsed(AI_TIMEOUT, self.ai_timeout, _seconds, "a number of seconds above 0", default)
        return max(timeout, needed) if self.ai_timeout.origin == "default" else timeout

    def retries(self) -> int:
        wanted = f"a whole number from 0 to {MAX_RETRIES}"
        return self._parsed(AI_RETRIES, self.ai_retries, _retry_count, wanted, DEFAULT_AI_RETRIES)

    def stream(self) -> bool:
        return self._parsed(AI_STREAM, self.ai_stream, parse_switch, "true or false (1 or 0)", True)

    def rerank(self, *, fill: bool = False) -> bool:
        """Whether the model re-ranks the context's ranked documents (SCAFFOLD_RERANK). Unset: for the
        fill step's prompt (`fill`) yes, as a fill pays for calls and has the key anyway, and one more
        call, about a tenth of a fill's first call or less, keeps noise out of the prompt the fills are
        written from (measured with stand-ins for the model: docs/benchmarks.md); for `scaffold
        context` and `scaffold mcp` no, as they need neither a key nor the network."""
        return self._parsed(RERANK, self.rerank_setting, parse_switch, "true or false (1 or 0)", fill)

    def max_region_bytes(self) -> int:
        return self._parsed(
            AI_MAX_REGION_BYTES,
            self.ai_max_region_bytes,
            _byte_count,
            "a whole number of bytes above 0",
            DEFAULT_AI_MAX_REGION_BYTES,
        )

    @staticmethod
    def _parsed(setting: Setting, resolved: Resolved, parse: Callable[[str], T | None], wanted: str, default: T) -> T:
        if resolved.value is None:
            return default
        value = parse(resolved.value.strip())
        if value is None:
            if looks_like_a_key(resolved.value):
                raise UsageError(_misplaced_key(setting, resolved, wanted))
            given = repr(resolved.value) if len(resolved.value) <= _QUOTED_AT_MOST else "what is set there"
            raise UsageError(f"{setting.where(resolved.origin)} must be {wanted}, not {given}")
        return value


# An API key anywhere in a value: Anthropic's start `sk-ant-` (found even glued to a model's name),
# others' `sk-` and then a run mixing capitals and digits, as keys do and a model's alias
# (`gateway/sk-translation-model`) does not; pasted alone, in quotes (Docker's --env-file keeps
# them), after `Bearer ` or as `ANTHROPIC_API_KEY=sk-...`.
_KEY = re.compile(
    r"sk-ant-[A-Za-z0-9_\-]{16,}"
    r"|(?<![A-Za-z0-9])sk-(?=[A-Za-z0-9_\-]*[A-Z])(?=[A-Za-z0-9_\-]*[0-9])[A-Za-z0-9_\-]{20,}"
)
# The longest bad value an error quotes: `ten`, `600s` or `yes please` help the user; a long one
# may be a token of some other kind pasted in the wrong place.
_QUOTED_AT_MOST = 24


def _switch_flag(value: bool | None) -> str | None:
    """A switch given as a flag (`--rerank`, `--no-rerank`), as the setting's text; None when not given."""
    return None if value is None else ("1" if value else "0")


def looks_like_a_key(value: str) -> bool:
    """Whether `value` holds what looks like an API key. Taken to be in no model's name (a gateway
    behind ANTHROPIC_BASE_URL could name one so, and would be refused), nor in a number or a
    switch: one found there was pasted in the wrong place, and must not be shown."""
    return _KEY.search(value) is not None


def _model_name(setting: Setting, resolved: Resolved, default: str) -> str:
    """The model a setting names; a key pasted there is refused without being shown, as a model's name
    is printed in every summary and recorded in the project's .scaffold/fills.yml."""
    value = resolved.value or default
    if looks_like_a_key(value):
        raise UsageError(_misplaced_key(setting, resolved, f"a model name such as {default}"))
    return value


def _misplaced_key(setting: Setting, resolved: Resolved, wanted: str) -> str:
    where = setting.where(resolved.origin)
    return f"{where} looks like an API key, not {wanted}: move the key to {API_KEY.where_to_set()} and correct {where}"


def user_config_dir() -> Path:
    from platformdirs import user_config_path

    return user_config_path(APP_NAME, appauthor=False)


def user_data_dir() -> Path:
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False)


def user_cache_dir() -> Path:
    from platformdirs import user_cache_path

    return user_cache_path(APP_NAME, appauthor=False)


def user_config_path() -> Path:
    override = os.environ.get("SCAFFOLD_CONFIG")
    return Path(override).expanduser() if override else user_config_dir() / "config.yml"


def load_user_config() -> dict[str, Any]:
    """The user config as a mapping; a missing file is an empty config."""
    return _load_config(user_config_path(), *_stat_key(user_config_path()))


def _stat_key(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except OSError:
        return (0, 0)
    return (stat.st_mtime_ns, stat.st_size)


@cache
def _load_config(path: Path, _mtime: int, _size: int) -> dict[str, Any]:
    if not path.is_file():
        return {}
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise UsageError(
            f"cannot read the user config {path}: {describe_yaml_error(error)}; fix or delete the file"
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(f"the user config {path} must be a mapping of settings; fix or delete the file")
    return data


def save_user_config(updates: Mapping[str, Any]) -> Path:
    """Merge `updates` into the user config file and write it atomically."""
    import yaml

    from generator.plumbing.atomic import write_atomic

    path = user_config_path()
    data = dict(load_user_config())
    data.update(updates)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, yaml.safe_dump(data, sort_keys=True))
    return path


def checkout_root() -> Path | None:
    """The git checkout scaffold runs from (an editable install), if any."""
    root = PACKAGE_DIR.parent
    if (root / ".git").exists() and (root / "copier.yml").is_file():
        return root
    return None


def bundled_root() -> Path:
    """The folder holding the bundled copier.yml, templates/ and context/."""
    return checkout_root() or DATA_DIR / "repo"

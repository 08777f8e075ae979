"""Runtime configuration, read from environment variables named `<ENV_PREFIX><FIELD>`."""

from __future__ import annotations

# scaffold:fill imports Imports the settings below need (pydantic's SecretStr, ...).
# | Keep lru_cache, Literal, Field, BaseSettings and SettingsConfigDict:
# | code outside the regions uses them.
from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# scaffold:end imports

ENV_PREFIX = "PAYMENTS_"

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class Settings(BaseSettings):
    """Every knob of the service: `<ENV_PREFIX>PORT=9000` sets `port`, and so on."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="ignore")

    # Loopback by default so a developer's laptop does not expose the service;
    # the container image sets <ENV_PREFIX>HOST=0.0.0.0.
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: LogLevel = "INFO"
    # Machine-readable logs for aggregators; turn off for human-friendly local output.
    log_json: bool = True
    # Per readiness check, so one hung dependency cannot hang the probe itself.
    readiness_timeout_seconds: float = Field(default=2.0, gt=0)
    # After SIGTERM, /readyz fails for this long while requests are still served, giving
    # load balancers time to stop routing here before the listener closes.
    shutdown_drain_seconds: float = Field(default=5.0, ge=0)
    # Then in-flight requests get this long to finish before they are cut off.
    shutdown_timeout_seconds: int = Field(default=20, ge=0)

    # scaffold:fill settings The service's own settings; the service is described as:
    # | Takes card payments and reports their status. Fields of the Settings class body,
    # | pydantic-settings v2: downstream base URLs, timeouts in seconds, limits, each `name:
    # | type = Field(default=..., ...)` with the constraints that refuse a bad value (gt,
    # | ge, le, min_length) and a comment saying what it is for; PAYMENTS_<NAME> sets it.
    # | Every default must work on a developer's machine and in the tests, without a
    # | network: a local URL, a safe limit. A secret is `SecretStr` defaulting to empty
    # | (`Field(default=SecretStr(""))`), refused where it is used when empty; never a real
    # | value as a default. Only what src/payments/resources.py#resources and the other
    # | regions use (endpoints get the values through Resources); none: leave the comment
    # | alone. Full type hints (mypy --strict), ruff-clean, lines <= 100 characters.
    # No settings of the service's own yet.
    # scaffold:end settings


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings()

"""Runtime configuration, read from environment variables named `<ENV_PREFIX><FIELD>`."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "{{ cookiecutter.__package_name | upper }}_"

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class Settings(BaseSettings):
    """Every knob of the service: `<ENV_PREFIX>PORT=9000` sets `port`, and so on."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="ignore")

    # Loopback by default so a developer's laptop does not expose the service;
    # the container image sets <ENV_PREFIX>HOST=0.0.0.0.
    host: str = "127.0.0.1"
    port: int = Field(default={{ cookiecutter.port }}, ge=1, le=65535)
    log_level: LogLevel = "{{ cookiecutter.service_log_level }}"
    # Machine-readable logs for aggregators; turn off for human-friendly local output.
    log_json: bool = True
    # Per readiness check, so one hung dependency cannot hang the probe itself.
    readiness_timeout_seconds: float = Field(default=2.0, gt=0)
    # After SIGTERM, /readyz fails for this long while requests are still served, giving
    # load balancers time to stop routing here before the listener closes.
    shutdown_drain_seconds: float = Field(default=5.0, ge=0)
    # Then in-flight requests get this long to finish before they are cut off.
    shutdown_timeout_seconds: int = Field(default=20, ge=0)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings()

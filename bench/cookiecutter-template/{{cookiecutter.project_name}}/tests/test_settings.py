"""Settings come from prefixed environment variables and are validated."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from {{ cookiecutter.__package_name }}.settings import (
    ENV_PREFIX,
    Settings,
    get_settings,
)


def test_defaults(settings: Settings) -> None:
    assert settings.host == "127.0.0.1"
    assert settings.port == {{ cookiecutter.port }}
    assert settings.log_level == "{{ cookiecutter.service_log_level }}"
    assert settings.log_json is True
    assert settings.shutdown_drain_seconds >= 0


@pytest.mark.usefixtures("settings")
def test_environment_overrides_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"{ENV_PREFIX}HOST", "192.0.2.10")
    monkeypatch.setenv(f"{ENV_PREFIX}PORT", "9123")
    monkeypatch.setenv(f"{ENV_PREFIX}LOG_LEVEL", "DEBUG")
    monkeypatch.setenv(f"{ENV_PREFIX}LOG_JSON", "false")
    monkeypatch.setenv(f"{ENV_PREFIX}SHUTDOWN_DRAIN_SECONDS", "0")

    settings = Settings()

    assert settings.host == "192.0.2.10"
    assert settings.port == 9123
    assert settings.log_level == "DEBUG"
    assert settings.log_json is False
    assert settings.shutdown_drain_seconds == 0


@pytest.mark.usefixtures("settings")
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "70000"),
        ("PORT", "http"),
        ("LOG_LEVEL", "LOUD"),
        ("READINESS_TIMEOUT_SECONDS", "0"),
        ("SHUTDOWN_DRAIN_SECONDS", "-1"),
    ],
)
def test_invalid_values_are_rejected(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(f"{ENV_PREFIX}{name}", value)

    with pytest.raises(ValidationError):
        Settings()


@pytest.mark.usefixtures("settings")
def test_get_settings_reads_the_environment_once() -> None:
    get_settings.cache_clear()
    try:
        assert get_settings() is get_settings()
    finally:
        get_settings.cache_clear()

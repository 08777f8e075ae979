"""Configuration from environment variables prefixed `SHOP_` (or a `.env` file)."""

from typing import Literal, Self

from fastapi import Request
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "SHOP_"


class Settings(BaseSettings):
    """Every knob of the service; the defaults suit local development."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=".env", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    api_key: SecretStr | None = Field(default=None, description="The key clients send in X-API-Key")

    @model_validator(mode="after")
    def _require_api_key(self) -> Self:
        # Refuse to start rather than serve an API that nobody can call.
        if self.api_key is None or not self.api_key.get_secret_value():
            raise ValueError(f"set {ENV_PREFIX}API_KEY to the key clients must send in X-API-Key")
        return self


def get_settings(request: Request) -> Settings:
    """The settings the running app was started with (a FastAPI dependency)."""
    settings: Settings = request.app.state.settings
    return settings

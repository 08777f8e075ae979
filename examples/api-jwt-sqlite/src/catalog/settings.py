"""Configuration from environment variables prefixed `CATALOG_` (or a `.env` file)."""

from pathlib import Path
from typing import Literal, Self

from fastapi import Request
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "CATALOG_"
# RFC 7518 section 3.2: an HS256 key must be at least as long as the hash output.
MIN_JWT_SECRET_BYTES = 32


class Settings(BaseSettings):
    """Every knob of the service; the defaults suit local development."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=".env", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    # Split over lines whatever the name's length (the trailing comma keeps it so): ruff format splits it
    # when the name is long, and a template line must read the same either way.
    database_path: Path = Path(
        "data/catalog.sqlite3",
    )
    jwt_secret: SecretStr | None = Field(default=None, description="HS256 signing secret")
    jwt_audience: str | None = Field(default=None, description="Required `aud` claim, if set")
    jwt_issuer: str | None = Field(default=None, description="Required `iss` claim, if set")

    @model_validator(mode="after")
    def _require_jwt_secret(self) -> Self:
        # Refuse to start rather than accept tokens signed with a missing or guessable key.
        if self.jwt_secret is None:
            raise ValueError(f"set {ENV_PREFIX}JWT_SECRET to the HS256 secret that signs tokens")
        if len(self.jwt_secret.get_secret_value().encode()) < MIN_JWT_SECRET_BYTES:
            raise ValueError(
                f"{ENV_PREFIX}JWT_SECRET must have at least {MIN_JWT_SECRET_BYTES} bytes"
            )
        return self


def get_settings(request: Request) -> Settings:
    """The settings the running app was started with (a FastAPI dependency)."""
    settings: Settings = request.app.state.settings
    return settings

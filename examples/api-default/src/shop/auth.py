"""API-key authentication: clients send the shared key in the `X-API-Key` header."""

import secrets
from http import HTTPStatus
from typing import Annotated

from fastapi import Depends, Security
from fastapi.security import APIKeyHeader

from shop.problems import ProblemError
from shop.settings import (
    Settings,
    get_settings,
)

API_KEY_HEADER = "X-API-Key"

# auto_error=False: a missing header must produce our problem+json 401, not FastAPI's.
api_key_scheme = APIKeyHeader(
    name=API_KEY_HEADER,
    scheme_name="ApiKey",
    description="The shared API key",
    auto_error=False,
)


def require_api_key(
    api_key: Annotated[str | None, Security(api_key_scheme)],
    settings: Annotated[Settings, Depends(get_settings)],
) -> None:
    """Reject the request unless it carries the configured key."""
    expected = settings.api_key.get_secret_value().encode() if settings.api_key else b""
    # Constant-time comparison, so response timing does not leak the key's prefix.
    if not (expected and api_key and secrets.compare_digest(api_key.encode(), expected)):
        raise ProblemError(
            HTTPStatus.UNAUTHORIZED,
            f"Send a valid API key in the {API_KEY_HEADER} header.",
            headers={"WWW-Authenticate": f'ApiKey header="{API_KEY_HEADER}"'},
        )

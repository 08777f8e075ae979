"""JWT authentication: clients send `Authorization: Bearer <token>`, an HS256 JWT
signed with the configured secret and carrying at least `sub` and `exp`."""

from http import HTTPStatus
from typing import Annotated, Any

import jwt
from fastapi import Depends, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from catalog.problems import ProblemError
from catalog.settings import (
    Settings,
    get_settings,
)

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["exp", "sub"]
# Tolerated clock difference between the token issuer and this service.
LEEWAY_SECONDS = 30

# auto_error=False: a missing header must produce our problem+json 401, not FastAPI's.
bearer_scheme = HTTPBearer(
    bearerFormat="JWT",
    scheme_name="BearerJWT",
    description="An HS256 JWT with `sub` and `exp` claims",
    auto_error=False,
)


def _unauthorized(detail: str, *, error: str | None = None) -> ProblemError:
    # RFC 6750 section 3: name the scheme, and the error once a token was presented.
    challenge = f'Bearer error="{error}"' if error else "Bearer"
    return ProblemError(HTTPStatus.UNAUTHORIZED, detail, headers={"WWW-Authenticate": challenge})


def require_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
    settings: Annotated[Settings, Depends(get_settings)],
) -> dict[str, Any]:
    """The verified claims of the request's bearer token; 401 if there is none or it is invalid."""
    if credentials is None or settings.jwt_secret is None:
        raise _unauthorized("Send a bearer token in the Authorization header.")
    try:
        claims: dict[str, Any] = jwt.decode(
            credentials.credentials,
            settings.jwt_secret.get_secret_value(),
            # Pinning the algorithm blocks `alg: none` and algorithm-confusion tokens.
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.InvalidTokenError as error:
        raise _unauthorized(f"Invalid bearer token: {error}", error="invalid_token") from error
    return claims

"""Signed test tokens, shaped like the ones the real token issuer hands out."""

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

TEST_SECRET = "test-secret-0123456789abcdef-0123456789"


def make_token(secret: str, *, lifetime: timedelta = timedelta(minutes=5), **claims: Any) -> str:
    """An HS256 token for subject `test-user` expiring after `lifetime`; `claims` override."""
    payload = {"sub": "test-user", "exp": datetime.now(UTC) + lifetime, **claims}
    return jwt.encode(payload, secret, algorithm="HS256")

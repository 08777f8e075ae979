"""Liveness and readiness.

`/healthz` answers while the process can serve HTTP at all: orchestrators restart the
service when it fails. `/readyz` answers whether the service should get traffic now:
it fails while starting, while shutting down, and when a registered readiness check
(a database ping, a downstream API...) fails, so load balancers route around it
instead of restarting it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Literal

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel

logger = logging.getLogger(__name__)

# Returns True when the dependency is usable; raising or timing out counts as not ready.
ReadinessCheck = Callable[[], Awaitable[bool]]
CheckResult = Literal["ok", "failing", "timeout", "error"]


class Phase(StrEnum):
    STARTING = "starting"
    READY = "ready"
    STOPPING = "stopping"


class Readiness:
    """The service's lifecycle phase plus the checks that gate traffic."""

    def __init__(self, check_timeout: float = 2.0) -> None:
        self.check_timeout = check_timeout
        self.phase = Phase.STARTING
        self._checks: dict[str, ReadinessCheck] = {}

    def add_check(self, name: str, check: ReadinessCheck) -> None:
        if name in self._checks:
            raise ValueError(f"readiness check {name!r} is already registered")
        self._checks[name] = check

    def remove_check(self, name: str) -> None:
        del self._checks[name]

    def mark_ready(self) -> None:
        self.phase = Phase.READY

    def mark_stopping(self) -> None:
        self.phase = Phase.STOPPING

    async def run_checks(self) -> dict[str, CheckResult]:
        """Run every check concurrently, each bounded by `check_timeout`."""
        names = list(self._checks)
        results = await asyncio.gather(*(self._run(name) for name in names))
        return dict(zip(names, results, strict=True))

    async def _run(self, name: str) -> CheckResult:
        try:
            async with asyncio.timeout(self.check_timeout):
                passed = await self._checks[name]()
        except TimeoutError:
            logger.warning("readiness check timed out", extra={"check": name})
            return "timeout"
        except Exception:
            logger.exception("readiness check raised", extra={"check": name})
            return "error"
        if not passed:
            logger.warning("readiness check failing", extra={"check": name})
            return "failing"
        return "ok"


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"


class ReadinessReport(BaseModel):
    status: Literal["ready", "not_ready"]
    phase: Phase
    checks: dict[str, CheckResult]


router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> Liveness:
    return Liveness()


@router.get(
    "/readyz",
    responses={status.HTTP_503_SERVICE_UNAVAILABLE: {"model": ReadinessReport}},
)
async def readyz(request: Request, response: Response) -> ReadinessReport:
    readiness: Readiness = request.app.state.readiness
    # Checks are skipped outside READY: their dependencies may not be set up yet, or already closed.
    checks = await readiness.run_checks() if readiness.phase is Phase.READY else {}
    ready = readiness.phase is Phase.READY and all(result == "ok" for result in checks.values())
    if not ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return ReadinessReport(
        status="ready" if ready else "not_ready", phase=readiness.phase, checks=checks
    )

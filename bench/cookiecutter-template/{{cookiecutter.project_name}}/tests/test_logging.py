"""Logs are one JSON object per line and carry the request id; every request is logged."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from {{ cookiecutter.__package_name }}.log import configure_logging

ConfigureLogging = Callable[..., io.StringIO]


@pytest.fixture
def configure() -> Iterator[ConfigureLogging]:
    """Configure logging as the service does, into a buffer; undone after the test."""
    root = logging.getLogger()
    level = root.level
    installed: list[logging.Handler] = []

    def configure(json_output: bool = True) -> io.StringIO:
        stream = io.StringIO()
        configure_logging("DEBUG", json_output=json_output, stream=stream)
        installed.extend(root.handlers)
        return stream

    yield configure
    # Only undo our own changes: pytest adds and removes its capture handlers per test phase.
    for handler in installed:
        root.removeHandler(handler)
    root.setLevel(level)


def entries(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_records_are_json_with_extra_fields(configure: ConfigureLogging) -> None:
    stream = configure()
    logger = logging.getLogger(__name__)

    logger.info("charged %s", "card", extra={"amount_cents": 1999})

    [entry] = entries(stream)
    assert entry["message"] == "charged card"
    assert entry["level"] == "INFO"
    assert entry["logger"] == __name__
    assert entry["amount_cents"] == 1999
    assert datetime.fromisoformat(entry["timestamp"]).utcoffset() is not None


def test_exceptions_are_kept_in_one_record(configure: ConfigureLogging) -> None:
    stream = configure()

    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger(__name__).exception("payment failed")

    [entry] = entries(stream)
    assert entry["level"] == "ERROR"
    assert "RuntimeError: boom" in entry["exception"]


def test_plain_text_output_for_local_runs(configure: ConfigureLogging) -> None:
    stream = configure(json_output=False)

    logging.getLogger(__name__).warning("disk almost full")

    line = stream.getvalue().strip()
    assert "WARNING" in line
    assert line.endswith(f"{__name__}: disk almost full")


def test_requests_are_logged_with_the_callers_request_id(
    configure: ConfigureLogging, client: TestClient
) -> None:
    stream = configure()

    response = client.get("/no-such-page", headers={"X-Request-ID": "req-42"})

    assert response.headers["x-request-id"] == "req-42"
    [access] = [entry for entry in entries(stream) if entry["logger"] == "access"]
    assert access["request_id"] == "req-42"
    assert access["method"] == "GET"
    assert access["path"] == "/no-such-page"
    assert access["status"] == 404
    assert access["level"] == "INFO"
    assert access["duration_ms"] >= 0


def test_probes_are_logged_at_debug(configure: ConfigureLogging, client: TestClient) -> None:
    stream = configure()

    client.get("/healthz")

    [access] = [entry for entry in entries(stream) if entry["logger"] == "access"]
    assert access["path"] == "/healthz"
    assert access["level"] == "DEBUG"


@pytest.mark.parametrize("incoming", [None, "has spaces", "x" * 129])
def test_a_fresh_request_id_replaces_missing_or_unsafe_ones(
    client: TestClient, incoming: str | None
) -> None:
    headers = {"X-Request-ID": incoming} if incoming is not None else {}

    response = client.get("/healthz", headers=headers)

    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])

"""Graceful shutdown: SIGTERM fails readiness first, and the server exits after the drain."""

from __future__ import annotations

import signal

import uvicorn
from fastapi import FastAPI

from {{ cookiecutter.__package_name }}.__main__ import DrainingServer
from {{ cookiecutter.__package_name }}.health import Phase


def make_server(app: FastAPI, drain_seconds: float) -> DrainingServer:
    app.state.readiness.mark_ready()
    return DrainingServer(uvicorn.Config(app), app.state.readiness, drain_seconds)


def test_sigterm_fails_readiness_then_exits_after_the_drain(app: FastAPI) -> None:
    server = make_server(app, drain_seconds=0.05)

    server.handle_exit(signal.SIGTERM, None)

    assert app.state.readiness.phase is Phase.STOPPING
    assert not server.should_exit
    assert server.drain_timer is not None
    server.drain_timer.join(timeout=5)
    assert server.should_exit


def test_a_second_sigterm_skips_the_drain(app: FastAPI) -> None:
    server = make_server(app, drain_seconds=60)

    server.handle_exit(signal.SIGTERM, None)
    server.handle_exit(signal.SIGTERM, None)

    assert server.should_exit
    assert server.drain_timer is not None
    server.drain_timer.cancel()


def test_ctrl_c_exits_at_once(app: FastAPI) -> None:
    server = make_server(app, drain_seconds=60)

    server.handle_exit(signal.SIGINT, None)

    assert server.should_exit
    assert server.drain_timer is None


def test_no_drain_configured_exits_at_once(app: FastAPI) -> None:
    server = make_server(app, drain_seconds=0)

    server.handle_exit(signal.SIGTERM, None)

    assert server.should_exit
    assert server.drain_timer is None

"""Serve the app with uvicorn: the `python -m` entry point and the console script."""

from __future__ import annotations

import contextvars
import logging
import signal
import threading
from types import FrameType

import uvicorn

from .app import create_app
from .health import Readiness
from .log import configure_logging
from .settings import get_settings

# Under `python -m` this module is `__main__`; the spec keeps its real name for the logs.
logger = logging.getLogger(__spec__.name if __spec__ else __name__)


class DrainingServer(uvicorn.Server):
    """A uvicorn server that, on SIGTERM, fails readiness and keeps serving for a while.

    Orchestrators send SIGTERM and deregister the instance at the same time; closing
    the listener at once would refuse the requests still being routed here. A second
    signal, or SIGINT (Ctrl-C), shuts down without waiting.
    """

    def __init__(self, config: uvicorn.Config, readiness: Readiness, drain_seconds: float) -> None:
        super().__init__(config)
        self.readiness = readiness
        self.drain_seconds = drain_seconds
        self.drain_timer: threading.Timer | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if sig != signal.SIGTERM or self.drain_timer is not None or self.drain_seconds <= 0:
            super().handle_exit(sig, frame)
            return
        self.readiness.mark_stopping()
        # The handler interrupts whatever runs, maybe a request: log outside that request's context.
        contextvars.Context().run(
            logger.info,
            "SIGTERM received, draining before shutdown",
            extra={"drain_seconds": self.drain_seconds},
        )
        # Signal handlers must return quickly, so the delayed exit runs on a timer thread;
        # uvicorn polls `should_exit`, which the parent's handler sets.
        self.drain_timer = threading.Timer(
            self.drain_seconds, super().handle_exit, args=(sig, frame)
        )
        self.drain_timer.daemon = True
        self.drain_timer.start()


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level, json_output=settings.log_json)
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,  # configure_logging already routed uvicorn's loggers
        log_level=settings.log_level.lower(),
        access_log=False,  # RequestContextMiddleware logs requests with their ids
        server_header=False,
        timeout_graceful_shutdown=settings.shutdown_timeout_seconds,
    )
    DrainingServer(config, app.state.readiness, settings.shutdown_drain_seconds).run()


if __name__ == "__main__":
    main()

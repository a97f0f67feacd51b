"""Run the service under uvicorn with the keep-alive and shutdown the ALB and ECS need."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import prometheus_client
import uvicorn

from catalog.jsonlog import configure_logging, logging_config
from catalog.settings import Settings, SettingsError, load_settings


def server_config(settings: Settings, app: Callable[..., Any]) -> uvicorn.Config:
    """uvicorn settings: keep-alive past the ALB's idle timeout, bounded graceful shutdown, JSON logs."""
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        # The ALB closes idle connections after 60 s; if the app closed first, the ALB could send a
        # request on a socket the app just closed and answer 502.
        timeout_keep_alive=settings.keepalive_timeout_seconds,
        # On SIGTERM uvicorn stops accepting, lets in-flight requests finish for this long, then
        # runs the lifespan shutdown; ECS sends SIGKILL after its stop timeout (30 s).
        timeout_graceful_shutdown=int(settings.shutdown_timeout_seconds),
        log_config=logging_config(settings.log_level),
        # Our middleware writes the access log (with the X-Cache outcome); uvicorn's would repeat it.
        access_log=False,
        server_header=False,
        lifespan="on",
    )


def serve(settings: Settings) -> None:
    """Serve until SIGTERM/SIGINT."""
    from catalog.app import create_app  # the web stack loads only once the settings are known good

    configure_logging(settings.log_level)
    # *_created series only add noise to every scrape.
    prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]
    uvicorn.Server(server_config(settings, create_app(settings))).run()


def main() -> int:
    """Entry point of `catalog serve`: refuse bad settings with one JSON line and exit status 2."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(
            json.dumps({"level": "CRITICAL", "logger": "catalog.settings", "message": str(exc)}),
            file=sys.stderr,
        )
        return 2
    serve(settings)
    return 0

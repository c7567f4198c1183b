"""Starting the web server."""

from __future__ import annotations

import os
import socket

import uvicorn

from crosspromo.config import Settings
from crosspromo.errors import ConfigError
from crosspromo.services.database import open_database

APP_FACTORY = "crosspromo.web.app:app_from_environment"


def check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def serve(
    settings: Settings, host: str, port: int, workers: int, *, access_log: bool = False
) -> None:
    """Check the schema and the port, then run uvicorn; workers read the same settings."""
    if workers < 1:
        raise ConfigError("--workers must be at least 1")
    open_database(settings).dispose()
    check_port_free(host, port)
    os.environ["CROSSPROMO_DATABASE_URL"] = settings.database_url
    os.environ["CROSSPROMO_SECRET_KEY"] = settings.secret_key.get_secret_value()
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=access_log,  # a log line per redirect would cost more than the redirect
        proxy_headers=True,
        server_header=False,
    )

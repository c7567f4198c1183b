"""The access log (``crosspromo serve --access-log``): one line a request with its method, its
path without the query string (which can carry click ids, tokens and e-mail addresses), its
status, its duration and the client as the day's salted hash that clicks use, never the raw
address (yesterday's salt is deleted, so a logged hash cannot be traced back by trying
addresses)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crosspromo.tracking.redirect import VisitorSalts

log = logging.getLogger("crosspromo.access")


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp, salts: VisitorSalts, state: Any = None) -> None:
        self.app = app
        self.salts = salts
        self.state = state  # the application's, for whoever wraps this

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observed)
        finally:
            client = scope.get("client")
            salt = await self.salts.today(datetime.now(UTC))
            who = hmac.new(salt, (client[0] if client else "").encode(), hashlib.sha256)
            log.info(
                "%s %s %s %d %.1fms", who.hexdigest()[:16], scope["method"], scope["path"],
                status, (time.perf_counter() - started) * 1000,
            )  # fmt: skip

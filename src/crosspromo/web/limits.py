"""Request body size limit as pure ASGI middleware: a body over the limit gets 413
problem+json before the application sees any of it.

A declared Content-Length is checked up front. A body without one (chunked) is read up to the
limit first and then handed on, so the application never starts on a body it cannot finish.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crosspromo.errors import PayloadTooLargeError
from crosspromo.web.errors import problem


class BodyLimitMiddleware:
    """``max_bytes`` for every path, except paths starting with a prefix in ``larger``, which
    get the limit given there (identifier lists and overlap protocol messages)."""

    def __init__(self, app: ASGIApp, max_bytes: int, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = larger or {}

    def limit(self, path: str) -> int:
        for prefix, limit in self.larger.items():
            if path.startswith(prefix):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit(scope.get("path", ""))
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if declared.isdigit() and int(declared) > limit:
                await self._reject(scope, receive, send, limit)
                return
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > limit:
                await self._reject(scope, receive, send, limit)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        error = PayloadTooLargeError(f"the request body exceeds the limit of {limit} bytes")
        response = problem(
            error.http_status,
            error.code,
            error.title,
            error.message,
            scope.get("path", ""),
            limit_bytes=limit,
        )
        response.headers["Connection"] = "close"
        await response(scope, receive, send)

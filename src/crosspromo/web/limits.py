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
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if declared.isdigit() and int(declared) > self.max_bytes:
                await self._reject(scope, receive, send)
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
            if size > self.max_bytes:
                await self._reject(scope, receive, send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = PayloadTooLargeError(
            f"the request body exceeds the limit of {self.max_bytes} bytes"
        )
        response = problem(
            error.http_status,
            error.code,
            error.title,
            error.message,
            scope.get("path", ""),
            limit_bytes=self.max_bytes,
        )
        response.headers["Connection"] = "close"
        await response(scope, receive, send)

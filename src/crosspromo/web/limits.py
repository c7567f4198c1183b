"""Request body limits as pure ASGI middleware, counted while the body streams in.

Every request starts with the default allowance (``max_bytes``). A route that takes large
bodies (identifier lists, overlap protocol messages) raises its request's allowance with
:func:`allow_body` only once it has authenticated the caller (an API key, or an overlap
session that exists and is waiting for that message), so nobody can make the server read a
large body before proving who they are. A declared Content-Length above the largest
allowance a path can get is refused before anything is read; otherwise the body is counted
as the application reads it and cut at the allowance with a 413: nothing beyond the
allowance is ever held in memory.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crosspromo.errors import PayloadTooLargeError
from crosspromo.web.errors import problem

_SCOPE_KEY = "crosspromo.body"


@dataclass
class Allowance:
    """How many body bytes this request may still send, and how many it has."""

    limit: int
    ceiling: int  # the most any route of this path may allow
    received: int = 0


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body exceeds the limit of {limit} bytes")
        self.limit = limit


def allow_body(request: Request, limit: int) -> None:
    """Let this (authenticated) request send up to ``limit`` bytes, at most the ceiling of
    its path (a declared length above it is refused at the first read, before any byte)."""
    allowance: Allowance | None = request.scope.get(_SCOPE_KEY)
    if allowance is not None:
        allowance.limit = min(limit, allowance.ceiling)


class BodyLimitMiddleware:
    """``max_bytes`` for every request to begin with; paths starting with a prefix in
    ``larger`` may be allowed up to the limit given there by their route."""

    def __init__(self, app: ASGIApp, max_bytes: int, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = larger or {}

    def ceiling(self, path: str) -> int:
        for prefix, limit in self.larger.items():
            if path.startswith(prefix):
                return max(limit, self.max_bytes)
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ceiling = self.ceiling(scope.get("path", ""))
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > ceiling:
            await self._reject(scope, receive, send, ceiling)
            return
        allowance = Allowance(min(self.max_bytes, ceiling), ceiling)
        scope[_SCOPE_KEY] = allowance
        size = int(declared) if declared is not None and declared.isdigit() else None

        async def counting() -> Message:
            if size is not None and size > allowance.limit:
                raise BodyTooLarge(allowance.limit)  # said so up front: nothing is read
            message = await receive()
            if message["type"] == "http.request":
                allowance.received += len(message.get("body", b""))
                if allowance.received > allowance.limit:
                    raise BodyTooLarge(allowance.limit)
            return message

        await self.app(scope, counting, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        error = PayloadTooLargeError(f"the request body exceeds the limit of {limit} bytes")
        response = problem(
            error.http_status, error.code, error.title, error.message, scope.get("path", ""),
            limit_bytes=limit,
        )  # fmt: skip
        response.headers["Connection"] = "close"
        await response(scope, receive, send)

"""Security headers on every response, the redirects of ``/r/`` included. The dashboard loads
only our own files; the API docs page needs Swagger UI's inline start-up script, so it gets
a policy allowing exactly that. Over HTTPS in production, Strict-Transport-Security tells
browsers to use nothing else (``hsts_seconds``; 0 sends none)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crosspromo.config import Settings

_COMMON = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}
_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
_CSP_DOCS = _CSP.replace(
    "default-src 'self'", "default-src 'self'; script-src 'self' 'unsafe-inline'"
)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, hsts_seconds: int = 0) -> None:
        self.app = app
        hsts = f"max-age={hsts_seconds}; includeSubDomains" if hsts_seconds else None
        common = [(k.encode(), v.encode()) for k, v in _COMMON.items()]
        # the headers to add, per page kind and scheme: worked out once, not per response
        self._added = {
            (docs, https): [
                *common,
                (b"content-security-policy", (_CSP_DOCS if docs else _CSP).encode()),
                *([(b"strict-transport-security", hsts.encode())] if hsts and https else []),
            ]
            for docs in (False, True)
            for https in (False, True)
        }

    def added(self, path: str, *, https: bool) -> list[tuple[bytes, bytes]]:
        """The headers added to a response for ``path`` (unless the route sets its own)."""
        return self._added[path == "/docs", https]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        added = self.added(scope["path"], https=scope.get("scheme") == "https")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers += [h for h in added if h[0] not in present]  # the route's own win
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def hsts_seconds(settings: Settings) -> int:
    """Strict-Transport-Security's max-age: production's setting, else none."""
    return settings.hsts_max_age_seconds if settings.environment == "production" else 0

"""Long work shows progress: a dashboard page whose heavy result is being computed for the
first time (after a start, or for a new range) answers at once with a page that says what is
computed and how far it is, and reloads itself until the result is there."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates
from starlette.types import ASGIApp, Receive, Scope, Send

from crosspromo.services.results.cache import Computing, progress_after
from crosspromo.web.errors import navigation

REFRESH_SECONDS = 1
_NOT_PAGES = ("/api/", "/r/", "/static/", "/healthz", "/docs", "/openapi")
# the tab a page belongs to, by the first part of its path
_TABS = {"partners": "partners", "": "partnerships", "partnerships": "partnerships",
         "attribution": "attribution", "customers": "customers"}  # fmt: skip


class ProgressMiddleware:
    """A page view (GET, not the API) waits ``seconds`` for a first computation, then gets the
    progress page; everything else waits for its result, as before."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (scope["type"] != "http" or scope.get("method") != "GET"
                or path.startswith(_NOT_PAGES)):  # fmt: skip
            await self.app(scope, receive, send)
            return
        with progress_after(self.seconds):
            await self.app(scope, receive, send)


def install_progress(app: FastAPI, seconds: float) -> None:
    async def on_computing(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Computing)
        templates: Jinja2Templates = request.app.state.templates
        context: dict[str, Any] = {
            "what": exc.what, "elapsed": exc.elapsed_seconds, "expected": exc.expected_seconds,
            "refresh": REFRESH_SECONDS,
            "tab": _TABS.get(request.url.path.strip("/").split("/")[0], ""),
        } | navigation(request)  # fmt: skip
        response = templates.TemplateResponse(request, "computing.html", context, status_code=202)
        response.headers["Retry-After"] = str(REFRESH_SECONDS)
        response.headers["Cache-Control"] = "no-store"
        return response

    app.add_exception_handler(Computing, on_computing)
    app.add_middleware(ProgressMiddleware, seconds=seconds)

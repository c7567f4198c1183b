"""The one place where errors become HTTP responses: application/problem+json (RFC 9457)
for the API and machines, a short HTML page for people in a browser."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from crosspromo.errors import (
    AuthenticationError,
    CrossPromoError,
    InvalidInputError,
    MalformedBodyError,
    NotFoundError,
    PayloadTooLargeError,
)
from crosspromo.web.pages import header_context

log = logging.getLogger("crosspromo.web")
PROBLEM = "application/problem+json"
_STATUS_ERRORS: dict[int, type[CrossPromoError]] = {
    401: AuthenticationError,
    404: NotFoundError,
    413: PayloadTooLargeError,
}


def problem(
    status: int, code: str, title: str, detail: str, instance: str, **extra: Any
) -> JSONResponse:
    body = {
        "type": f"https://crosspromo.dev/errors/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": instance,
        **extra,
    }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _wants_html(request: Request) -> bool:
    if request.url.path.startswith(("/api/", "/healthz")):
        return False
    return "text/html" in request.headers.get("accept", "")


def render_error(request: Request, error: CrossPromoError) -> Response:
    if _wants_html(request):
        templates: Jinja2Templates = request.app.state.templates
        context = {"status": error.http_status, "title": error.title, "detail": error.message}
        return templates.TemplateResponse(
            request, "error.html", context | navigation(request), status_code=error.http_status
        )
    extra = {k: v for k, v in error.details.items() if k not in {"type", "title", "status"}}
    return problem(
        error.http_status, error.code, error.title, error.message, request.url.path, **extra
    )


def navigation(request: Request) -> dict[str, Any]:
    """The header of a logged-in user's pages, so an error page keeps its way back; nothing
    when the login cannot be read (the error may be the database's)."""
    try:
        return header_context(request)
    except Exception:
        return {}


def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    errors = exc.errors()
    json_error = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if json_error is not None:
        reason = json_error.get("ctx", {}).get("error", "JSON decode error")
        loc = json_error.get("loc", ())
        where = f" (offset {loc[1]})" if len(loc) > 1 and isinstance(loc[1], int) else ""
        message = f"the request body is not valid JSON: {reason}{where}"
        return render_error(request, MalformedBodyError(message))
    fields = [
        {
            "field": ".".join(str(p) for p in e["loc"] if p != "body") or "body",
            "message": e["msg"],
        }
        for e in errors
    ]
    summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
    error = InvalidInputError(f"invalid input: {summary}", errors=fields)
    return render_error(request, error)


def answer_error(request: Request, exc: Exception) -> Response:
    """The answer to an error raised while serving ``request``: ours as they are (logged when
    the fault is ours), anything else logged with its traceback and answered as unexpected."""
    if not isinstance(exc, CrossPromoError):
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return render_error(request, CrossPromoError("an unexpected error occurred"))
    if exc.http_status >= 500:
        log.error("%s: %s", exc.code, exc.message)
    return render_error(request, exc)


def install_error_handlers(app: FastAPI) -> None:
    async def on_crosspromo(request: Request, exc: Exception) -> Response:
        return answer_error(request, exc)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return _validation_error(request, exc)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        kind = _STATUS_ERRORS.get(exc.status_code)
        if kind is not None:
            detail = exc.detail if exc.status_code != 404 else "no such resource"
            limit = getattr(exc, "limit", None)  # a body cut at its limit says the limit
            extra = {"limit_bytes": limit} if isinstance(limit, int) else {}
            response = render_error(request, kind(str(detail), **extra))
            if exc.status_code == 413:
                response.headers["Connection"] = "close"  # the rest of the body is not read
            return response
        phrase = HTTPStatus(exc.status_code).phrase
        code = phrase.lower().replace(" ", "_").replace("-", "_")
        response = problem(exc.status_code, code, phrase, str(exc.detail), request.url.path)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        return answer_error(request, exc)

    app.add_exception_handler(CrossPromoError, on_crosspromo)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)

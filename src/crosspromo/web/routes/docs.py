"""Interactive API documentation, with Swagger UI served from our own static files; the
favicon."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse

SWAGGER = "/static/vendor/swagger-ui-5.35.0"
router = APIRouter(include_in_schema=False)


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title="crosspromo API",
        swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER}/swagger-ui.css",
        swagger_favicon_url=f"{SWAGGER}/favicon-32x32.png",
    )


@router.get("/favicon.ico")
def favicon() -> RedirectResponse:
    """Browsers ask for it before reading the page's icon link."""
    return RedirectResponse("/static/favicon.svg", status_code=301)

"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from crosspromo import __version__
from crosspromo.services.results import latest
from crosspromo.web.deps import DB

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(db: DB) -> JSONResponse:
    """200 when the database answers, 503 otherwise; ``results``: ``warming`` while the
    dashboards' heavy results are first computed after a start (pages then show progress),
    ``ready`` after."""
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        reason = str(exc).splitlines()[0]
        return JSONResponse({"status": "unavailable", "database": reason}, status_code=503)
    results = "warming" if latest.warming(db) else "ready"
    return JSONResponse(
        {"status": "ok", "database": "ok", "results": results, "version": __version__}
    )

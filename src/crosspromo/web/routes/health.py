"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from crosspromo import __version__
from crosspromo.web.deps import DB

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(db: DB) -> JSONResponse:
    """200 when the database answers, 503 otherwise."""
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        reason = str(exc).splitlines()[0]
        return JSONResponse({"status": "unavailable", "database": reason}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok", "version": __version__})

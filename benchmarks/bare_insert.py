"""The anchor of the conversions benchmark: a bare Starlette endpoint doing one durable
``INSERT ... ON CONFLICT DO NOTHING`` into PostgreSQL per request (psycopg async, a pool of
eight connections, autocommit: the answer goes out after the commit). Served by uvicorn:

    BARE_DSN=postgresql://postgres@127.0.0.1:5432/db uvicorn bare_insert:app
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

POOL = 8
TABLE = """CREATE TABLE IF NOT EXISTS bare_conversions (
    id BIGSERIAL PRIMARY KEY, idempotency_key TEXT NOT NULL UNIQUE, body JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now())"""
INSERT = """INSERT INTO bare_conversions (idempotency_key, body) VALUES (%s, %s)
    ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"""
connections: asyncio.Queue[psycopg.AsyncConnection[Any]] = asyncio.Queue()


@asynccontextmanager
async def lifespan(_app: Starlette) -> AsyncIterator[None]:
    dsn = os.environ["BARE_DSN"]
    opened = [await psycopg.AsyncConnection.connect(dsn, autocommit=True) for _ in range(POOL)]
    await opened[0].execute(TABLE)
    for conn in opened:
        connections.put_nowait(conn)
    yield
    for conn in opened:
        await conn.close()


async def record(request: Request) -> Response:
    body = await request.json()
    key = request.headers.get("idempotency-key") or str(body.get("order_id"))
    conn = await connections.get()
    try:
        cursor = await conn.execute(INSERT, (key, json.dumps(body)))
        row = await cursor.fetchone()
    finally:
        connections.put_nowait(conn)
    return JSONResponse({"id": row[0] if row else None}, status_code=201)


app = Starlette(routes=[Route("/api/v1/conversions", record, methods=["POST"])],
                lifespan=lifespan)  # fmt: skip

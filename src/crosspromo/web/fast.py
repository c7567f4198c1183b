"""The hot paths, served ahead of the framework: ``GET /r/{code}`` (``tracking.redirect``) and
``POST /api/v1/conversions``, which shops and payment systems call in bursts at sales peaks.

A well-formed conversion request (a bearer key, a JSON body the route's model accepts, an
idempotency key of the documented length) is parsed here and handed to the conversion writer,
which records every request that arrived meanwhile in one transaction, the key checked in it
(``services.track.recording``); the answer is written once that transaction has committed.
Anything else (no key, a body the model refuses, another content type, a body past the limit)
goes on to the application with the body read so far, so its answers, errors included, are
exactly the documented route's. The route stays declared there: it is the API's documentation
and serves every request this path hands on.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crosspromo.errors import AuthenticationError
from crosspromo.services.accounts.keys import KeyProof
from crosspromo.services.track.conversions import (
    ConversionRequest,
    ConversionView,
    Recorded,
    request_fingerprint,
)
from crosspromo.tracking.batches import GroupWriter
from crosspromo.tracking.redirect import PREFIX as REDIRECTS
from crosspromo.web.errors import answer_error
from crosspromo.web.routes.track.api import ConversionIn

if TYPE_CHECKING:
    from crosspromo.web.direct import DirectRedirect

CONVERSIONS = "/api/v1/conversions"
ConversionWriter = GroupWriter[ConversionRequest, Recorded]
_VIEW = TypeAdapter(ConversionView)
_READ = frozenset((b"authorization", b"content-type", b"idempotency-key"))


class FastPaths:
    """``/r/...`` to the redirect, ``POST /api/v1/conversions`` to the conversions path;
    everything else (and the lifespan) to the application."""

    def __init__(
        self,
        app: ASGIApp,
        redirect: ASGIApp,
        conversions: ASGIApp,
        direct: DirectRedirect | None = None,
    ) -> None:
        self.app = app
        self.redirect = redirect
        self.conversions = conversions
        self.direct = direct  # the redirects the server's protocol answers itself

    @property
    def state(self) -> Any:
        """The wrapped application's state (its database, settings, ...)."""
        return getattr(self.app, "state", None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            if path.startswith(REDIRECTS):
                await self.redirect(scope, receive, send)
                return
            if path == CONVERSIONS and scope["method"] == "POST":
                await self.conversions(scope, receive, send)
                return
        await self.app(scope, receive, send)


class ConversionsPath:
    """``POST /api/v1/conversions`` for well-formed requests; ``app`` answers the others."""

    def __init__(self, app: ASGIApp, writer: ConversionWriter, max_body_bytes: int) -> None:
        self.app = app
        self.writer = writer
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body, more = await self._body(receive)
        request = None if more else _request(scope, body)
        if request is None:  # the application answers it, reading the same body
            await self.app(scope, _replay(body, more, receive), send)
            return
        try:
            recorded = await self.writer.submit(request)
        except Exception as exc:
            await answer_error(Request(scope), exc)(scope, receive, send)
            return
        content = _VIEW.dump_json(recorded.conversions[0])
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(content)).encode()),
        ]
        if recorded.replayed:
            headers.append((b"idempotency-replayed", b"true"))
        await send({"type": "http.response.start", "status": 201, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    async def _body(self, receive: Receive) -> tuple[bytes, bool]:
        """The body, and whether more is to come (it is longer than the default limit: the
        application's limit then answers it)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks), True  # gone: the application sees the disconnect
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), False
            if size > self.max_body_bytes:
                return b"".join(chunks), True


def _request(scope: Scope, body: bytes) -> ConversionRequest | None:
    """The request to record, or None when it is not well-formed in every respect."""
    found: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        if name in _READ:
            if name in found:
                return None  # said twice: the application decides
            found[name] = value
    authorization, content_type = found.get(b"authorization"), found.get(b"content-type")
    if not authorization or content_type is None:
        return None
    key = found[b"idempotency-key"].decode("latin-1") if b"idempotency-key" in found else None
    if content_type.split(b";")[0].strip().lower() != b"application/json":
        return None
    scheme, _, credentials = authorization.decode("latin-1").partition(" ")
    if scheme.lower() != "bearer" or (key is not None and not 1 <= len(key) <= 200):
        return None
    try:
        proof = KeyProof.of(credentials.strip())
        parsed = ConversionIn.model_validate(json.loads(body))
    except (AuthenticationError, ValueError, ValidationError):
        return None
    fingerprint = request_fingerprint(parsed.model_dump(mode="json"))
    return ConversionRequest([parsed.to_input()], None, proof, key, fingerprint)


def _replay(body: bytes, more: bool, receive: Receive) -> Receive:
    """``receive`` for the application: the body read so far, then the rest as it comes."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": more}
        return await receive()

    return replayed

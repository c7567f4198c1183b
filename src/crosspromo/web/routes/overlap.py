"""Private audience overlap (REST API v1), and the protocol's own endpoints.

Offers and joins take the identifier list as the request body (``text/csv`` or Parquet) with
its options in the query. The protocol endpoints under ``/overlap/v1`` take no API key: a
requester on another server proves itself with the session's seal on every message.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Query, Request, Response
from fastapi import Path as PathParam
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from crosspromo.analytics.overlap import Disclosure, IdentifierKind, OverlapResult
from crosspromo.domain.overlap import OverlapSession
from crosspromo.services.discover import sessions
from crosspromo.services.discover.lists import ListOptions
from crosspromo.web.deps import DB, ApiOrg
from crosspromo.web.schemas import PROBLEM_RESPONSES, problem_response

RESPONSES = {
    **PROBLEM_RESPONSES,
    403: problem_response("your or the partner's sharing level forbids it"),
}
router = APIRouter(prefix="/api/v1/overlap", tags=["overlap"], responses=RESPONSES)
protocol = APIRouter(prefix="/overlap/v1", tags=["overlap protocol"], responses=RESPONSES)
T = TypeVar("T")
LARGE_BODIES = ("/api/v1/overlap/", "/overlap/v1/")
SessionId = Annotated[str, PathParam(pattern="^[0-9a-f]{32}$")]
PARQUET_TYPES = ("application/vnd.apache.parquet", "application/x-parquet")
OCTETS: dict[str, Any] = {"content": {"application/octet-stream": {}}}


class SharingIn(BaseModel):
    level: Literal["hidden", "counts", "records"]


class SharingOut(BaseModel):
    level: str


class SegmentPair(BaseModel):
    requester: str
    responder: str
    intersection: int


class SessionOut(BaseModel):
    session: str
    role: Literal["responder", "requester"]
    partner: str | None = Field(description="the other tenant; null for another server")
    status: str
    disclosure: str
    size: int = Field(description="the responder's consented customers taking part")
    created_at: datetime
    expires_at: datetime
    intersection: int | None
    size_requester: int | None
    size_responder: int | None
    segments: list[SegmentPair]


class SessionList(BaseModel):
    items: list[SessionOut]


class OfferOut(SessionOut):
    token: str = Field(description="shown once: give it to the requester, who seals with it")
    rows: int
    invalid: int
    not_sharing: int = Field(description="rows that are not customers consenting to sharing")


class JoinOut(BaseModel):
    session: str
    size_requester: int
    size_responder: int
    intersection: int
    overlap_rate_requester: float
    overlap_rate_responder: float
    segments: list[SegmentPair]
    shared: list[str] | None = Field(description="your own shared identifiers (records only)")


async def _upload(request: Request) -> Path:
    """The request body saved as a .csv or .parquet file, by its content type."""
    kind = request.headers.get("content-type", "text/csv").split(";")[0].strip()
    suffix = ".parquet" if kind in PARQUET_TYPES else ".csv"
    handle = tempfile.NamedTemporaryFile(prefix="overlap-", suffix=suffix, delete=False)  # noqa: SIM115
    with handle:
        async for chunk in request.stream():
            handle.write(chunk)
    return Path(handle.name)


async def _with_upload(request: Request, work: Callable[[Path], T]) -> T:
    """``work`` on the uploaded body's file, on a worker thread (blinding takes seconds: off
    the event loop); the file is deleted afterwards whatever happens."""
    path = await _upload(request)
    try:
        return await run_in_threadpool(work, path)
    finally:
        path.unlink(missing_ok=True)


def _options(column: str, kind: IdentifierKind, region: str, skip_invalid: bool) -> ListOptions:
    return ListOptions(column=column, kind=kind, region=region, skip_invalid=skip_invalid)


def _view(db: DB, org_id: int, item: OverlapSession) -> dict[str, Any]:
    return sessions.session_views(db, org_id, [item])[0]


Column = Annotated[str, Query(min_length=1, max_length=200)]
Region = Annotated[str, Query(pattern="^[A-Z]{2}$")]


@router.get("/sharing", response_model=SharingOut)
def get_sharing(org: ApiOrg, db: DB) -> SharingOut:
    """What others may learn of your audience: hidden (the default), counts, or records."""
    return SharingOut(level=str(sessions.get_sharing(db, org.id)))


@router.put("/sharing", response_model=SharingOut)
def set_sharing(body: SharingIn, org: ApiOrg, db: DB) -> SharingOut:
    """Opt in or out; lowering the level revokes your unfinished sessions."""
    return SharingOut(level=str(sessions.set_sharing(db, org.id, body.level)))


@router.post("/offers", response_model=OfferOut, status_code=201, openapi_extra=OCTETS)
async def open_offer(
    request: Request,
    org: ApiOrg,
    db: DB,
    column: Column = "email",
    kind: IdentifierKind = IdentifierKind.EMAIL,
    region: Region = "US",
    partner: Annotated[str | None, Query(max_length=64)] = None,
    disclosure: Disclosure = Disclosure.COUNTS,
    hours: Annotated[float, Query(gt=0, le=sessions.MAX_HOURS)] = sessions.DEFAULT_HOURS,
    segments: bool = False,
    skip_invalid: bool = False,
) -> OfferOut:
    """Offer an overlap: your identifier list is the body (CSV, or Parquet by content type).
    Your consented customers on it are blinded and kept until the session ends."""
    options = _options(column, kind, region, skip_invalid)
    offer = await _with_upload(
        request,
        lambda path: sessions.open_offer(
            db, org.id, path, options, partner=partner, disclosure=disclosure, hours=hours,
            segments=segments, max_bytes=db.settings.overlap_max_bytes,
        ),
    )  # fmt: skip
    return OfferOut(
        **_view(db, org.id, offer.session),
        token=offer.token,
        rows=offer.presented.rows,
        invalid=offer.presented.invalid,
        not_sharing=offer.presented.not_sharing,
    )


@router.get("/sessions", response_model=SessionList)
def list_sessions(org: ApiOrg, db: DB) -> SessionList:
    """Your overlap sessions, as responder or requester, newest first, with their counts."""
    views = sessions.session_views(db, org.id, sessions.list_sessions(db, org.id))
    return SessionList(items=[SessionOut(**v) for v in views])


@router.get("/sessions/{session_id}", response_model=SessionOut)
def get_session(session_id: SessionId, org: ApiOrg, db: DB) -> SessionOut:
    return SessionOut(**_view(db, org.id, sessions.session_for(db, org.id, session_id)))


@router.delete("/sessions/{session_id}", status_code=204)
def revoke_session(session_id: SessionId, org: ApiOrg, db: DB) -> Response:
    """Revoke an unfinished session: its blinded values are deleted."""
    sessions.revoke(db, org.id, session_id)
    return Response(status_code=204)


@router.post("/sessions/{session_id}/join", response_model=JoinOut, openapi_extra=OCTETS)
async def join_session(
    session_id: SessionId,
    request: Request,
    org: ApiOrg,
    db: DB,
    column: Column = "email",
    kind: IdentifierKind = IdentifierKind.EMAIL,
    region: Region = "US",
    segments: bool = False,
    skip_invalid: bool = False,
) -> JoinOut:
    """Answer an offer made to you on this server with your own list (the body)."""
    options = _options(column, kind, region, skip_invalid)
    result, shared = await _with_upload(
        request, lambda path: sessions.join_offer(db, org.id, session_id, path, options, segments)
    )
    return _joined(session_id, result, shared)


def _joined(session_id: str, result: OverlapResult, shared: list[str] | None) -> JoinOut:
    return JoinOut(
        session=session_id,
        size_requester=result.size_a,
        size_responder=result.size_b,
        intersection=result.intersection,
        overlap_rate_requester=result.overlap_rate_a,
        overlap_rate_responder=result.overlap_rate_b,
        segments=[
            SegmentPair(requester=s.a_segment, responder=s.b_segment, intersection=s.intersection)
            for s in result.segment_pairs()
        ],
        shared=shared,
    )


@protocol.post(
    "/sessions/{session_id}/request",
    openapi_extra=OCTETS,
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "message 2"}},
)
async def protocol_request(session_id: SessionId, request: Request, db: DB) -> Response:
    """Message 1 in, message 2 out (both sealed with the session's key)."""
    body = await request.body()
    return Response(
        sessions.answer_request(db, session_id, body), media_type="application/octet-stream"
    )


@protocol.post("/sessions/{session_id}/result", status_code=204, openapi_extra=OCTETS)
async def protocol_result(session_id: SessionId, request: Request, db: DB) -> Response:
    """Message 3: the counts, for the responder's records."""
    await run_in_threadpool(sessions.accept_result, db, session_id, await request.body())
    return Response(status_code=204)

"""Discover: partner profiles and mentions, ranked candidates with reasons, the ecosystem
graph, outreach drafts (API and the dashboard's Discover tab), and private audience overlap.

Offers and joins take the identifier list as the request body (``text/csv`` or Parquet) with
its options in the query. The protocol endpoints under ``/overlap/v1`` take no API key: a
requester on another server proves itself with the session's seal on every message."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import RedirectResponse
from pydantic import AwareDatetime, BaseModel, Field
from starlette.concurrency import run_in_threadpool

from crosspromo.analytics.discovery.score import FACTORS, OVERLAP_BAND
from crosspromo.analytics.overlap import Disclosure, IdentifierKind
from crosspromo.domain import User
from crosspromo.domain.overlap import SharingLevel
from crosspromo.errors import InvalidInputError, NotFoundError
from crosspromo.services.discover import profiles, ranking, remote, sessions
from crosspromo.services.discover.lists import ListOptions
from crosspromo.services.discover.profiles import MentionsAdded, ProfileView
from crosspromo.services.discover.ranking import Outreach, RankingView
from crosspromo.services.discover.sessions import JoinResult, OfferView, SessionView, Sharing
from crosspromo.services.results import latest
from crosspromo.store.database import Database
from crosspromo.web.charts import bar_chart, stacked_bars
from crosspromo.web.deps import DB, ApiOrg, check_csrf
from crosspromo.web.limits import allow_body
from crosspromo.web.pages import Csrf, Editor, Manager, page
from crosspromo.web.schemas import PROBLEM_RESPONSES, SLUG, Listing, PartnerSlug, problem_response

RESPONSES = {
    **PROBLEM_RESPONSES,
    403: problem_response("your or the partner's sharing level forbids it"),
}
api = APIRouter(prefix="/api/v1", tags=["discover"], responses=PROBLEM_RESPONSES)
overlap = APIRouter(prefix="/api/v1/overlap", tags=["discover"], responses=RESPONSES)
protocol = APIRouter(prefix="/overlap/v1", tags=["overlap protocol"], responses=RESPONSES)
pages = APIRouter(include_in_schema=False)
T = TypeVar("T")
LARGE_BODIES = ("/api/v1/overlap/", "/overlap/v1/")
Encoder = Annotated[Literal["auto", "minilm", "tfidf"], Query()]
Slug = Annotated[str, Query(min_length=1, max_length=64, pattern=SLUG)]
SessionId = Annotated[str, PathParam(pattern="^[0-9a-f]{32}$")]
Column = Annotated[str, Query(min_length=1, max_length=200)]
Region = Annotated[str, Query(pattern="^[A-Z]{2}$")]
PARQUET_TYPES = ("application/vnd.apache.parquet", "application/x-parquet")
OCTETS: dict[str, Any] = {"content": {"application/octet-stream": {}}}


class ProfileIn(BaseModel):
    description: str = Field(default="", max_length=profiles.MAX_DESCRIPTION)
    categories: list[Annotated[str, Field(max_length=profiles.MAX_ITEM)]] = Field(
        default_factory=list, max_length=profiles.MAX_ITEMS
    )
    offerings: list[Annotated[str, Field(max_length=profiles.MAX_ITEM)]] = Field(
        default_factory=list, max_length=profiles.MAX_ITEMS
    )
    audience_size: int | None = Field(default=None, ge=0, le=10**12)
    followers: int | None = Field(default=None, ge=0, le=10**12)
    engagements: int | None = Field(default=None, ge=0, le=10**12)
    region: str = Field(default="", max_length=64)


class MentionIn(BaseModel):
    text: str = Field(min_length=1, max_length=10_000)
    source: str = Field(default="", max_length=200)
    posted_at: AwareDatetime | None = None


class MentionsIn(BaseModel):
    items: list[MentionIn] = Field(min_length=1, max_length=10_000)


class SharingIn(BaseModel):
    level: Literal["hidden", "counts", "records"]


@api.get("/profile")
def get_profile(org: ApiOrg, db: DB) -> ProfileView:
    """Your organization's partner profile."""
    return profiles.get_profile(db, org.id)


@api.put("/profile")
def put_profile(body: ProfileIn, org: ApiOrg, db: DB) -> ProfileView:
    """Create or replace your profile (what you offer, to whom, your audience's engagement)."""
    given = profiles.ProfileInput(
        body.description, tuple(body.categories), tuple(body.offerings), body.audience_size,
        body.followers, body.engagements, body.region,
    )  # fmt: skip
    return profiles.save_profile(db, org.id, given)


@api.delete("/profile", status_code=204)
def delete_profile(org: ApiOrg, db: DB) -> Response:
    """Remove your profile: you no longer appear as a candidate."""
    profiles.delete_profile(db, org.id)
    return Response(status_code=204)


@api.get("/profiles")
def list_profiles(org: ApiOrg, db: DB) -> Listing[ProfileView]:
    """Every organization's public profile here (what discovery compares)."""
    return Listing.of(profiles.list_profiles(db))


@api.post("/profile/mentions")
def add_mentions(body: MentionsIn, org: ApiOrg, db: DB) -> MentionsAdded:
    """Public mentions of your organization (reviews, posts); replays add nothing."""
    return profiles.add_mentions(db, org.id, [m.model_dump() for m in body.items])


@api.get("/partners/rank")
def rank(
    org: ApiOrg,
    db: DB,
    top: Annotated[int, Query(ge=1, le=1000)] = 10,
    new_only: bool = False,
    encoder: Encoder = "auto",
) -> RankingView:
    """Candidate partners, best first, with each factor's part of the score and the reasons:
    the same JSON as ``crosspromo partners rank --format json``."""
    return ranking.rank(db, org.id, top=top, encoder=encoder, include_partners=not new_only)


@api.get(
    "/partners/graph",
    response_class=Response,
    responses={200: {"content": {"application/graphml+xml": {}}, "description": "GraphML"}},
)
def graph(org: ApiOrg, db: DB, encoder: Encoder = "auto") -> Response:
    """The ecosystem graph as GraphML (overlaps: only those measured with you)."""
    text = ranking.ecosystem_graphml(db, org.id, encoder)
    return Response(text, media_type="application/graphml+xml")


@api.get("/partners/outreach")
def outreach(org: ApiOrg, db: DB, candidate: Slug, encoder: Encoder = "auto") -> Outreach:
    """A drafted introduction to ``candidate`` citing the evidence."""
    return ranking.outreach_for(db, org.id, candidate, encoder)


async def _upload(request: Request) -> Path:
    """The request body saved as a .csv or .parquet file, by its content type. Called once
    the API key is checked: only then may the body be larger than the default limit."""
    allow_body(request, request.app.state.settings.overlap_max_bytes)
    kind = request.headers.get("content-type", "text/csv").split(";")[0].strip()
    suffix = ".parquet" if kind in PARQUET_TYPES else ".csv"
    handle = tempfile.NamedTemporaryFile(prefix="overlap-", suffix=suffix, delete=False)  # noqa: SIM115
    path = Path(handle.name)
    try:
        with handle:
            async for chunk in request.stream():
                handle.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)  # a body cut at its limit leaves nothing behind
        raise
    return path


async def _with_upload(request: Request, work: Callable[[Path], T]) -> T:
    """``work`` on the uploaded body's file, on a worker thread (blinding takes seconds: off
    the event loop); the file is deleted afterwards whatever happens."""
    path = await _upload(request)
    try:
        return await run_in_threadpool(work, path)
    finally:
        path.unlink(missing_ok=True)


def _list_options(
    column: Column = "email",
    kind: IdentifierKind = IdentifierKind.EMAIL,
    region: Region = "US",
    skip_invalid: bool = False,
) -> ListOptions:
    """How to read the identifier list in the body, from the query."""
    return ListOptions(column=column, kind=kind, region=region, skip_invalid=skip_invalid)


Options = Annotated[ListOptions, Depends(_list_options)]


@overlap.get("/sharing")
def get_sharing(org: ApiOrg, db: DB) -> Sharing:
    """What others may learn of your audience: hidden (the default), counts, or records."""
    return sessions.sharing(db, org.id)


@overlap.put("/sharing")
def set_sharing(body: SharingIn, org: ApiOrg, db: DB) -> Sharing:
    """Opt in or out; lowering the level revokes your unfinished sessions."""
    return sessions.sharing(db, org.id, body.level)


@overlap.post("/offers", status_code=201, openapi_extra=OCTETS)
async def open_offer(
    request: Request,
    org: ApiOrg,
    db: DB,
    options: Options,
    partner: PartnerSlug = None,
    disclosure: Disclosure = Disclosure.COUNTS,
    hours: Annotated[float, Query(gt=0, le=sessions.MAX_HOURS)] = sessions.DEFAULT_HOURS,
    segments: bool = False,
) -> OfferView:
    """Offer an overlap: your identifier list is the body (CSV, or Parquet by content type).
    Your consented customers on it are blinded and kept until the session ends."""
    return await _with_upload(
        request,
        lambda path: sessions.offer_overlap(
            db, org.id, path, options, partner=partner, disclosure=disclosure, hours=hours,
            segments=segments,
        ),
    )  # fmt: skip


@overlap.get("/sessions")
def list_sessions(org: ApiOrg, db: DB) -> Listing[SessionView]:
    """Your overlap sessions, as responder or requester, newest first, with their counts."""
    return Listing.of(sessions.session_views(db, org.id))


@overlap.get("/sessions/{session_id}")
def get_session(session_id: SessionId, org: ApiOrg, db: DB) -> SessionView:
    return sessions.session_view(db, org.id, session_id)


@overlap.delete("/sessions/{session_id}", status_code=204)
def revoke_session(session_id: SessionId, org: ApiOrg, db: DB) -> Response:
    """Revoke an unfinished session: its blinded values are deleted."""
    sessions.revoke(db, org.id, session_id)
    return Response(status_code=204)


@overlap.post("/sessions/{session_id}/join", openapi_extra=OCTETS)
async def join_session(
    session_id: SessionId,
    request: Request,
    org: ApiOrg,
    db: DB,
    options: Options,
    segments: bool = False,
) -> JoinResult:
    """Answer an offer made to you on this server with your own list (the body)."""
    return await _with_upload(
        request, lambda path: sessions.answer_offer(db, org.id, session_id, path, options, segments)
    )


@protocol.post(
    "/sessions/{session_id}/request",
    openapi_extra=OCTETS,
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "message 2"}},
)
async def protocol_request(session_id: SessionId, request: Request, db: DB) -> Response:
    """Message 1 in, message 2 out (both sealed with the session's key). The session is
    looked up before the body is read, and the work runs off the event loop."""
    allowed = await run_in_threadpool(remote.message_allowance, db, session_id, "request")
    allow_body(request, allowed)
    body = await request.body()
    answer = await run_in_threadpool(remote.answer_request, db, session_id, body)
    return Response(answer, media_type="application/octet-stream")


@protocol.post("/sessions/{session_id}/result", status_code=204, openapi_extra=OCTETS)
async def protocol_result(session_id: SessionId, request: Request, db: DB) -> Response:
    """Message 3: the counts, for the responder's records."""
    allowed = await run_in_threadpool(remote.message_allowance, db, session_id, "result")
    allow_body(request, allowed)
    await run_in_threadpool(remote.accept_result, db, session_id, await request.body())
    return Response(status_code=204)


@pages.get("/partners")
def partners(request: Request, user: Manager, db: DB) -> Response:
    """Who to partner with next: ranked candidates with each factor's part, the reasons,
    measured overlaps against the target band, and bundles; propose to one in a click."""
    try:
        found = latest.ranking(db, user.org_id)
    except NotFoundError as exc:
        return page(request, "discover/partners.html", user=user, problem=exc.message)
    candidates = found.value.candidates
    rows = [
        (c.org, c.parts, f"{c.score:.2f}" + (" competitor" if c.competitor else ""),
         c.competitor)
        for c in candidates
    ]  # fmt: skip
    measured = [c for c in candidates if c.overlap]
    low, high = OVERLAP_BAND
    overlap_chart = bar_chart(
        [c.org.split("-")[0] for c in measured],  # short labels: the slugs' first words
        {"our customers they share (%)": [100 * c.overlap.rate_ours for c in measured if c.overlap],
         "their customers we share (%)":
             [100 * c.overlap.rate_theirs for c in measured if c.overlap]},
        band=(100 * low, 100 * high, f"target {low:.0%}-{high:.0%}"),
    )  # fmt: skip
    return page(
        request, "discover/partners.html", user=user, problem=None, ranking=found.value,
        latest=found, score_chart=stacked_bars(rows, list(FACTORS)), overlap_chart=overlap_chart,
    )  # fmt: skip


@pages.get("/partners/outreach")
def partner_outreach(request: Request, user: Manager, db: DB, candidate: Slug) -> Response:
    """A drafted introduction to one candidate with only what the candidate should read,
    editable and copyable."""
    drafted = latest.outreach(db, user.org_id, candidate)
    return page(
        request, "discover/outreach.html", user=user, candidate=candidate,
        text=drafted.value.text,
    )  # fmt: skip


@pages.get("/settings/sharing")
def sharing_page(request: Request, user: Manager, db: DB) -> Response:
    """What partners may learn of the audience in an overlap, and the sessions so far."""
    return page(request, "discover/sharing.html", user=user,
                sharing=sessions.sharing(db, user.org_id), levels=list(SharingLevel),
                overlaps=sessions.session_views(db, user.org_id))  # fmt: skip


@pages.post("/settings/sharing")
def sharing_set(
    request: Request, user: Editor, db: DB, level: Annotated[SharingLevel, Form()],
    csrf: Csrf = "",
) -> Response:  # fmt: skip
    """Opt in or out; lowering the level revokes the organization's unfinished sessions."""
    check_csrf(request, csrf)
    sessions.sharing(db, user.org_id, level)
    return RedirectResponse("/settings/sharing", status_code=303)


def _profile_page(
    request: Request, user: User, db: Database, *, status_code: int = 200, **context: object
) -> Response:
    try:
        current: ProfileView | None = profiles.get_profile(db, user.org_id)
    except NotFoundError:
        current = None
    context = {"error": None, "saved": False, "form": None} | context
    return page(request, "discover/profile.html", user=user, profile=current,
                status_code=status_code, **context)  # fmt: skip


@pages.get("/settings/profile")
def profile_page(request: Request, user: Manager, db: DB, saved: bool = False) -> Response:
    """What partners see of the organization in Discover: description, categories, offerings,
    audience."""
    return _profile_page(request, user, db, saved=saved)


def _whole(text: str, name: str) -> int | None:
    if not text.strip():
        return None
    try:
        return int(text.replace(",", "").strip())
    except ValueError:
        raise InvalidInputError(f"{name}: a whole number", field=name) from None


@pages.post("/settings/profile")
def profile_save(
    request: Request,
    user: Editor,
    db: DB,
    description: Annotated[str, Form(max_length=profiles.MAX_DESCRIPTION)] = "",
    categories: Annotated[str, Form(max_length=2000)] = "",
    offerings: Annotated[str, Form(max_length=10_000)] = "",
    audience_size: Annotated[str, Form(max_length=20)] = "",
    followers: Annotated[str, Form(max_length=20)] = "",
    engagements: Annotated[str, Form(max_length=20)] = "",
    region: Annotated[str, Form(max_length=64)] = "",
    csrf: Csrf = "",
) -> Response:
    check_csrf(request, csrf)
    form = {"description": description, "categories": categories, "offerings": offerings,
            "audience_size": audience_size, "followers": followers, "engagements": engagements,
            "region": region}  # fmt: skip
    try:
        given = profiles.ProfileInput(
            description, tuple(categories.split(",")), tuple(offerings.splitlines()),
            _whole(audience_size, "audience_size"), _whole(followers, "followers"),
            _whole(engagements, "engagements"), region,
        )  # fmt: skip
        profiles.save_profile(db, user.org_id, given)
    except InvalidInputError as exc:
        return _profile_page(request, user, db, error=exc.message, form=form,
                             status_code=exc.http_status)  # fmt: skip
    return RedirectResponse("/settings/profile?saved=true", status_code=303)

"""Co-branded assets and brand guidelines, over the REST API and in the dashboard and portal:
uploads (the body streamed to a spool file and held to the limit as it arrives, only once the
caller is known), versions, reviews by every party, comments, previews for review and counted
downloads of approved versions; each organization's guidelines and its logo."""

# No ``from __future__ import annotations``: FastAPI reads the parameters' annotations.
import re
import tempfile
from collections.abc import Callable
from typing import IO, Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, StreamingResponse
from pydantic import Field
from starlette.datastructures import FormData, UploadFile

from crosspromo.domain import Organization, User
from crosspromo.domain.media import MediaType
from crosspromo.domain.text import digits
from crosspromo.errors import InvalidInputError
from crosspromo.services.accounts.organizations import organization_slugs
from crosspromo.services.plan import assets
from crosspromo.services.plan.assets import Asset, Content, Guidelines, Offered
from crosspromo.services.plan.campaigns import get_campaign
from crosspromo.store.blobs import BlobStore
from crosspromo.store.database import Database
from crosspromo.web.deps import DB, ApiOrg, check_csrf
from crosspromo.web.limits import allow_body
from crosspromo.web.pages import AnyUser, page
from crosspromo.web.routes.plan.pages import REFUSED, acting, base_of, campaign_page_with
from crosspromo.web.schemas import PROBLEM_RESPONSES, Body, SmallId

api = APIRouter(prefix="/api/v1", tags=["plan"], responses=PROBLEM_RESPONSES)
public = APIRouter(tags=["plan"], responses=PROBLEM_RESPONSES)  # logos, shown on landing pages
pages = APIRouter(include_in_schema=False)
FORM_OVERHEAD = 64 * 1024  # a form's other fields and part headers, beside the file
# where uploads are taken: the body limit lets these paths grow to the asset limit, which a
# route grants only once it knows the caller
UPLOADS = ("/api/v1/campaigns/", "/campaigns/", "/portal/campaigns/",
           "/api/v1/brand-guidelines/logo", "/brand", "/portal/brand")  # fmt: skip
_RAW_BODY = {"requestBody": {"required": True, "content": {
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}  # fmt: skip
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def blobs_of(request: Request) -> BlobStore:
    store = request.app.state.blobs
    assert isinstance(store, BlobStore)
    return store


def _limit(request: Request) -> int:
    return int(request.app.state.settings.asset_max_bytes)


async def _spooled(request: Request) -> IO[bytes]:
    """The request's body in a spool file (memory, then disk), counted as it arrives: the
    body limit cuts it at the asset limit with a 413."""
    allow_body(request, _limit(request))
    spool = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115 - returned
    async for piece in request.stream():
        spool.write(piece)
    spool.seek(0)
    return spool


def _streamed(found: Content, *, download: bool) -> StreamingResponse:
    name = _SAFE_NAME.sub("_", found.filename)
    headers = {
        "content-disposition": f"{'attachment' if download else 'inline'}; "
                               f"filename=\"{name}\"; filename*=UTF-8''{quote(name)}",
        "content-length": str(found.size),
        "cache-control": "private, no-store",
        # whatever a file holds, it never runs as our site: no script, no form, no plugin
        "content-security-policy": "sandbox; default-src 'none'; img-src data:; "
                                   "style-src 'unsafe-inline'; frame-ancestors 'self'",
        "x-frame-options": "SAMEORIGIN",
    }  # fmt: skip
    return StreamingResponse(found.chunks, media_type=str(found.media), headers=headers)


# --- REST API --------------------------------------------------------------------------------


class ReviewGiven(Body):
    version: int = Field(ge=1, le=1_000_000)
    decision: Literal["approved", "changes_requested"]
    by: str = Field("API", min_length=1, max_length=320)


class CommentGiven(Body):
    body: str = Field(min_length=1, max_length=2000)
    version: int | None = Field(None, ge=1, le=1_000_000)
    by: str = Field("API", min_length=1, max_length=320)


class GuidelinesGiven(Body):
    colours: list[Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")]] = Field(
        default_factory=list, max_length=12
    )
    dos: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, max_length=20)
    donts: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, max_length=20)
    voice: str = Field("", max_length=500)


Name = Annotated[str, Query(min_length=1, max_length=200)]


@api.get("/campaigns/{campaign_id}/assets")
def list_assets(org: ApiOrg, db: DB, campaign_id: SmallId) -> list[Asset]:
    """The campaign's co-branded assets, each with its versions, reviews and comments."""
    return assets.list_assets(db, org.id, campaign_id)


async def _upload_body(
    request: Request, org: Organization, db: Database, campaign_id: int, filename: str,
    **target: Any,
) -> Asset:  # fmt: skip
    source = await _spooled(request)
    with source:
        return await run_in_threadpool(lambda: assets.upload(
            db, blobs_of(request), org.id, campaign_id, source, filename=filename,
            by=f"API ({org.slug})", limit=_limit(request), **target,
        ))  # fmt: skip


@api.post("/campaigns/{campaign_id}/assets", status_code=201, openapi_extra=_RAW_BODY)
async def upload_asset(
    request: Request, org: ApiOrg, db: DB, campaign_id: SmallId, filename: Name,
    name: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
) -> Asset:  # fmt: skip
    """A new asset: the body is the file (its type is told from its content)."""
    return await _upload_body(request, org, db, campaign_id, filename, name=name)


@api.get("/campaigns/{campaign_id}/assets/{asset_id}")
def get_asset(org: ApiOrg, db: DB, campaign_id: SmallId, asset_id: SmallId) -> Asset:
    return assets.get_asset(db, org.id, campaign_id, asset_id)


@api.post(
    "/campaigns/{campaign_id}/assets/{asset_id}/versions", status_code=201,
    openapi_extra=_RAW_BODY,
)  # fmt: skip
async def upload_version(
    request: Request, org: ApiOrg, db: DB, campaign_id: SmallId, asset_id: SmallId,
    filename: Name,
) -> Asset:  # fmt: skip
    """A new version of the asset: every party reviews it afresh."""
    return await _upload_body(request, org, db, campaign_id, filename, asset_id=asset_id)


@api.post("/campaigns/{campaign_id}/assets/{asset_id}/reviews")
def review_asset(
    org: ApiOrg, db: DB, campaign_id: SmallId, asset_id: SmallId, given: ReviewGiven
) -> Asset:
    """The organization's decision on the latest version."""
    return assets.review(db, org.id, campaign_id, asset_id, given.version, given.decision,
                         given.by)  # fmt: skip


@api.post("/campaigns/{campaign_id}/assets/{asset_id}/comments", status_code=201)
def comment_asset(
    org: ApiOrg, db: DB, campaign_id: SmallId, asset_id: SmallId, given: CommentGiven
) -> Asset:
    return assets.comment(db, org.id, campaign_id, asset_id, given.version, given.by,
                          given.body)  # fmt: skip


@api.get(
    "/campaigns/{campaign_id}/assets/{asset_id}/versions/{version}/content",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def asset_content(
    request: Request, org: ApiOrg, db: DB, campaign_id: SmallId, asset_id: SmallId,
    version: SmallId, download: bool = False,
) -> StreamingResponse:  # fmt: skip
    """A version's file: to review (any party), or with ``download`` to use (approved by all;
    counted)."""
    found = assets.content(db, blobs_of(request), org.id, campaign_id, asset_id, version,
                           download=download)  # fmt: skip
    return _streamed(found, download=download)


@api.get("/assets/offered")
def offered_assets(org: ApiOrg, db: DB) -> list[Offered]:
    """The assets approved by every party, ready for use, in the organization's campaigns."""
    return assets.offered(db, org.id)


@api.get("/campaigns/{campaign_id}/guidelines")
def campaign_guidelines(org: ApiOrg, db: DB, campaign_id: SmallId) -> list[Guidelines]:
    """The brand guidelines of the campaign's parties."""
    return assets.campaign_guidelines(db, org.id, campaign_id)


@api.put("/brand-guidelines")
def put_guidelines(request: Request, org: ApiOrg, db: DB, given: GuidelinesGiven) -> Guidelines:
    """The organization's brand guidelines (its logo is kept; see the logo route)."""
    return assets.save_guidelines(db, blobs_of(request), org.id, colours=given.colours,
                                  dos=given.dos, donts=given.donts, voice=given.voice)  # fmt: skip


@api.put("/brand-guidelines/logo", openapi_extra=_RAW_BODY)
async def put_logo(request: Request, org: ApiOrg, db: DB) -> Guidelines:
    """The organization's logo (an image; the body is the file); the rest is kept."""
    source = await _spooled(request)
    with source:
        return await run_in_threadpool(
            lambda: assets.save_guidelines(db, blobs_of(request), org.id, logo=source)
        )


@public.get("/logos/{digest}", response_class=StreamingResponse,
            responses={200: {"content": {"image/png": {}}}})  # fmt: skip
def logo(request: Request, db: DB, digest: Annotated[str, Field(max_length=64)]) -> Response:
    """A logo an organization's brand guidelines name (landing pages show it)."""
    kind, chunks = assets.logo(db, blobs_of(request), digest)
    return StreamingResponse(chunks, media_type=str(kind), headers={
        "cache-control": "public, max-age=86400, immutable",
        "content-security-policy": "sandbox; default-src 'none'",
    })  # fmt: skip


# --- dashboard and portal --------------------------------------------------------------------


async def _form(request: Request, user: User) -> FormData:
    """A multipart form from a logged-in user: its size allowed up to the asset limit, its
    CSRF token checked before anything is kept."""
    acting(user)
    allow_body(request, _limit(request) + FORM_OVERHEAD)
    form = await request.form(max_files=1, max_fields=12)
    check_csrf(request, str(form.get("csrf", "")))
    return form


def _file(form: FormData, name: str = "file") -> UploadFile | None:
    value = form.get(name)
    return value if isinstance(value, UploadFile) and value.filename else None


def _upload_form(
    request: Request, user: User, db: Database, campaign_id: int, form: FormData, **target: Any
) -> Asset:
    chosen = _file(form)
    if chosen is None:
        raise InvalidInputError("choose a file to upload", field="file")
    return assets.upload(db, blobs_of(request), user.org_id, campaign_id, chosen.file,
                         filename=chosen.filename or "upload", by=user.email,
                         limit=_limit(request), **target)  # fmt: skip


def _asset_page(
    request: Request, user: User, db: Database, campaign_id: int, asset_id: int, *,
    error: str | None = None, status_code: int = 200,
) -> Response:  # fmt: skip
    asset = assets.get_asset(db, user.org_id, campaign_id, asset_id)
    return page(
        request, "plan/asset.html", user=user, status_code=status_code, error=error,
        campaign=get_campaign(db, user.org_id, campaign_id), asset=asset,
        guidelines=assets.campaign_guidelines(db, user.org_id, campaign_id),
        mine=organization_slugs(db, {user.org_id})[user.org_id], base=base_of(user),
        kinds={m.value: m for m in MediaType},
    )  # fmt: skip


async def _act(
    request: Request, user: User, db: Database, campaign_id: int, asset_id: int | None,
    take: Callable[[], Any], fallback: Callable[[str, int], Response] | None = None,
) -> Response:  # fmt: skip
    """Do ``take``; then the asset's page, or what was refused on ``fallback`` (by default
    the asset's page)."""
    if fallback is None:
        assert asset_id is not None

        def fallback(message: str, status: int) -> Response:
            return _asset_page(request, user, db, campaign_id, asset_id, error=message,
                               status_code=status)  # fmt: skip

    try:
        made = await run_in_threadpool(take)
    except REFUSED as exc:
        return await run_in_threadpool(fallback, exc.message, exc.http_status)
    shown = asset_id or (made.id if isinstance(made, Asset) else None)
    where = f"/assets/{shown}" if shown else ""
    return RedirectResponse(f"{base_of(user)}/campaigns/{campaign_id}{where}", 303)


@pages.post("/campaigns/{campaign_id}/assets")
@pages.post("/portal/campaigns/{campaign_id}/assets")
async def upload_form(request: Request, user: AnyUser, db: DB, campaign_id: SmallId) -> Response:
    """A new asset from the campaign page; its review page opens."""
    form = await _form(request, user)

    def take() -> Asset:
        return _upload_form(request, user, db, campaign_id, form,
                            name=str(form.get("name", "")).strip() or None)  # fmt: skip

    def fallback(message: str, status: int) -> Response:
        return campaign_page_with(request, user, db, campaign_id, message, status)

    return await _act(request, user, db, campaign_id, None, take, fallback)


@pages.get("/campaigns/{campaign_id}/assets/{asset_id}")
@pages.get("/portal/campaigns/{campaign_id}/assets/{asset_id}")
def asset_page(
    request: Request, user: AnyUser, db: DB, campaign_id: SmallId, asset_id: SmallId
) -> Response:
    """An asset under review: its latest version shown, the parties' decisions, comments,
    earlier versions, and every party's brand guidelines beside it."""
    return _asset_page(request, user, db, campaign_id, asset_id)


@pages.post("/campaigns/{campaign_id}/assets/{asset_id}/versions")
@pages.post("/portal/campaigns/{campaign_id}/assets/{asset_id}/versions")
async def version_form(
    request: Request, user: AnyUser, db: DB, campaign_id: SmallId, asset_id: SmallId
) -> Response:
    form = await _form(request, user)

    def take() -> Asset:
        return _upload_form(request, user, db, campaign_id, form, asset_id=asset_id)

    return await _act(request, user, db, campaign_id, asset_id, take)


@pages.post("/campaigns/{campaign_id}/assets/{asset_id}/review")
@pages.post("/portal/campaigns/{campaign_id}/assets/{asset_id}/review")
async def review_form(
    request: Request, user: AnyUser, db: DB, campaign_id: SmallId, asset_id: SmallId
) -> Response:
    """Approve the latest version or ask for changes; a comment may go with it."""
    form = await _form(request, user)
    version, decision = str(form.get("version", "")), str(form.get("decision", ""))
    said = str(form.get("comment", "")).strip()

    def take() -> Asset:
        number = int(version) if digits(version) and len(version) < 8 else 0
        if not decision:  # a comment only
            return assets.comment(db, user.org_id, campaign_id, asset_id, number or None,
                                  user.email, said)  # fmt: skip
        return assets.review(db, user.org_id, campaign_id, asset_id, number, decision,
                             user.email, said)  # fmt: skip

    return await _act(request, user, db, campaign_id, asset_id, take)


@pages.get("/campaigns/{campaign_id}/assets/{asset_id}/versions/{version}")
@pages.get("/portal/campaigns/{campaign_id}/assets/{asset_id}/versions/{version}")
def version_file(
    request: Request, user: AnyUser, db: DB, campaign_id: SmallId, asset_id: SmallId,
    version: SmallId, download: Annotated[bool, Query()] = False,
) -> Response:  # fmt: skip
    """A version shown for review, or downloaded for use (approved by all; counted)."""
    found = assets.content(db, blobs_of(request), user.org_id, campaign_id, asset_id, version,
                           download=download)  # fmt: skip
    return _streamed(found, download=download)


def _brand_page(
    request: Request, user: User, db: Database, *, error: str | None = None,
    status_code: int = 200,
) -> Response:  # fmt: skip
    return page(
        request, "plan/brand.html", user=user, status_code=status_code, error=error,
        guidelines=assets.own_guidelines(db, user.org_id), base=base_of(user),
        offered=assets.offered(db, user.org_id),
    )  # fmt: skip


@pages.get("/brand")
@pages.get("/portal/brand")
def brand_page(request: Request, user: AnyUser, db: DB) -> Response:
    """The organization's brand guidelines, and the assets ready for use in its campaigns."""
    return _brand_page(request, user, db)


def _lines(form: FormData, name: str) -> list[str]:
    return str(form.get(name, "")).splitlines()


@pages.post("/brand")
@pages.post("/portal/brand")
async def brand_form(request: Request, user: AnyUser, db: DB) -> Response:
    form = await _form(request, user)
    chosen = _file(form, "logo")

    def take() -> Guidelines:
        colours = re.split(r"[\s,]+", str(form.get("colours", "")))
        return assets.save_guidelines(
            db, blobs_of(request), user.org_id, colours=colours, dos=_lines(form, "dos"),
            donts=_lines(form, "donts"), voice=str(form.get("voice", "")),
            logo=chosen.file if chosen else None,
        )  # fmt: skip

    try:
        await run_in_threadpool(take)
    except REFUSED as exc:
        message, status = exc.message, exc.http_status
        return await run_in_threadpool(
            lambda: _brand_page(request, user, db, error=message, status_code=status)
        )
    return RedirectResponse(f"{base_of(user)}/brand", 303)

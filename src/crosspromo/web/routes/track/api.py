"""Track over the REST API: the destination allow-list, tracking links and their numbers,
conversions and partner codes, daily statistics (JSON and CSV), and signed webhooks: inbound
conversions from shops and payment systems, outbound endpoints and their deliveries."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool

from crosspromo.domain.conversions import CodeKind, ConversionKind
from crosspromo.domain.money import MAX_MINOR
from crosspromo.errors import InvalidInputError, MalformedBodyError
from crosspromo.services.track import conversions, inbound, links, outbound, stats
from crosspromo.services.track.conversions import (
    MAX_LENGTHS,
    CodeView,
    ConversionInput,
    ConversionView,
    Recorded,
)
from crosspromo.services.track.inbound import InboundSecret
from crosspromo.services.track.links import DomainAdded, IssuedLink, LinkStats
from crosspromo.services.track.outbound import DeliveryView, EndpointView
from crosspromo.services.track.stats import DailyStats
from crosspromo.web.deps import DB, ApiOrg
from crosspromo.web.schemas import (
    PROBLEM_RESPONSES,
    BigId,
    Body,
    From,
    LinkCode,
    Listing,
    SmallId,
    To,
)

api = APIRouter(prefix="/api/v1", tags=["track"], responses=PROBLEM_RESPONSES)
hooks = APIRouter(tags=["track"], responses=PROBLEM_RESPONSES)
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="the same key and body replays the first answer; another body is a 409",
    ),
]


def _content(kind: str, description: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {kind: {}}, "description": description}}


class DomainIn(Body):
    domain: str = Field(min_length=1, max_length=253, examples=["shop.example.com"])


class DomainList(BaseModel):
    domains: list[str]


class LinkIn(Body):
    partner: str = Field(min_length=1, max_length=64, description="slug of the partner sharing it")
    destination: str = Field(min_length=1, max_length=2000)
    campaign: str = Field(default="", max_length=200)
    slug: str | None = Field(default=None, description="custom code instead of a random one")
    medium: str = Field(default="partner", min_length=1, max_length=100)
    content: str = Field(default="", max_length=200)


class ConversionIn(Body):
    type: ConversionKind = Field(
        description="lead, sale or refund (a refund names its sale's order_id)"
    )
    occurred_at: AwareDatetime
    amount_minor: int = Field(default=0, ge=0, le=MAX_MINOR, description="integer minor units")
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$", description="ISO 4217")
    customer_external_id: str | None = Field(
        default=None, max_length=MAX_LENGTHS["customer_external_id"]
    )
    click_id: str | None = Field(default=None, max_length=32, description="the cp_click value")
    referral_code: str | None = Field(default=None, max_length=64)
    coupon_code: str | None = Field(default=None, max_length=64)
    order_id: str | None = Field(default=None, max_length=MAX_LENGTHS["order_id"])

    def to_input(self) -> ConversionInput:
        values = self.model_dump()
        return ConversionInput(kind=values.pop("type"), **values)


class ConversionBatchIn(Body):
    conversions: list[ConversionIn] = Field(min_length=1, max_length=10_000)


class CodeIn(Body):
    partner: str = Field(min_length=1, max_length=64)
    code: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]+$")
    kind: CodeKind = CodeKind.REFERRAL


class ActiveIn(Body):
    active: bool = Field(description="false: paused (a link answers 404, a code is refused)")


class EndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2000)
    events: list[str] = Field(min_length=1, max_length=10, examples=[["conversion.created"]])


@api.get("/domains")
def list_domains(org: ApiOrg, db: DB) -> DomainList:
    """Destination domains links may point to (each with its subdomains)."""
    return DomainList(domains=links.list_domains(db, org.id))


@api.post("/domains", status_code=201)
def add_domain(body: DomainIn, org: ApiOrg, db: DB) -> DomainAdded:
    return links.add_domain(db, org.id, body.domain)


@api.delete("/domains/{domain}", status_code=204)
def remove_domain(domain: str, org: ApiOrg, db: DB) -> Response:
    links.remove_domain(db, org.id, domain)
    return Response(status_code=204)


@api.post("/links", status_code=201)
def create_link(body: LinkIn, org: ApiOrg, db: DB) -> IssuedLink:
    """A tracking link for a partner to share; the destination must be allow-listed."""
    return links.create_link(
        db, org.id, body.partner, body.destination, body.campaign, body.slug, body.medium,
        body.content,
    )  # fmt: skip


@api.get("/links")
def list_links(org: ApiOrg, db: DB) -> Listing[IssuedLink]:
    return Listing.of(links.list_links(db, org.id))


@api.get("/links/{code}")
def get_link(code: LinkCode, org: ApiOrg, db: DB) -> IssuedLink:
    return links.get_link(db, org.id, code)


@api.patch("/links/{code}")
def set_link_active(
    code: LinkCode, body: ActiveIn, request: Request, org: ApiOrg, db: DB
) -> IssuedLink:
    """Pause a link (its short URL answers 404 and records no click) or resume it; what it
    brought so far is kept."""
    changed = links.set_link_active(db, org.id, code, body.active)
    request.app.state.redirect.links.forget(code)
    return changed


@api.get("/links/{code}/stats")
def get_link_stats(code: LinkCode, org: ApiOrg, db: DB) -> LinkStats:
    return links.link_stats(db, org.id, code)


@api.get(
    "/links/{code}/qr.svg",
    response_class=Response,
    responses=_content("image/svg+xml", "QR code of the short URL"),
)
def link_qr_svg(code: LinkCode, org: ApiOrg, db: DB) -> Response:
    return Response(links.qr_code(db, org.id, code, "svg"), media_type="image/svg+xml")


@api.get(
    "/links/{code}/qr.png",
    response_class=Response,
    responses=_content("image/png", "QR code of the short URL"),
)
def link_qr_png(code: LinkCode, org: ApiOrg, db: DB) -> Response:
    return Response(links.qr_code(db, org.id, code, "png"), media_type="image/png")


def _replayed(recorded: Recorded, response: Response) -> list[ConversionView]:
    if recorded.replayed:
        response.headers["Idempotency-Replayed"] = "true"
    return recorded.conversions


@api.post("/conversions", status_code=201)
def record_conversion(
    body: ConversionIn, org: ApiOrg, db: DB, response: Response,
    idempotency_key: IdempotencyKey = None,
) -> ConversionView:  # fmt: skip
    """Record one lead, sale or refund, tied to a partner by click id or code."""
    recorded = conversions.record_conversions(
        db, org.id, [body.to_input()], idempotency_key=idempotency_key,
        fingerprint=conversions.request_fingerprint(body.model_dump(mode="json")),
    )  # fmt: skip
    return _replayed(recorded, response)[0]


@api.post("/conversions/batch", status_code=201)
def record_batch(
    body: ConversionBatchIn, org: ApiOrg, db: DB, response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Listing[ConversionView]:  # fmt: skip
    """All rows are stored or none; an error names the row and the field."""
    recorded = conversions.record_conversions(
        db, org.id, [c.to_input() for c in body.conversions],
        idempotency_key=idempotency_key,
        fingerprint=conversions.request_fingerprint(body.model_dump(mode="json")),
    )  # fmt: skip
    return Listing.of(_replayed(recorded, response))


@api.get("/conversions/{conversion_id}")
def get_conversion(conversion_id: BigId, org: ApiOrg, db: DB) -> ConversionView:
    return conversions.get_conversion(db, org.id, conversion_id)


@api.post("/codes", status_code=201)
def create_code(body: CodeIn, org: ApiOrg, db: DB) -> CodeView:
    """A referral or coupon code that credits conversions to a partner."""
    return conversions.create_code(db, org.id, body.partner, body.code, body.kind)


@api.get("/codes")
def list_codes(org: ApiOrg, db: DB) -> Listing[CodeView]:
    return Listing.of(conversions.list_codes(db, org.id))


@api.patch("/codes/{code}")
def set_code_active(code: LinkCode, body: ActiveIn, org: ApiOrg, db: DB) -> CodeView:
    """Stop a code (a new conversion quoting it is refused with 422, naming the code as
    stopped) or restart it; what it credited before is kept."""
    return conversions.set_code_active(db, org.id, code, body.active)


@api.get("/stats/daily")
def daily(org: ApiOrg, db: DB, start: From = None, end: To = None) -> DailyStats:
    """Clicks (human, unique, bot), leads, sales and net revenue per day, partner and campaign."""
    return stats.daily(db, org.id, start, end)


@api.get(
    "/stats/daily.csv",
    response_class=Response,
    responses=_content("text/csv", "one line per day, partner, campaign, currency"),
)
def daily_csv(org: ApiOrg, db: DB, start: From = None, end: To = None) -> Response:
    found = stats.daily(db, org.id, start, end)
    return csv_response(found.csv(), f"crosspromo-{org.slug}-{found.start}-{found.end}.csv")


def csv_response(text: str, filename: str) -> Response:
    disposition = f'attachment; filename="{filename}"'
    return Response(
        text, media_type="text/csv; charset=utf-8", headers={"content-disposition": disposition}
    )


_PAYLOAD: TypeAdapter[ConversionBatchIn | ConversionIn] = TypeAdapter(
    ConversionBatchIn | ConversionIn
)
_BODY_DOC: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "anyOf": [
                    {"$ref": "#/components/schemas/ConversionIn"},
                    {"$ref": "#/components/schemas/ConversionBatchIn"},
                ]
            }
        }
    },
}


@hooks.post(
    "/webhooks/inbound/{org_slug}", status_code=201, openapi_extra={"requestBody": _BODY_DOC}
)
async def inbound_conversions(
    org_slug: str, request: Request, db: DB, response: Response
) -> Listing[ConversionView]:
    """Conversions pushed by a shop or payment system, signed with the organization's inbound
    secret (Standard Webhooks headers). Unsigned, stale or wrong: 401 and nothing stored; a
    redelivery with the same ``webhook-id`` stores nothing new."""
    body = await request.body()
    message = await run_in_threadpool(
        inbound.verify_inbound, db, org_slug, body, dict(request.headers)
    )
    try:
        payload = _PAYLOAD.validate_json(body)
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            raise MalformedBodyError("the webhook body is not valid JSON") from None
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInputError(f"invalid webhook body: {where}: {first['msg']}") from None
    items = payload.conversions if isinstance(payload, ConversionBatchIn) else [payload]
    recorded = await run_in_threadpool(
        lambda: conversions.record_conversions(
            db,
            message.org_id,
            [i.to_input() for i in items],
            idempotency_key=f"webhook:{message.message_id}",
            fingerprint=conversions.request_fingerprint(body.decode("utf-8", "replace")),
        )
    )
    return Listing.of(_replayed(recorded, response))


@api.post("/webhooks/inbound-secret", status_code=201)
def rotate_inbound_secret(org: ApiOrg, db: DB) -> InboundSecret:
    """A new secret for signing inbound webhooks (shown once; the old one stops working)."""
    return inbound.rotate_inbound_secret(db, org.id)


@api.post("/webhooks/endpoints", status_code=201)
def add_endpoint(body: EndpointIn, org: ApiOrg, db: DB) -> EndpointView:
    """Subscribe a URL to events (conversion.created, conversion.refunded); deliveries are
    signed with the returned secret (Standard Webhooks)."""
    return outbound.add_endpoint(db, org.id, body.url, body.events)


@api.get("/webhooks/endpoints")
def list_endpoints(org: ApiOrg, db: DB) -> Listing[EndpointView]:
    return Listing.of(outbound.list_endpoints(db, org.id))


@api.delete("/webhooks/endpoints/{endpoint_id}", status_code=204)
def remove_endpoint(endpoint_id: SmallId, org: ApiOrg, db: DB) -> Response:
    outbound.remove_endpoint(db, org.id, endpoint_id)
    return Response(status_code=204)


@api.get("/webhooks/deliveries")
def list_deliveries(org: ApiOrg, db: DB) -> Listing[DeliveryView]:
    """The delivery log, newest first."""
    return Listing.of(outbound.list_deliveries(db, org.id))


@api.post("/webhooks/deliveries/{delivery_id}/replay", status_code=202)
def replay_delivery(delivery_id: BigId, org: ApiOrg, db: DB) -> DeliveryView:
    """Queue a delivery again (same message id)."""
    return outbound.replay_delivery(db, org.id, delivery_id)

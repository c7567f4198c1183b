"""Track: the destination allow-list, tracking links and their numbers, conversions and partner
codes, daily statistics (JSON, CSV, the dashboard's Tracking tab), and signed webhooks: inbound
conversions from shops and payment systems, outbound endpoints and their deliveries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Header, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool

from crosspromo.domain import User
from crosspromo.domain.conversions import CodeKind, ConversionKind
from crosspromo.domain.money import MAX_MINOR
from crosspromo.errors import ConflictError, InvalidInputError, MalformedBodyError, NotFoundError
from crosspromo.services.track import conversions, inbound, links, outbound, report, stats
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
from crosspromo.store.database import Database
from crosspromo.web.charts import line_chart
from crosspromo.web.deps import DB, ApiOrg, check_csrf
from crosspromo.web.pages import Csrf, Editor, Manager, ManagerOr401, chosen_range, page
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
pages = APIRouter(include_in_schema=False)
TableView = Annotated[str, Query(max_length=20, description="links, campaigns or days")]
TableSort = Annotated[str | None, Query(max_length=40, description="the column to sort by")]
TableOrder = Annotated[str | None, Query(max_length=4, description="asc or desc")]
TablePage = Annotated[int, Query(alias="page", ge=1, le=1_000_000)]
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
    return _csv(found.csv(), f"crosspromo-{org.slug}-{found.start}-{found.end}.csv")


def _csv(text: str, filename: str) -> Response:
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


@pages.get("/tracking")
def tracking(
    request: Request, user: Manager, db: DB, start: From = None, end: To = None,
    view: TableView = "links", sort: TableSort = None, order: TableOrder = None,
    page_number: TablePage = 1,
) -> Response:  # fmt: skip
    """Totals for a range, clicks, leads and sales per day and partner, and a table per link,
    campaign or day, sortable and a page at a time, with a CSV of the same table."""
    chosen = chosen_range(start, end)
    error = chosen.error
    try:
        table = report.Order.parse(view, sort, order, page_number)
    except InvalidInputError as exc:
        table, error = report.Order(), exc.message
    found = report.tracking_report(db, user.org_id, chosen.start, chosen.end, table)
    days = found.daily.days()
    return page(
        request, "track/tracking.html", user=user, r=found, chosen=chosen, error=error,
        keys=report.KEYS[found.order.view], views=list(report.View), page_size=report.PAGE_SIZE,
        url=_tracking_url(found),
        click_chart=line_chart(days, found.per_partner_day(lambda r: r.clicks)),
        lead_chart=line_chart(days, found.per_partner_day(lambda r: r.leads)),
        sale_chart=line_chart(days, found.per_partner_day(lambda r: r.sales)),
        status_code=200 if error is None else 422,
    )  # fmt: skip


def _tracking_url(shown: report.TrackingReport) -> Callable[..., str]:
    """Links that keep what the Tracking tab shows but for ``changes`` (an empty value drops
    the parameter: its default applies); ``csv``: the CSV of that table."""
    order = shown.order
    current = {"from": shown.start, "to": shown.end, "view": order.view.value,
               "sort": order.sort, "order": "desc" if order.descending else "asc",
               "page": order.page}  # fmt: skip

    def url(csv: bool = False, **changes: object) -> str:
        params = {k: v for k, v in (current | changes).items() if v not in ("", None)}
        if csv:
            params.pop("page", None)
        return ("/tracking.csv?" if csv else "/tracking?") + urlencode(params)

    return url


@pages.get("/tracking.csv")
def tracking_csv(
    user: ManagerOr401, db: DB, start: From = None, end: To = None, view: TableView = "links",
    sort: TableSort = None, order: TableOrder = None,
) -> Response:  # fmt: skip
    """The Tracking tab's table as shown (every page), for a spreadsheet."""
    first, last = stats.date_range(start, end)
    table = report.Order.parse(view, sort, order, 1)
    text = report.tracking_csv(db, user.org_id, first, last, table)
    return _csv(text, f"tracking-{table.view}-{first}-{last}.csv")


def _links_page(
    request: Request, user: User, db: Database, *, status_code: int = 200, **context: object
) -> Response:
    nothing_yet: dict[str, object] = {"made": None, "error": None, "form": {}, "made_code": None,
                   "code_error": None, "code_form": {}}  # fmt: skip
    context = nothing_yet | context
    return page(request, "track/links.html", user=user, page_data=links.links_page(db, user.org_id),
                status_code=status_code, **context)  # fmt: skip


@pages.get("/links")
def links_list(request: Request, user: Manager, db: DB) -> Response:
    """The brand's tracking links with copy and QR, and a form to issue one to a partner."""
    return _links_page(request, user, db)


@pages.post("/links")
def links_create(
    request: Request,
    user: Editor,
    db: DB,
    partner: Annotated[str, Form(max_length=64)] = "",
    destination: Annotated[str, Form(max_length=2000)] = "",
    campaign: Annotated[str, Form(max_length=200)] = "",
    medium: Annotated[str, Form(max_length=64)] = "partner",
    content: Annotated[str, Form(max_length=200)] = "",
    slug: Annotated[str, Form(max_length=64)] = "",
    csrf: Csrf = "",
) -> Response:
    check_csrf(request, csrf)
    form = {"partner": partner, "destination": destination, "campaign": campaign,
            "medium": medium, "content": content, "slug": slug}  # fmt: skip
    try:
        made = links.create_link(db, user.org_id, partner, destination, campaign, slug or None,
                                 medium or "partner", content)  # fmt: skip
    except (InvalidInputError, NotFoundError, ConflictError) as exc:
        return _links_page(request, user, db, error=exc.message, form=form,
                           status_code=exc.http_status)  # fmt: skip
    return _links_page(request, user, db, made=made)


@pages.post("/links/codes")
def links_code_create(
    request: Request,
    user: Editor,
    db: DB,
    partner: Annotated[str, Form(max_length=64)] = "",
    code: Annotated[str, Form(max_length=64)] = "",
    kind: Annotated[CodeKind, Form()] = CodeKind.REFERRAL,
    csrf: Csrf = "",
) -> Response:
    """Give a partner a referral or coupon code: sales that quote it are credited to them."""
    check_csrf(request, csrf)
    try:
        made = conversions.create_code(db, user.org_id, partner, code.strip(), kind)
    except (InvalidInputError, NotFoundError, ConflictError) as exc:
        kept = {"partner": partner, "code": code, "kind": kind.value}
        return _links_page(request, user, db, code_error=exc.message, code_form=kept,
                           status_code=exc.http_status)  # fmt: skip
    return _links_page(request, user, db, made_code=made)


@pages.get("/links/{code}/qr.svg")
def links_qr(code: LinkCode, user: ManagerOr401, db: DB) -> Response:
    """The QR code of a link's short URL, for the dashboard."""
    return Response(links.qr_code(db, user.org_id, code, "svg"), media_type="image/svg+xml")


def _domains_page(
    request: Request, user: User, db: Database, *, status_code: int = 200, **context: object
) -> Response:
    return page(request, "track/domains.html", user=user,
                domains=links.list_domains(db, user.org_id), status_code=status_code,
                **context)  # fmt: skip


@pages.get("/settings/domains")
def domains_page(request: Request, user: Manager, db: DB) -> Response:
    """The domains link destinations may point at (each with its subdomains)."""
    return _domains_page(request, user, db, error=None, typed="")


@pages.post("/settings/domains")
def domains_add(
    request: Request, user: Editor, db: DB, domain: Annotated[str, Form(max_length=253)] = "",
    csrf: Csrf = "",
) -> Response:  # fmt: skip
    check_csrf(request, csrf)
    try:
        links.add_domain(db, user.org_id, domain)
    except InvalidInputError as exc:
        return _domains_page(request, user, db, error=exc.message, typed=domain,
                             status_code=exc.http_status)  # fmt: skip
    return RedirectResponse("/settings/domains", status_code=303)


@pages.post("/settings/domains/remove")
def domains_remove(
    request: Request, user: Editor, db: DB, domain: Annotated[str, Form(max_length=253)] = "",
    csrf: Csrf = "",
) -> Response:  # fmt: skip
    check_csrf(request, csrf)
    links.remove_domain(db, user.org_id, domain)
    return RedirectResponse("/settings/domains", status_code=303)


def _webhooks_page(
    request: Request, user: User, db: Database, *, status_code: int = 200, **context: object
) -> Response:
    context = {"made": None, "secret": None, "error": None, "typed": ""} | context
    return page(request, "track/webhooks.html", user=user,
                hooks=outbound.webhooks_page(db, user.org_id), status_code=status_code,
                **context)  # fmt: skip


@pages.get("/settings/webhooks")
def webhooks_page(request: Request, user: Manager, db: DB) -> Response:
    """Endpoints our events go to, their delivery log with replay, and the inbound secret."""
    return _webhooks_page(request, user, db)


@pages.post("/settings/webhooks/endpoints")
def webhooks_add(
    request: Request,
    user: Editor,
    db: DB,
    events: Annotated[list[str], Form(default_factory=list, max_length=10)],
    url: Annotated[str, Form(max_length=2000)] = "",
    csrf: Csrf = "",
) -> Response:
    """Subscribe a URL to the events ticked; its signing secret is shown once."""
    check_csrf(request, csrf)
    try:
        made = outbound.add_endpoint(db, user.org_id, url, events)
    except InvalidInputError as exc:
        return _webhooks_page(request, user, db, error=exc.message, typed=url,
                              status_code=exc.http_status)  # fmt: skip
    return _webhooks_page(request, user, db, made=made)


@pages.post("/settings/webhooks/endpoints/{endpoint_id}/remove")
def webhooks_remove(
    request: Request, user: Editor, db: DB, endpoint_id: SmallId, csrf: Csrf = ""
) -> Response:
    check_csrf(request, csrf)
    outbound.remove_endpoint(db, user.org_id, endpoint_id)
    return RedirectResponse("/settings/webhooks", status_code=303)


@pages.post("/settings/webhooks/deliveries/{delivery_id}/replay")
def webhooks_replay(
    request: Request, user: Editor, db: DB, delivery_id: BigId, csrf: Csrf = ""
) -> Response:
    """Send a delivery again (it goes back in the queue at once)."""
    check_csrf(request, csrf)
    outbound.replay_delivery(db, user.org_id, delivery_id)
    return RedirectResponse(f"/settings/webhooks#delivery-{delivery_id}", status_code=303)


@pages.post("/settings/webhooks/inbound-secret")
def webhooks_inbound_secret(request: Request, user: Editor, db: DB, csrf: Csrf = "") -> Response:
    """A new inbound signing secret, shown once; the old one stops working."""
    check_csrf(request, csrf)
    return _webhooks_page(request, user, db, secret=inbound.rotate_inbound_secret(db, user.org_id))

"""Track in the dashboard: the Tracking tab (totals, charts, the table and its CSV), links and
codes issued to partners, link domains and webhook endpoints in the settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from crosspromo.domain import User
from crosspromo.domain.conversions import CodeKind
from crosspromo.errors import ConflictError, InvalidInputError, NotFoundError
from crosspromo.services.accounts.organizations import organization_names
from crosspromo.services.track import conversions, inbound, links, outbound, report, stats
from crosspromo.store.database import Database
from crosspromo.web.charts import line_chart
from crosspromo.web.deps import DB, check_csrf
from crosspromo.web.pages import Csrf, Editor, Manager, ManagerOr401, chosen_range, page
from crosspromo.web.routes.track.api import csv_response
from crosspromo.web.schemas import (
    BigId,
    From,
    LinkCode,
    SmallId,
    To,
)

pages = APIRouter(include_in_schema=False)
TableView = Annotated[str, Query(max_length=20, description="links, campaigns or days")]
TableSort = Annotated[str | None, Query(max_length=40, description="the column to sort by")]
TableOrder = Annotated[str | None, Query(max_length=4, description="asc or desc")]
TablePage = Annotated[int, Query(alias="page", ge=1, le=1_000_000)]


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
    return csv_response(text, f"tracking-{table.view}-{first}-{last}.csv")


def _links_page(
    request: Request, user: User, db: Database, *, status_code: int = 200, **context: object
) -> Response:
    nothing_yet: dict[str, object] = {"made": None, "error": None, "form": {}, "made_code": None,
                   "code_error": None, "code_form": {}}  # fmt: skip
    context = nothing_yet | context
    shown = links.links_page(db, user.org_id)
    slugs = {*shown.partners, *(i.partner for i in shown.links), *(c.partner for c in shown.codes)}
    return page(request, "track/links.html", user=user, page_data=shown,
                names=organization_names(db, slugs), status_code=status_code,
                **context)  # fmt: skip


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


Active = Annotated[str, Form(max_length=1, description="1: resume, 0: pause")]


@pages.post("/links/{code}/active")
def links_active(
    request: Request, user: Editor, db: DB, code: LinkCode, active: Active = "", csrf: Csrf = ""
) -> Response:
    """Pause a link (its short URL answers "not found") or resume it."""
    check_csrf(request, csrf)
    links.set_link_active(db, user.org_id, code, active == "1")
    request.app.state.redirect.links.forget(code)
    return RedirectResponse(f"/links#link-{code}", status_code=303)


@pages.post("/links/codes/{code}/active")
def links_code_active(
    request: Request, user: Editor, db: DB, code: LinkCode, active: Active = "", csrf: Csrf = ""
) -> Response:
    """Stop a code (a leaked coupon) or restart it."""
    check_csrf(request, csrf)
    conversions.set_code_active(db, user.org_id, code, active == "1")
    return RedirectResponse(f"/links#code-{code}", status_code=303)


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

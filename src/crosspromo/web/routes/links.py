"""Tracking links and the destination allow-list (REST API v1)."""

from __future__ import annotations

import io
from typing import Any

import segno
from fastapi import APIRouter, Response

from crosspromo.services.track import links
from crosspromo.web.deps import DB, ApiOrg
from crosspromo.web.schemas import (
    PROBLEM_RESPONSES,
    DomainIn,
    DomainList,
    DomainOut,
    LinkCode,
    LinkIn,
    LinkList,
    LinkOut,
    LinkStatsOut,
)

router = APIRouter(prefix="/api/v1", tags=["links"], responses=PROBLEM_RESPONSES)
_SVG: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/svg+xml": {}}, "description": "QR code of the short URL"}
}
_PNG: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/png": {}}, "description": "QR code of the short URL"}
}


@router.get("/domains", response_model=DomainList)
def list_domains(org: ApiOrg, db: DB) -> DomainList:
    """Destination domains links may point to (each with its subdomains)."""
    return DomainList(domains=links.list_domains(db, org.id))


@router.post("/domains", response_model=DomainOut, status_code=201)
def add_domain(body: DomainIn, org: ApiOrg, db: DB) -> DomainOut:
    domain, added = links.add_domain(db, org.id, body.domain)
    return DomainOut(domain=domain, added=added)


@router.delete("/domains/{domain}", status_code=204)
def remove_domain(domain: str, org: ApiOrg, db: DB) -> Response:
    links.remove_domain(db, org.id, domain)
    return Response(status_code=204)


@router.post("/links", response_model=LinkOut, status_code=201)
def create_link(body: LinkIn, org: ApiOrg, db: DB) -> LinkOut:
    """A tracking link for a partner to share; the destination must be allow-listed."""
    issued = links.create_link(
        db,
        org.id,
        body.partner,
        body.destination,
        body.campaign,
        body.slug,
        body.medium,
        body.content,
    )
    return LinkOut.of(issued)


@router.get("/links", response_model=LinkList)
def list_links(org: ApiOrg, db: DB) -> LinkList:
    items = [LinkOut.of(i) for i in links.list_links(db, org.id)]
    return LinkList(items=items, count=len(items))


@router.get("/links/{code}", response_model=LinkOut)
def get_link(code: LinkCode, org: ApiOrg, db: DB) -> LinkOut:
    return LinkOut.of(links.get_link(db, org.id, code))


@router.get("/links/{code}/stats", response_model=LinkStatsOut)
def get_link_stats(code: LinkCode, org: ApiOrg, db: DB) -> LinkStatsOut:
    stats = links.link_stats(db, org.id, code)
    revenue, currency = stats.revenue
    return LinkStatsOut(
        clicks=stats.clicks,
        unique_clicks=stats.unique_clicks,
        bot_clicks=stats.bot_clicks,
        leads=stats.leads,
        sales=stats.sales,
        revenue_minor=revenue,
        currency=currency,
        revenue_by_currency=stats.revenue_by_currency,
    )


@router.get("/links/{code}/qr.svg", response_class=Response, responses=_SVG)
def link_qr_svg(code: LinkCode, org: ApiOrg, db: DB) -> Response:
    issued = links.get_link(db, org.id, code)
    buffer = io.BytesIO()
    segno.make(issued.short_url, error="m").save(buffer, kind="svg", scale=8, border=2)
    return Response(buffer.getvalue(), media_type="image/svg+xml")


@router.get("/links/{code}/qr.png", response_class=Response, responses=_PNG)
def link_qr_png(code: LinkCode, org: ApiOrg, db: DB) -> Response:
    issued = links.get_link(db, org.id, code)
    buffer = io.BytesIO()
    segno.make(issued.short_url, error="m").save(buffer, kind="png", scale=8, border=2)
    return Response(buffer.getvalue(), media_type="image/png")

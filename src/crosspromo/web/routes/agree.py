"""Agree: partnerships between two organizations and their lifecycle."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import Field

from crosspromo.domain import PartnershipStatus
from crosspromo.services.agree import partnerships
from crosspromo.services.agree.partnerships import PartnershipView
from crosspromo.web.deps import DB, ApiOrg
from crosspromo.web.pages import AnyUser, page
from crosspromo.web.schemas import PROBLEM_RESPONSES, Body, Listing, SmallId

api = APIRouter(prefix="/api/v1", tags=["agree"], responses=PROBLEM_RESPONSES)
pages = APIRouter(include_in_schema=False)


class PartnershipCreate(Body):
    partner: str = Field(min_length=1, max_length=64, description="slug of the other organization")
    name: str = Field(min_length=1, max_length=200)


class StatusChange(Body):
    status: PartnershipStatus


@api.get("/partnerships")
def list_partnerships(org: ApiOrg, db: DB, status: str | None = None) -> Listing[PartnershipView]:
    """Partnerships the caller's organization is a party to, optionally by status."""
    return Listing.of(partnerships.list_partnerships(db, org.id, partnerships.parse_status(status)))


@api.post("/partnerships", status_code=201)
def propose_partnership(body: PartnershipCreate, org: ApiOrg, db: DB) -> PartnershipView:
    """Open a partnership with another organization (status ``prospect``)."""
    return partnerships.propose_partnership(db, org.id, body.partner, body.name)


@api.get("/partnerships/{partnership_id}")
def get_partnership(partnership_id: SmallId, org: ApiOrg, db: DB) -> PartnershipView:
    return partnerships.get_partnership(db, org.id, partnership_id)


@api.post("/partnerships/{partnership_id}/status")
def change_status(
    partnership_id: SmallId, body: StatusChange, org: ApiOrg, db: DB
) -> PartnershipView:
    """Move along the lifecycle: prospect → negotiating → active ⇄ paused → ended."""
    return partnerships.change_status(db, org.id, partnership_id, body.status)


@pages.get("/partials/partnerships")
def partnerships_table(
    request: Request, user: AnyUser, db: DB, status: str | None = None
) -> Response:
    """The partnership table alone, for HTMX to swap in when a status filter is chosen."""
    views = partnerships.list_partnerships(db, user.org_id, partnerships.parse_status(status))
    return page(
        request, "agree/_partnerships.html", partnerships=views, portal=user.role.uses_portal
    )

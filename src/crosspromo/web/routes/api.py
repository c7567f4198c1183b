"""REST API v1. Every route is scoped to the caller's organization: another tenant's
resources answer 404, exactly like resources that do not exist."""

from __future__ import annotations

from fastapi import APIRouter, Response

from crosspromo.services.accounts import customers
from crosspromo.services.agree import partnerships
from crosspromo.web.deps import DB, ApiOrg
from crosspromo.web.schemas import (
    PROBLEM_RESPONSES,
    CustomerId,
    CustomerIn,
    CustomerOut,
    OrganizationOut,
    PartnershipCreate,
    PartnershipId,
    PartnershipList,
    PartnershipOut,
    StatusChange,
)

router = APIRouter(prefix="/api/v1", tags=["api"], responses=PROBLEM_RESPONSES)


@router.get("/organization", response_model=OrganizationOut)
def my_organization(org: ApiOrg) -> OrganizationOut:
    """The organization the API key belongs to."""
    return OrganizationOut.of(org)


@router.get("/partnerships", response_model=PartnershipList)
def list_partnerships(org: ApiOrg, db: DB, status: str | None = None) -> PartnershipList:
    """Partnerships the caller's organization is a party to, optionally by status."""
    views = partnerships.list_partnerships(db, org.id, partnerships.parse_status(status))
    return PartnershipList(items=[PartnershipOut.of(v) for v in views], count=len(views))


@router.post("/partnerships", response_model=PartnershipOut, status_code=201)
def propose_partnership(body: PartnershipCreate, org: ApiOrg, db: DB) -> PartnershipOut:
    """Open a partnership with another organization (status ``prospect``)."""
    return PartnershipOut.of(partnerships.propose_partnership(db, org.id, body.partner, body.name))


@router.get("/partnerships/{partnership_id}", response_model=PartnershipOut)
def get_partnership(partnership_id: PartnershipId, org: ApiOrg, db: DB) -> PartnershipOut:
    return PartnershipOut.of(partnerships.get_partnership(db, org.id, partnership_id))


@router.post("/partnerships/{partnership_id}/status", response_model=PartnershipOut)
def change_status(
    partnership_id: PartnershipId, body: StatusChange, org: ApiOrg, db: DB
) -> PartnershipOut:
    """Move along the lifecycle: prospect → negotiating → active ⇄ paused → ended."""
    return PartnershipOut.of(partnerships.change_status(db, org.id, partnership_id, body.status))


@router.post(
    "/customers",
    response_model=CustomerOut,
    status_code=201,
    responses={200: {"model": CustomerOut, "description": "an existing customer was updated"}},
)
def record_customer(body: CustomerIn, org: ApiOrg, db: DB, response: Response) -> CustomerOut:
    """Create or update a customer with its consents; 201 when created, 200 when updated."""
    customer, created = customers.record_customer(
        db, org.id, body.external_id, frozenset(body.consents), body.segment
    )
    response.status_code = 201 if created else 200
    return CustomerOut.of(customer)


@router.get("/customers/{customer_id}", response_model=CustomerOut)
def get_customer(customer_id: CustomerId, org: ApiOrg, db: DB) -> CustomerOut:
    return CustomerOut.of(customers.get_customer(db, org.id, customer_id))

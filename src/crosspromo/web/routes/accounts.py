"""Accounts: logging in and out, each side's home page (the dashboard's overview, the partner
portal), the API key's organization, and customers with their consents."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import Field

from crosspromo.domain import ConsentPurpose, PartnershipStatus
from crosspromo.errors import AuthenticationError, TooManyAttemptsError
from crosspromo.services.accounts.customers import CustomerView, get_customer, record_customer
from crosspromo.services.accounts.organizations import OrganizationView
from crosspromo.services.accounts.overview import organization_overview
from crosspromo.services.accounts.users import authenticate_user
from crosspromo.services.agree.partnerships import parse_status
from crosspromo.services.track.links import partner_links
from crosspromo.web.deps import DB, SESSION_USER, ApiOrg, check_csrf, session_user
from crosspromo.web.pages import Manager, Partner, home, page
from crosspromo.web.schemas import PROBLEM_RESPONSES, BigId, Body

api = APIRouter(prefix="/api/v1", tags=["accounts"], responses=PROBLEM_RESPONSES)
pages = APIRouter(include_in_schema=False)
Csrf = Annotated[str, Form(max_length=100)]


class CustomerIn(Body):
    external_id: str = Field(
        min_length=1, max_length=320, description="stored only as a keyed hash"
    )
    consents: list[ConsentPurpose] = Field(default_factory=list)
    segment: str | None = Field(default=None, max_length=64)


@api.get("/organization")
def my_organization(org: ApiOrg) -> OrganizationView:
    """The organization the API key belongs to."""
    return OrganizationView.of(org)


@api.post(
    "/customers",
    status_code=201,
    responses={200: {"model": CustomerView, "description": "an existing customer was updated"}},
)
def put_customer(body: CustomerIn, org: ApiOrg, db: DB, response: Response) -> CustomerView:
    """Create or update a customer with its consents; 201 when created, 200 when updated."""
    customer, created = record_customer(
        db, org.id, body.external_id, frozenset(body.consents), body.segment
    )
    response.status_code = 201 if created else 200
    return customer


@api.get("/customers/{customer_id}")
def read_customer(customer_id: BigId, org: ApiOrg, db: DB) -> CustomerView:
    return get_customer(db, org.id, customer_id)


@pages.get("/login")
def login_form(request: Request, db: DB) -> Response:
    user = session_user(request, db)
    if user is not None:
        return RedirectResponse(home(user), status_code=303)
    return page(request, "accounts/login.html", email="", error=None)


@pages.post("/login")
def login(
    request: Request,
    db: DB,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    csrf: Csrf = "",
) -> Response:
    check_csrf(request, csrf)
    try:
        user = authenticate_user(db, email, password)
    except (AuthenticationError, TooManyAttemptsError) as exc:
        return page(
            request, "accounts/login.html", status_code=exc.http_status, email=email,
            error=exc.message,
        )  # fmt: skip
    request.session.clear()
    request.session[SESSION_USER] = user.id
    return RedirectResponse(home(user), status_code=303)


@pages.post("/logout")
def logout(request: Request, csrf: Csrf = "") -> Response:
    check_csrf(request, csrf)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@pages.get("/")
def overview(request: Request, user: Manager, db: DB, status: str | None = None) -> Response:
    """Partnerships by status, customers and their consents."""
    data = organization_overview(db, user.org_id, parse_status(status))
    return page(
        request, "accounts/overview.html", user=user, data=data,
        statuses=list(PartnershipStatus), selected=status,
    )  # fmt: skip


@pages.get("/portal")
def portal(request: Request, user: Partner, db: DB) -> Response:
    """The partner's side: its partnerships, and the links it shares with their numbers."""
    links = partner_links(db, user.org_id)
    return page(request, "accounts/portal.html", user=user, links=links)

"""Agree: partnerships between two organizations and their lifecycle."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import Field

from crosspromo.domain import PartnershipStatus, User
from crosspromo.errors import ConflictError, InvalidInputError, NotFoundError
from crosspromo.services.agree import keys, partnerships
from crosspromo.services.agree import partnership_page as detail
from crosspromo.services.agree.agreement_view import agreement_view
from crosspromo.services.agree.invited import propose_to_newcomer
from crosspromo.services.agree.keys import PublishedKeys
from crosspromo.services.agree.partnerships import PartnershipView
from crosspromo.services.agree.performance import targets
from crosspromo.services.agree.terms import read_terms
from crosspromo.store.database import Database
from crosspromo.web.deps import DB, ApiOrg, check_csrf
from crosspromo.web.pages import Csrf, Editor, Manager, Partner, chosen_range, page
from crosspromo.web.routes.accounts import overview_page
from crosspromo.web.schemas import (
    PROBLEM_RESPONSES,
    Body,
    From,
    Listing,
    OrgSlug,
    SmallId,
    To,
)

api = APIRouter(prefix="/api/v1", tags=["agree"], responses=PROBLEM_RESPONSES)
pages = APIRouter(include_in_schema=False)
public = APIRouter(tags=["agree"], responses=PROBLEM_RESPONSES)  # no key: anyone may check


@public.get("/.well-known/crosspromo/keys/{slug}")
def published_keys(slug: OrgSlug, db: DB) -> PublishedKeys:
    """Every signing key an organization has had (the one in force has no ``retired_at``):
    what anyone needs to check the partnership records it signed."""
    return keys.published_keys(db, slug)


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


@pages.post("/partnerships")
def partnerships_propose(
    request: Request,
    user: Editor,
    db: DB,
    partner: Annotated[str, Form(max_length=64)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    csrf: Csrf = "",
) -> Response:
    """Propose a partnership (from a Discover candidate or the Partnerships tab); on to its
    page, or back to the tab with the reason it was refused."""
    check_csrf(request, csrf)
    try:
        made = partnerships.propose_partnership(db, user.org_id, partner, name, actor=user.email)
    except (InvalidInputError, NotFoundError, ConflictError) as exc:
        return overview_page(request, user, db, None, error=exc.message,
                             form={"partner": partner, "name": name},
                             status_code=exc.http_status)  # fmt: skip
    return RedirectResponse(f"/partnerships/{made.id}", status_code=303)


@pages.post("/partnerships/invite")
def partnerships_invite(
    request: Request,
    user: Editor,
    db: DB,
    name: Annotated[str, Form(max_length=200)] = "",
    slug: Annotated[str, Form(max_length=64)] = "",
    email: Annotated[str, Form(max_length=320)] = "",
    terms: Annotated[str, Form(max_length=100_000)] = "",
    csrf: Csrf = "",
) -> Response:
    """Propose terms to a business not on this server yet: it is made, with the proposal
    waiting, and the one-time link that makes its owner is shown once."""
    check_csrf(request, csrf)
    form = {"new_name": name, "slug": slug, "email": email, "terms": terms}
    try:
        made = propose_to_newcomer(db, user.org_id, user.email, slug, name, email,
                                   read_terms(terms, "the terms"))  # fmt: skip
    except (InvalidInputError, NotFoundError, ConflictError) as exc:
        return overview_page(request, user, db, None, form=form, invite_error=exc.message,
                             status_code=exc.http_status)  # fmt: skip
    return overview_page(request, user, db, None, invited=made)


@pages.get("/partnerships/{partnership_id}")
def partnership(
    request: Request, user: Manager, db: DB, partnership_id: SmallId, start: From = None,
    end: To = None,
) -> Response:  # fmt: skip
    """One partnership: both parties, its history, links and codes, figures for a range,
    experiments with the partner, and the lifecycle's next steps."""
    return partnership_view(request, user, db, partnership_id, start, end, portal=False)


@pages.get("/portal/partnerships/{partnership_id}")
def portal_partnership(
    request: Request, user: Partner, db: DB, partnership_id: SmallId, start: From = None,
    end: To = None,
) -> Response:  # fmt: skip
    """The partner's view of one partnership: the parties, its history, and the links and
    codes issued to the partner with their numbers."""
    return partnership_view(request, user, db, partnership_id, start, end, portal=True)


def partnership_view(
    request: Request, user: User, db: Database, partnership_id: int, start: date | None = None,
    end: date | None = None, *, portal: bool, status_code: int = 200, error: str | None = None,
) -> Response:  # fmt: skip
    """The partnership's page for ``user``'s side, with the reason a step was refused."""
    chosen = chosen_range(start, end)
    found = detail.partnership_page(db, user.org_id, partnership_id, chosen.start, chosen.end,
                                    portal=portal)  # fmt: skip
    agreement = agreement_view(db, user.org_id, partnership_id)
    goals = targets(db, user.org_id, partnership_id)
    return page(request, "agree/partnership.html", user=user, p=found, portal=portal,
                chosen=chosen, error=error, a=agreement, targets=goals,
                last_month=(date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m"),
                status_code=status_code if chosen.error is None else 422)  # fmt: skip


@pages.post("/partnerships/{partnership_id}/status")
def partnership_step(
    request: Request,
    user: Editor,
    db: DB,
    partnership_id: SmallId,
    status: Annotated[PartnershipStatus, Form()],
    reason: Annotated[str, Form(max_length=500)] = "",
    csrf: Csrf = "",
) -> Response:
    """Move the partnership one step along its lifecycle, with an optional reason."""
    check_csrf(request, csrf)
    try:
        partnerships.change_status(db, user.org_id, partnership_id, status, reason=reason,
                                   actor=user.email)  # fmt: skip
    except (InvalidInputError, ConflictError) as exc:
        return partnership_view(request, user, db, partnership_id, portal=False,
                                error=exc.message, status_code=exc.http_status)  # fmt: skip
    return RedirectResponse(f"/partnerships/{partnership_id}", status_code=303)

"""Pay over the REST API, in the dashboard (the brand's commissions, holds to review, payout
runs, balances, costs) and in the partner portal (earnings, held conversions with their reasons,
payouts, statements, payout details). Every change is a CSRF-checked form for an owner or
manager, or a partner user for its own payout details."""

# No ``from __future__ import annotations``: FastAPI reads the form parameters' annotations.
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import Field

from crosspromo.domain import User
from crosspromo.domain.clock import parse_date
from crosspromo.errors import ConflictError, InvalidInputError, NotFoundError
from crosspromo.services.pay import (
    costs,
    details,
    earnings,
    fraud,
    holds,
    ledger,
    payouts,
    statements,
)
from crosspromo.services.pay.commissions import Computed, compute
from crosspromo.services.pay.costs import CostsImported
from crosspromo.services.pay.details import PayoutDetails
from crosspromo.services.pay.earnings import CommissionSummary, Earnings
from crosspromo.services.pay.fraud import CHECKS, FraudSettings
from crosspromo.services.pay.holds import HoldView
from crosspromo.services.pay.payouts import PayoutRun, PayoutView
from crosspromo.services.pay.statements import Statement
from crosspromo.store.database import Database
from crosspromo.web.deps import DB, ApiOrg, check_csrf
from crosspromo.web.pages import Csrf, Editor, Manager, ManagerOr401, Partner, PartnerOr401, page
from crosspromo.web.schemas import PROBLEM_RESPONSES, Body, SmallId

api = APIRouter(prefix="/api/v1", tags=["pay"], responses=PROBLEM_RESPONSES)
pages = APIRouter(include_in_schema=False)
Day = Annotated[date | None, Field(description="YYYY-MM-DD; default today (UTC)")]
Month = Annotated[str, Field(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")]
_REFUSED = (InvalidInputError, ConflictError, NotFoundError)


class AsOf(Body):
    as_of: Day = None


class Decision(Body):
    decision: Literal["approve", "reject"]
    note: str = Field("", max_length=2000)


class Payment(Body):
    reference: str = Field(min_length=1, max_length=140, description="the bank's reference")


class Account(Body):
    holder: str = Field(min_length=1, max_length=70)
    iban: str = Field(min_length=5, max_length=42)
    bic: str | None = Field(None, max_length=11)
    threshold_minor: int = Field(0, ge=0, le=10**15)


class CostRow(Body):
    partner: str = Field("", max_length=64, description="a partner's slug; empty: your own")
    channel: str = Field(min_length=1, max_length=64)
    month: Month
    kind: Literal["fixed_fee", "production", "shared_budget", "campaign", "other"]
    amount_minor: int = Field(ge=0, le=10**15)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    note: str = Field("", max_length=500)


class CostRows(Body):
    rows: list[CostRow] = Field(min_length=1, max_length=10_000)


@api.post("/commissions/compute")
def compute_commissions(body: AsOf, org: ApiOrg, db: DB) -> Computed:
    """Compute the brand's commissions as of a day (again: nothing changes)."""
    return compute(db, org.id, body.as_of)


@api.get("/commissions/summary")
def commission_summary(
    org: ApiOrg, db: DB, as_of: Annotated[date | None, Query()] = None
) -> CommissionSummary:
    """Pending, approved, paid, held and reversed commissions per partner and currency."""
    return earnings.summary(db, org.id, as_of)


@api.get("/commissions/holds")
def list_holds(
    org: ApiOrg, db: DB, status: Literal["open", "approved", "rejected", "all"] = "open"
) -> list[HoldView]:
    """The brand's conversions held by the fraud checks, with their reasons."""
    return holds.holds(db, org.id, status=None if status == "all" else status)


@api.post("/commissions/holds/{hold_id}/decision")
def decide_hold(hold_id: SmallId, body: Decision, org: ApiOrg, db: DB) -> HoldView:
    """Approve or reject a held conversion's commission, with a note."""
    return holds.decide(db, org.id, hold_id, body.decision, body.note, "API")


@api.get("/earnings")
def my_earnings(org: ApiOrg, db: DB, as_of: Annotated[date | None, Query()] = None) -> Earnings:
    """As a partner: what each brand owes the organization, pending to paid."""
    return earnings.earnings(db, org.id, as_of)


@api.post("/payouts/runs", status_code=201)
def run_payouts(body: AsOf, org: ApiOrg, db: DB) -> PayoutRun:
    """One payout per partner and currency of the approved, unpaid commissions."""
    return payouts.run(db, org.id, body.as_of)


@api.get("/payouts")
def list_payouts(
    org: ApiOrg, db: DB, side: Literal["brand", "partner"] = "brand"
) -> list[PayoutView]:
    """The brand's payouts (``side=partner``: those to the organization), newest first."""
    return payouts.payouts(db, org.id, side)


@api.post("/payouts/{payout_id}/paid")
def mark_paid(payout_id: SmallId, body: Payment, org: ApiOrg, db: DB) -> PayoutView:
    return payouts.mark_paid(db, org.id, payout_id, body.reference)


@api.post("/payouts/{payout_id}/cancel")
def cancel_payout(payout_id: SmallId, org: ApiOrg, db: DB) -> PayoutView:
    return payouts.cancel(db, org.id, payout_id)


@api.get(
    "/payouts/{payout_id}/export",
    responses={200: {"content": {"text/csv": {}, "application/xml": {}}}},
)
def export_payout(
    payout_id: SmallId, org: ApiOrg, db: DB, format: Literal["csv", "sepa"] = "csv"
) -> Response:
    """The payout as CSV, or as a SEPA credit transfer (pain.001.001.03, EUR)."""
    return _payout_file(db, org.id, payout_id, format)


class FraudChanges(Body):
    """Thresholds to change (the others keep their value); see ``FraudSettings``."""

    checks: list[str] | None = Field(None, max_length=10)
    burst_clicks: int | None = Field(None, ge=1, le=1_000_000)
    burst_minutes: int | None = Field(None, ge=1, le=1_000_000)
    min_seconds: int | None = Field(None, ge=0, le=86_400)
    rate_z: float | None = Field(None, gt=0, le=100)
    rate_history_days: int | None = Field(None, ge=3, le=365)
    rate_min_clicks: int | None = Field(None, ge=1, le=1_000_000)
    refund_rate_bp: int | None = Field(None, ge=0, le=10_000)
    refund_min_sales: int | None = Field(None, ge=1, le=1_000_000)
    refund_window_days: int | None = Field(None, ge=1, le=730)


@api.get("/fraud-settings")
def get_fraud_settings(org: ApiOrg, db: DB) -> FraudSettings:
    """The fraud checks the organization runs before approving a commission, and their
    thresholds."""
    return fraud.current(db, org.id)


@api.put("/fraud-settings")
def set_fraud_settings(body: FraudChanges, org: ApiOrg, db: DB) -> FraudSettings:
    return fraud.save_settings(db, org.id, body.model_dump(exclude_none=True))


@api.put("/payout-details")
def set_payout_details(body: Account, org: ApiOrg, db: DB) -> PayoutDetails:
    """Where the organization is paid (and pays from); sealed at rest, shown masked."""
    return details.save(db, org.id, body.holder, body.iban, body.bic, body.threshold_minor)


@api.post("/costs", status_code=201)
def add_costs(body: CostRows, org: ApiOrg, db: DB) -> CostsImported:
    """Spend per partnership, channel and month (all or none; a row again adds nothing)."""
    return costs.add_costs(db, org.id, [r.model_dump() for r in body.rows], "costs")


@api.get("/partnerships/{partnership_id}/statements/{month}")
def get_statement(partnership_id: SmallId, month: str, org: ApiOrg, db: DB) -> Statement:
    """A month's commissions by rule, reversals, payouts and balances (either party)."""
    return statements.statement(db, org.id, partnership_id, month)


def _payout_file(db: Database, org_id: int, payout_id: int, fmt: str) -> Response:
    data = payouts.export(db, org_id, payout_id, fmt)
    kind, suffix = ("application/xml", "xml") if fmt == "sepa" else ("text/csv", "csv")
    return Response(
        data,
        media_type=kind,
        headers={"Content-Disposition": f'attachment; filename="payout-{payout_id}.{suffix}"'},
    )


# The dashboard: the brand's side.


@pages.get("/commissions")
def commissions_page(
    request: Request, user: Manager, db: DB, error: str | None = None, status_code: int = 200
) -> Response:
    return page(
        request,
        "pay/commissions.html",
        user=user,
        status_code=status_code,
        error=error,
        summary=earnings.summary(db, user.org_id),
        held=holds.holds(db, user.org_id),
        payouts=payouts.payouts(db, user.org_id),
        balances=ledger.partner_balances(db, user.org_id),
        mine=details.shown(db, user.org_id),
        today=date.today().isoformat(),
        fraud=fraud.current(db, user.org_id),
        checks=CHECKS,
    )


def _act(request: Request, user: User, db: Database, csrf: str, take: Any) -> Response:
    check_csrf(request, csrf)
    try:
        take()
    except _REFUSED as exc:
        return commissions_page(request, user, db, exc.message, exc.http_status)
    return RedirectResponse("/commissions", 303)


@pages.post("/commissions/compute")
def compute_form(
    request: Request,
    user: Editor,
    db: DB,
    as_of: Annotated[str, Form(max_length=10)] = "",
    csrf: Csrf = "",
) -> Response:
    return _act(
        request,
        user,
        db,
        csrf,
        lambda: compute(db, user.org_id, parse_date(as_of or None, "as_of")),
    )


@pages.post("/commissions/holds/{hold_id}")
def decide_form(
    request: Request,
    user: Editor,
    db: DB,
    hold_id: SmallId,
    decision: Annotated[Literal["approve", "reject"], Form()],
    note: Annotated[str, Form(max_length=2000)] = "",
    csrf: Csrf = "",
) -> Response:
    return _act(
        request,
        user,
        db,
        csrf,
        lambda: holds.decide(db, user.org_id, hold_id, decision, note, user.email),
    )


@pages.post("/payouts/run")
def run_form(
    request: Request,
    user: Editor,
    db: DB,
    as_of: Annotated[str, Form(max_length=10)] = "",
    csrf: Csrf = "",
) -> Response:
    return _act(
        request,
        user,
        db,
        csrf,
        lambda: payouts.run(db, user.org_id, parse_date(as_of or None, "as_of")),
    )


@pages.post("/payouts/{payout_id}/paid")
def paid_form(
    request: Request,
    user: Editor,
    db: DB,
    payout_id: SmallId,
    reference: Annotated[str, Form(max_length=140)] = "",
    csrf: Csrf = "",
) -> Response:
    return _act(
        request, user, db, csrf, lambda: payouts.mark_paid(db, user.org_id, payout_id, reference)
    )


@pages.post("/payouts/{payout_id}/cancel")
def cancel_form(
    request: Request, user: Editor, db: DB, payout_id: SmallId, csrf: Csrf = ""
) -> Response:
    return _act(request, user, db, csrf, lambda: payouts.cancel(db, user.org_id, payout_id))


@pages.get("/payouts/{payout_id}/export")
def payout_download(
    payout_id: SmallId, user: ManagerOr401, db: DB, format: Literal["csv", "sepa"] = "csv"
) -> Response:
    return _payout_file(db, user.org_id, payout_id, format)


@pages.post("/commissions/details")
def brand_details_form(
    request: Request,
    user: Editor,
    db: DB,
    holder: Annotated[str, Form(max_length=70)] = "",
    iban: Annotated[str, Form(max_length=42)] = "",
    bic: Annotated[str, Form(max_length=11)] = "",
    csrf: Csrf = "",
) -> Response:
    """The account the brand's SEPA transfers are paid from."""
    return _act(
        request, user, db, csrf, lambda: details.save(db, user.org_id, holder, iban, bic or None)
    )


@pages.post("/commissions/fraud-settings")
def fraud_form(
    request: Request,
    user: Editor,
    db: DB,
    checks: Annotated[list[str], Form(max_length=10)] = [],  # noqa: B006 - FastAPI's form default
    burst_clicks: Annotated[int, Form(ge=1, le=1_000_000)] = 20,
    min_seconds: Annotated[int, Form(ge=0, le=86_400)] = 10,
    rate_z: Annotated[float, Form(gt=0, le=100)] = 3.5,
    refund_rate_bp: Annotated[int, Form(ge=0, le=10_000)] = 3000,
    csrf: Csrf = "",
) -> Response:
    """Which fraud checks run, and their main thresholds."""
    changes = {
        "checks": checks,
        "burst_clicks": burst_clicks,
        "min_seconds": min_seconds,
        "rate_z": rate_z,
        "refund_rate_bp": refund_rate_bp,
    }
    return _act(request, user, db, csrf, lambda: fraud.save_settings(db, user.org_id, changes))


@pages.post("/commissions/costs")
def cost_form(
    request: Request,
    user: Editor,
    db: DB,
    partner: Annotated[str, Form(max_length=64)] = "",
    channel: Annotated[str, Form(max_length=64)] = "",
    month: Annotated[str, Form(max_length=7)] = "",
    kind: Annotated[str, Form(max_length=16)] = "",
    amount_minor: Annotated[int, Form(ge=0)] = 0,
    currency: Annotated[str, Form(max_length=3)] = "EUR",
    note: Annotated[str, Form(max_length=500)] = "",
    csrf: Csrf = "",
) -> Response:
    """Record one cost (a fee, production, a shared budget split as agreed)."""
    row = {
        "partner": partner,
        "channel": channel,
        "month": month,
        "kind": kind,
        "amount_minor": amount_minor,
        "currency": currency,
        "note": note,
    }
    return _act(request, user, db, csrf, lambda: costs.add_costs(db, user.org_id, [row], "cost"))


# The portal: the partner's side.


@pages.get("/portal/earnings")
def earnings_page(
    request: Request, user: Partner, db: DB, error: str | None = None, status_code: int = 200
) -> Response:
    return page(
        request,
        "pay/earnings.html",
        user=user,
        status_code=status_code,
        error=error,
        earned=earnings.earnings(db, user.org_id),
        held=holds.holds(db, user.org_id, status=None, side="partner"),
        payouts=payouts.payouts(db, user.org_id, "partner"),
        mine=details.shown(db, user.org_id),
        partnerships=statements.months_of(db, user.org_id),
    )


@pages.post("/portal/earnings/details")
def details_form(
    request: Request,
    user: Partner,
    db: DB,
    holder: Annotated[str, Form(max_length=70)] = "",
    iban: Annotated[str, Form(max_length=42)] = "",
    bic: Annotated[str, Form(max_length=11)] = "",
    threshold_minor: Annotated[int, Form(ge=0, le=10**15)] = 0,
    csrf: Csrf = "",
) -> Response:
    """Where the partner is paid: entered by the partner, sealed at rest."""
    check_csrf(request, csrf)
    try:
        details.save(db, user.org_id, holder, iban, bic or None, threshold_minor)
    except _REFUSED as exc:
        return earnings_page(request, user, db, exc.message, exc.http_status)
    return RedirectResponse("/portal/earnings", 303)


def _statement_page(
    request: Request, user: User, db: Database, partnership_id: int, month: str, fmt: str
) -> Response:
    found = statements.statement(db, user.org_id, partnership_id, month)
    if fmt == "pdf":
        name = f"statement-{partnership_id}-{month}.pdf"
        return Response(
            statements.pdf(found),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return page(request, "pay/statement.html", user=user, statement=found)


@pages.get("/partnerships/{partnership_id}/statements/{month}")
def brand_statement(
    request: Request,
    partnership_id: SmallId,
    month: str,
    user: ManagerOr401,
    db: DB,
    format: Literal["html", "pdf"] = "html",
) -> Response:
    return _statement_page(request, user, db, partnership_id, month, format)


@pages.get("/portal/partnerships/{partnership_id}/statements/{month}")
def partner_statement(
    request: Request,
    partnership_id: SmallId,
    month: str,
    user: PartnerOr401,
    db: DB,
    format: Literal["html", "pdf"] = "html",
) -> Response:
    return _statement_page(request, user, db, partnership_id, month, format)

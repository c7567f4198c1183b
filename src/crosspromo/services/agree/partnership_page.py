"""One partnership as a page: both parties, its lifecycle so far and the steps it may take, the
links and codes between them with their numbers, figures for a chosen range, and the
experiments that involve the partner. The brand's dashboard also gets what only it should see
(attribution credit, customer value against organic); the partner's portal gets the parties,
the history, and the links and codes issued to it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from crosspromo.domain import PartnershipStatus
from crosspromo.domain.models import allowed_transitions
from crosspromo.errors import CrossPromoError
from crosspromo.services.accounts.organizations import OrganizationView
from crosspromo.services.agree.history import StatusStep, history
from crosspromo.services.agree.partnerships import PartnershipView, get_partnership
from crosspromo.services.measure.attribution import MODEL_QUOTED
from crosspromo.services.measure.experiments import ExperimentView, list_experiments
from crosspromo.services.results import latest
from crosspromo.services.track import stats
from crosspromo.services.track.conversions import CodeView
from crosspromo.services.track.links import LinkFigures, links_between
from crosspromo.store.database import Database
from crosspromo.store.repositories import (
    ConversionRepository,
    OrganizationRepository,
    PartnerCodeRepository,
    PartnershipRepository,
)


@dataclass(frozen=True, slots=True)
class Figures:
    """What the partnership brought the brand from ``start`` to ``end`` (inclusive)."""

    start: date
    end: date
    clicks: int
    leads: int
    sales: int
    revenue_by_currency: dict[str, int]
    new_customers: int | None = None
    conversion_rate: float | None = None  # sales per human click
    credit: float | None = None  # conversions credited to the partner (attribution model)
    credit_share: float | None = None
    value_12m: float | None = None  # mean 12-month value of the partner's customers
    organic_12m: float | None = None
    currency: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PartnershipPage:
    view: PartnershipView
    us: OrganizationView
    history: list[StatusStep]
    steps: list[PartnershipStatus]
    links: list[LinkFigures]
    codes: list[CodeView]
    figures: Figures
    experiments: list[ExperimentView]


def partnership_page(
    db: Database, org_id: int, partnership_id: int, start: date | None, end: date | None,
    *, portal: bool = False,
) -> PartnershipPage:  # fmt: skip
    """The page for one side (``org_id`` must be a party). ``portal``: the partner's view,
    the links and codes issued to it and none of the brand's own analyses."""
    first, last = stats.date_range(start, end)
    with db.transaction() as session:
        item = PartnershipRepository(session).get_for_org(org_id, partnership_id)
        other_id = item.other_party(org_id)
        orgs = OrganizationRepository(session).many({org_id, other_id})
        steps = history(session, item)
        owner, holder = (other_id, org_id) if portal else (org_id, other_id)
        codes = [CodeView.of(c, orgs[holder].slug)
                 for c in PartnerCodeRepository(session).for_org(owner)
                 if c.partner_org_id == holder]  # fmt: skip
    view = get_partnership(db, org_id, partnership_id)
    links = links_between(db, owner, holder, stats.day_window(first, last))
    found = figures(db, owner, orgs[holder].slug, first, last, brand_side=not portal)
    involved = [] if portal else [e for e in list_experiments(db, org_id)
                                  if e.partner == orgs[other_id].slug]  # fmt: skip
    # before terms are proposed, the status moves by hand, except to active (only both
    # parties' acceptance of the same terms makes it active); afterwards by the record
    by_hand = allowed_transitions(item.status) - {PartnershipStatus.ACTIVE}
    next_steps: list[PartnershipStatus] = [] if portal else [s for s in PartnershipStatus
                                                            if s in by_hand]  # fmt: skip
    return PartnershipPage(view, OrganizationView.of(orgs[org_id]), steps, next_steps, links,
                           codes, found, involved)  # fmt: skip


def figures(
    db: Database, brand_id: int, partner: str, first: date, last: date, *, brand_side: bool
) -> Figures:
    """What ``partner``'s links and codes from ``brand_id`` brought from ``first`` to ``last``;
    ``brand_side``: also the brand's own analyses (new customers, credit, customer value)."""
    rows = [r for r in stats.daily_stats(db, brand_id, first, last) if r.partner == partner]
    revenue: dict[str, int] = {}
    for row in rows:
        for currency, amount in row.revenue_by_currency.items():
            revenue[currency] = revenue.get(currency, 0) + amount
    clicks, sales = sum(r.clicks for r in rows), sum(r.sales for r in rows)
    base = Figures(first, last, clicks, sum(r.leads for r in rows), sales, revenue,
                   conversion_rate=sales / clicks if clicks else None)  # fmt: skip
    if not brand_side:
        return base
    with db.reading() as session:
        if not ConversionRepository(session).any_for(brand_id):  # a new organization: the
            # analyses would only refuse, after waiting behind others' computations
            return replace(base, notes=["customer value and credit come with the first sales "
                                        "recorded"])  # fmt: skip
    notes: list[str] = []
    extra: dict[str, object] = {}
    try:
        kpis = latest.kpis(db, brand_id, first, last).value
        mine = next((k for k in kpis.partners if k.partner == partner), None)
        extra.update(new_customers=mine.new_customers if mine else 0, currency=kpis.currency,
                     value_12m=mine.clv_12m if mine else None,
                     organic_12m=kpis.organic_clv_12m)  # fmt: skip
    except CrossPromoError as exc:
        notes.append(f"customer value not available: {exc.message}")
    try:
        report = latest.attribution(db, brand_id, 30, "sale", bootstrap_rounds=0).value
        model = next((m for m in report.models if m.model == MODEL_QUOTED), None)
        if model is not None:
            credited = {p.partner: p.conversions for p in model.partners}
            total = sum(credited.values())
            mine_credit = credited.get(partner, 0.0)
            extra.update(credit=mine_credit, credit_share=mine_credit / total if total else None)
    except CrossPromoError as exc:
        notes.append(f"attribution not available: {exc.message}")
    return replace(base, notes=notes, **extra)  # type: ignore[arg-type]

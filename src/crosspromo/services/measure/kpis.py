"""Partnership KPIs per partner and month: traffic, leads, sales, revenue, new customers
acquired through the partner, and with costs CPA, cost per lead, ROI and payback; the value of
partner-acquired customers against organic ones; and whether each partnership is fair to both
sides."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from crosspromo.domain.money import minor_per_major
from crosspromo.domain.text import digits
from crosspromo.errors import InvalidInputError
from crosspromo.services.files.tabular import read_table, require_columns
from crosspromo.services.measure.attribution import MODEL_QUOTED
from crosspromo.services.measure.clv import ORGANIC, ClvReport, organization_clv
from crosspromo.services.measure.journeys import source_credit
from crosspromo.services.pay.costs import channel_costs, kpi_costs
from crosspromo.services.track import stats
from crosspromo.store.database import Database
from crosspromo.store.repositories import (
    JourneyRepository,
    OrganizationRepository,
    PartnershipRepository,
)

Costs = Mapping[tuple[str, str], float]  # (partner slug, YYYY-MM) -> spend in major units


@dataclass(frozen=True)
class PartnerKpis:
    """One partner over one month, or (``month`` None) over the whole range."""

    partner: str
    month: str | None
    clicks: int
    leads: int
    sales: int
    revenue: float
    new_customers: int
    cost: float | None
    referral_conversion_rate: float | None  # of referred leads by known customers: share who bought
    cpa: float | None  # cost per new customer
    cost_per_lead: float | None
    roi: float | None  # (revenue - cost) / cost
    clv_12m: float | None = None  # mean 12-month value of the partner's customers
    payback_months: float | None = None  # months of that value to earn back the CPA


@dataclass(frozen=True)
class ChannelKpis:
    """Over the whole range, what one source of the organization's sales and leads returned for
    what it cost: a partner (``partner``, all its channels as one) or one of the organization's
    own channels (``channel``). Sales, leads and revenue are as the attribution model credits
    them (shares of journeys, so fractions), so partners and own channels are judged alike."""

    partner: str | None
    channel: str | None
    sales: float
    leads: float
    revenue: float
    cost: float | None
    cost_per_sale: float | None
    cost_per_lead: float | None
    roi: float | None


@dataclass(frozen=True)
class Fairness:
    """Sales revenue each side of a partnership got through the other."""

    partner: str
    received: float  # this organization's revenue through the partner
    delivered: float  # the partner's revenue through this organization
    share_received: float | None
    imbalanced: bool


@dataclass(frozen=True)
class KpiReport:
    currency: str | None
    start: date
    end: date
    months: list[PartnerKpis]
    partners: list[PartnerKpis]
    organic_clv_12m: float | None
    fairness: list[Fairness]
    channels: list[ChannelKpis]
    channel_model: str  # the attribution model that credits ``channels``


def read_costs(path: Path) -> dict[tuple[str, str], float]:
    """A costs file (CSV or Parquet): columns partner, month (YYYY-MM), cost (major units)."""
    table = read_table(path)
    require_columns(path.name, table.column_names, ["partner", "month", "cost"])
    costs: dict[tuple[str, str], float] = defaultdict(float)
    for number, row in enumerate(table.select(["partner", "month", "cost"]).to_pylist(), 1):
        month, cost = str(row["month"] or ""), row["cost"]
        if not row["partner"] or len(month) != 7 or month[4] != "-" or not digits(month[:4]):
            raise InvalidInputError(
                f"{path.name}, row {number}: partner and month (YYYY-MM) are needed", row=number
            )
        if not isinstance(cost, int | float) or cost < 0:
            raise InvalidInputError(
                f"{path.name}, row {number}: cost must be a number >= 0", row=number
            )
        costs[(str(row["partner"]), month)] += float(cost)
    return dict(costs)


def partner_kpis(
    db: Database,
    org_id: int,
    *,
    start: date | None = None,
    end: date | None = None,
    costs: Costs | None = None,
    currency: str | None = None,
    imbalance: float = 0.7,
    values: Mapping[str, float] | None = None,
) -> KpiReport:
    """KPIs of each partner sending this organization traffic or customers, by month and in
    total (default range: the year to the latest event). A partnership is flagged imbalanced
    when one side got more than ``imbalance`` of the revenue the two sent each other.
    ``values``: each source's mean 12-month customer value, when already fitted."""
    if not 0.5 < imbalance < 1:
        raise InvalidInputError("imbalance must lie between 0.5 and 1", field="imbalance")
    first, last = stats.date_range(start, end, 365, stats.latest_day(db, org_id))
    with db.reading() as session:
        journeys = JourneyRepository(session)
        chosen = journeys.sales_currency(org_id, currency)
        purchases = journeys.purchases(org_id, chosen).to_pylist()
        leads = journeys.partner_leads(org_id)
    unit = minor_per_major(chosen) if chosen else 100
    acquired = _new_customers(purchases, first, last)
    per: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for row in stats.daily_stats(db, org_id, first, last):
        cell = per[(row.partner, row.day[:7])]
        cell["clicks"] += row.clicks
        cell["leads"] += row.leads
        cell["sales"] += row.sales
        cell["revenue"] += row.revenue_by_currency.get(chosen or "", 0) / unit
    for key, count in acquired.items():
        per[key]["new_customers"] += count
    for key, (referred, bought) in _referred(leads, purchases, first, last).items():
        per[key]["referred"] += referred
        per[key]["referred_bought"] += bought
    own: dict[tuple[str, str], float] = {}
    months_in = (first.isoformat()[:7], last.isoformat()[:7])  # costs are booked by month
    if costs is None and chosen is not None:  # what is recorded: costs, commissions approved
        costs = kpi_costs(db, org_id, chosen)
        own = channel_costs(db, org_id, chosen)
    for key, cost in (costs or {}).items():
        if months_in[0] <= key[1] <= months_in[1]:
            per[key]["cost"] += cost
    months = [_kpis(p, m, v, costs is not None) for (p, m), v in sorted(per.items())]
    totals: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for (partner, _), cell in per.items():
        for k, v in cell.items():
            totals[partner][k] += v
    value = dict(values) if values is not None else _values(db, org_id, chosen)
    partners = [
        _with_value(_kpis(p, None, v, costs is not None), value.get(p))
        for p, v in sorted(totals.items())
    ]
    received = {p: v.get("revenue", 0.0) for p, v in totals.items()}
    fairness = _fairness(db, org_id, first, last, chosen, unit, imbalance, received)
    costed = costs is not None or bool(own)
    spent: dict[tuple[str | None, str | None], float] = {
        (p, None): v.get("cost", 0.0) for p, v in totals.items()
    }
    for (channel, month), cost in own.items():
        if months_in[0] <= month <= months_in[1]:
            spent[(None, channel)] = spent.get((None, channel), 0.0) + cost
    channels = _channels(db, org_id, first, last, chosen, unit, spent, costed)
    return KpiReport(
        chosen, first, last, months, partners, value.get(ORGANIC), fairness, channels,
        MODEL_QUOTED,
    )  # fmt: skip


def _channels(
    db: Database, org_id: int, first: date, last: date, currency: str | None, unit: int,
    spent: Mapping[tuple[str | None, str | None], float], costed: bool,
) -> list[ChannelKpis]:  # fmt: skip
    """Each partner and own channel that was credited a sale or lead or cost something, the
    largest revenue first."""
    cells: dict[tuple[str | None, str | None], dict[str, float]] = defaultdict(
        lambda: defaultdict(float)
    )
    for kind, chosen in (("sale", currency), ("lead", None)):
        if kind == "sale" and currency is None:
            continue
        found = source_credit(
            db, org_id, model=MODEL_QUOTED, kind=kind, currency=chosen, start=first, end=last
        )
        for partner, channel, conversions, value in found.credit:
            cells[(partner, channel)][kind] += conversions
            if kind == "sale":
                cells[(partner, channel)]["revenue"] += value / unit
    for key, cost in spent.items():
        cells[key]["cost"] += cost
    rows = []
    for (partner, channel), v in cells.items():
        paid = v.get("cost", 0.0) if costed else None
        sales, leads, revenue = v.get("sale", 0.0), v.get("lead", 0.0), v.get("revenue", 0.0)
        row = ChannelKpis(
            partner, channel, sales, leads, revenue, paid,
            paid / sales if paid is not None and sales else None,
            paid / leads if paid is not None and leads else None,
            (revenue - paid) / paid if paid else None,
        )  # fmt: skip
        rows.append(row)
    return sorted(rows, key=lambda r: (-r.revenue, -r.leads, r.partner or "", r.channel or ""))


def _new_customers(
    purchases: list[dict[str, Any]], first: date, last: date
) -> dict[tuple[str, str], int]:
    """Customers whose first sale came through a partner within the range, per partner and
    month (NCAR's numerator)."""
    earliest: dict[str, tuple[date, str]] = {}
    for row in purchases:
        seen = earliest.get(row["customer"])
        here = (row["date"], row["source"] or "")
        if seen is None or here[0] < seen[0] or (here[0] == seen[0] and here[1] > seen[1]):
            earliest[row["customer"]] = here
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for day, source in earliest.values():
        if source and first <= day <= last:
            counts[(source, day.isoformat()[:7])] += 1
    return dict(counts)


def _referred(
    leads: list[tuple[str, date, str]], purchases: list[dict[str, Any]], first: date, last: date
) -> dict[tuple[str, str], tuple[int, int]]:
    """Per partner and month of the lead: referred leads by known customers within the range,
    and how many of them bought on or after the lead."""
    last_sale: dict[str, date] = {}
    for row in purchases:
        if row["date"] > last_sale.get(row["customer"], date.min):
            last_sale[row["customer"]] = row["date"]
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for customer, day, partner in leads:
        if first <= day <= last:
            cell = counts[(partner, day.isoformat()[:7])]
            cell[0] += 1
            cell[1] += int(last_sale.get(customer, date.min) >= day)
    return {k: (v[0], v[1]) for k, v in counts.items()}


def _kpis(partner: str, month: str | None, v: Mapping[str, float], costed: bool) -> PartnerKpis:
    cost = v.get("cost", 0.0) if costed else None
    clicks, leads, sales = int(v.get("clicks", 0)), int(v.get("leads", 0)), int(v.get("sales", 0))
    new, revenue = int(v.get("new_customers", 0)), float(v.get("revenue", 0.0))
    referred = v.get("referred", 0.0)
    return PartnerKpis(
        partner, month, clicks, leads, sales, revenue, new, cost,
        v.get("referred_bought", 0.0) / referred if referred else None,
        cost / new if cost is not None and new else None,
        cost / leads if cost is not None and leads else None,
        (revenue - cost) / cost if cost else None,
    )  # fmt: skip


def _values(db: Database, org_id: int, currency: str | None) -> dict[str, float]:
    """Mean 12-month value of each acquisition source's customers (none without a fit)."""
    try:
        return source_values(organization_clv(db, org_id, currency=currency).report())
    except InvalidInputError:
        return {}


def source_values(fitted: ClvReport) -> dict[str, float]:
    """Each source's mean 12-month value, from a CLV fit by source."""
    return {s: r.value.mean for s, r in (fitted.by_source or {}).items() if r.value}


def _with_value(kpis: PartnerKpis, clv: float | None) -> PartnerKpis:
    payback = kpis.cpa / (clv / 12) if kpis.cpa is not None and clv else None
    return PartnerKpis(**{**asdict(kpis), "clv_12m": clv, "payback_months": payback})


def _fairness(
    db: Database, org_id: int, first: date, last: date, currency: str | None, unit: int,
    imbalance: float, received_from: Mapping[str, float],
) -> list[Fairness]:  # fmt: skip
    """Per partnership: ``received_from`` (this organization's revenue through each partner,
    already summed) against the partner's revenue through this organization."""
    with db.reading() as session:
        items = PartnershipRepository(session).for_org(org_id)
        others = OrganizationRepository(session).many(p.other_party(org_id) for p in items)
        me = OrganizationRepository(session).get(org_id).slug
    views = {o.slug: o.id for o in others.values()}
    found = []
    for slug, other_id in sorted(views.items()):
        received = received_from.get(slug, 0.0)
        delivered = _revenue(db, other_id, first, last, me, currency) / unit
        total = received + delivered
        share = received / total if total else None
        flagged = share is not None and max(share, 1 - share) > imbalance
        found.append(Fairness(slug, received, delivered, share, flagged))
    return found


def _revenue(
    db: Database, org_id: int, first: date, last: date, partner: str | None, currency: str | None
) -> float:
    rows = stats.daily_stats(db, org_id, first, last)
    return float(
        sum(r.revenue_by_currency.get(currency or "", 0) for r in rows if r.partner == partner)
    )

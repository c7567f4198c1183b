"""The Tracking tab: totals for a range of days, and one table of what each link, campaign or
day brought, sorted by any column, a page at a time, and exported as CSV exactly as shown
(every page, the same order and columns)."""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from crosspromo.errors import InvalidInputError
from crosspromo.services.track import stats
from crosspromo.services.track.links import short_url
from crosspromo.spreadsheet import SafeWriter
from crosspromo.store.database import Database
from crosspromo.store.repositories import (
    LinkRepository,
    OrganizationRepository,
    PartnerCodeRepository,
    StatsRepository,
)

PAGE_SIZE = 25


class View(StrEnum):
    """What one row of the table stands for."""

    LINKS = "links"  # a tracking link, a referral or coupon code, or neither (imports)
    CAMPAIGNS = "campaigns"  # a partner's campaign (the campaign of its links)
    DAYS = "days"  # a day, partner and campaign


KEYS: dict[View, tuple[str, ...]] = {
    View.LINKS: ("partner", "campaign", "source"),
    View.CAMPAIGNS: ("partner", "campaign"),
    View.DAYS: ("day", "partner", "campaign"),
}
MEASURES = ("clicks", "unique_clicks", "leads", "sales", "conversion_rate", "revenue", "epc")
DESCENDING_FIRST = frozenset(MEASURES)  # a first click on a number shows the largest first


@dataclass(frozen=True, slots=True)
class Row:
    """What one link, code, campaign or day brought in the range."""

    partner: str  # the partner's slug
    partner_name: str
    campaign: str = ""
    source: str = ""  # a link's code, "coupon SUMMER10", or "" when neither (an import)
    short_url: str | None = None
    day: str = ""
    clicks: int = 0  # human clicks (bots apart)
    unique_clicks: int = 0
    bot_clicks: int = 0
    leads: int = 0
    sales: int = 0
    revenue_by_currency: dict[str, int] = field(default_factory=dict)  # net of refunds

    @property
    def conversion_rate(self) -> float | None:
        """Sales per human click; none without clicks (a code or an import credited them)."""
        return self.sales / self.clicks if self.clicks else None

    def epc(self, currency: str | None) -> float | None:
        """Net revenue in ``currency`` per human click, in minor units: earnings per click."""
        if not self.clicks or currency is None:
            return None
        return self.revenue_by_currency.get(currency, 0) / self.clicks

    def plus(self, other: Row) -> Row:
        revenue = dict(self.revenue_by_currency)
        for currency, amount in other.revenue_by_currency.items():
            revenue[currency] = revenue.get(currency, 0) + amount
        return Row(
            self.partner, self.partner_name, self.campaign, self.source, self.short_url,
            self.day, self.clicks + other.clicks, self.unique_clicks + other.unique_clicks,
            self.bot_clicks + other.bot_clicks, self.leads + other.leads,
            self.sales + other.sales, revenue,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Order:
    """How the table is sorted and which page is shown."""

    view: View = View.LINKS
    sort: str = "clicks"
    descending: bool = True
    page: int = 1

    @classmethod
    def parse(cls, view: str, sort: str | None, order: str | None, page: int) -> Order:
        """Checked query parameters; a column the view does not have is refused by name."""
        try:
            chosen = View(view)
        except ValueError:
            raise InvalidInputError(
                f"view must be one of {', '.join(v.value for v in View)}, not {view!r}",
                field="view",
            ) from None
        columns = KEYS[chosen] + MEASURES
        sort = sort or "clicks"
        if sort not in columns:
            raise InvalidInputError(
                f"sort must be one of {', '.join(columns)}, not {sort!r}", field="sort"
            )
        if order not in (None, "", "asc", "desc"):
            raise InvalidInputError(f"order must be asc or desc, not {order!r}", field="order")
        descending = order == "desc" if order else sort in DESCENDING_FIRST
        if page < 1:
            raise InvalidInputError("page must be 1 or more", field="page")
        return cls(chosen, sort, descending, page)


@dataclass(frozen=True, slots=True)
class TrackingReport:
    start: date
    end: date
    order: Order
    currency: str | None  # the currency revenue is sorted and earnings per click are shown in
    totals: Row
    rows: list[Row]  # this page's rows
    row_count: int
    pages: int
    latest_day: date | None  # the last day with a click, to offer when the range is empty
    daily: stats.DailyStats
    partner_names: dict[str, str]  # by slug

    def per_partner_day(self, value: Callable[[stats.DailyRow], int]) -> dict[str, list[int]]:
        """``value`` a day per partner, by the partner's name (for charts)."""
        names = self.partner_names
        return {names.get(slug, slug): v for slug, v in self.daily.by_partner(value).items()}

    @property
    def empty(self) -> bool:
        return not (self.totals.clicks or self.totals.leads or self.totals.sales)


def tracking_report(
    db: Database, org_id: int, start: date, end: date, order: Order, *, page_size: int = PAGE_SIZE
) -> TrackingReport:
    """Totals and the table of ``order.view`` from ``start`` to ``end`` (inclusive); a page
    past the last one shows the last."""
    daily = _daily(db, org_id, start, end)
    table = _Table.of(db, org_id, start, end, order.view, daily)
    rows = table.sorted(order)
    pages = max(1, math.ceil(len(rows) / page_size))
    shown = min(order.page, pages)
    first = (shown - 1) * page_size
    return TrackingReport(
        start, end, Order(order.view, order.sort, order.descending, shown), table.currency,
        table.totals, rows[first : first + page_size], len(rows), pages,
        stats.latest_day(db, org_id), daily, table.partner_names,
    )  # fmt: skip


def tracking_csv(db: Database, org_id: int, start: date, end: date, order: Order) -> str:
    """Every row of the table as the page sorts it, one line per row and currency, safe to
    open in a spreadsheet (amounts in minor units, rates as fractions)."""
    daily = _daily(db, org_id, start, end) if order.view is View.DAYS else None
    rows = _Table.of(db, org_id, start, end, order.view, daily).sorted(order)
    keys = KEYS[order.view]
    buffer = io.StringIO()
    writer = SafeWriter(buffer)
    writer.writerow([*keys, "partner_name", "short_url", "clicks", "unique_clicks",
                     "bot_clicks", "leads", "sales", "conversion_rate", "revenue_minor",
                     "currency", "earnings_per_click_minor"])  # fmt: skip
    for row in rows:
        base = [*(getattr(row, k) for k in keys), row.partner_name, row.short_url or "",
                row.clicks, row.unique_clicks, row.bot_clicks, row.leads, row.sales,
                _fraction(row.conversion_rate)]  # fmt: skip
        for currency, amount in sorted(row.revenue_by_currency.items()) or [("", 0)]:
            writer.writerow([*base, amount, currency, _fraction(row.epc(currency or None))])
    return buffer.getvalue()


@dataclass(frozen=True)
class _Table:
    """The rows of one view (unsorted), their totals and main currency: what the page and the
    CSV share."""

    rows: list[Row]
    totals: Row
    currency: str | None
    partner_names: dict[str, str]

    @classmethod
    def of(
        cls, db: Database, org_id: int, start: date, end: date, view: View,
        daily: stats.DailyStats | None,
    ) -> _Table:  # fmt: skip
        by_source = _by_source(db, org_id, start, end)
        totals = _total(by_source)
        names = {r.partner: r.partner_name for r in by_source}  # every partner of a day has one
        return cls(_group(view, by_source, daily, names), totals, _main_currency(totals), names)

    def sorted(self, order: Order) -> list[Row]:
        return sorted(self.rows, key=_sort_key(order.sort, self.currency),
                      reverse=order.descending)  # fmt: skip


def _daily(db: Database, org_id: int, start: date, end: date) -> stats.DailyStats:
    return stats.DailyStats(start, end, stats.daily_stats(db, org_id, start, end))


def _fraction(value: float | None) -> str:
    return "" if value is None else f"{value:.6f}".rstrip("0").rstrip(".")


def _by_source(db: Database, org_id: int, start: date, end: date) -> list[Row]:
    """One row per partner and source (link, code, or neither)."""
    with db.reading() as session:
        totals = StatsRepository(session).by_source(org_id, *stats.day_window(start, end))
        links = {i.id: i for i in LinkRepository(session).for_org(org_id)}
        codes = {c.id: c for c in PartnerCodeRepository(session).for_org(org_id)}
        orgs = OrganizationRepository(session).many({k[0] for k in totals})
    merged: dict[tuple[int, str, str], Row] = {}
    for (partner, link_id, code_id), v in totals.items():
        link = links.get(link_id) if link_id is not None else None
        code = codes.get(code_id) if code_id is not None else None
        source = link.code if link else f"{code.kind} {code.code}" if code else ""
        org = orgs[partner]
        row = Row(
            org.slug, org.name, link.campaign if link else "", source,
            short_url(db, link.code) if link else None, "", v["clicks"], v["unique_clicks"],
            v["bot_clicks"], v["leads"], v["sales"], v["revenue"],
        )  # fmt: skip
        key = (partner, row.source, row.campaign)  # a click and a sale on one link meet here
        merged[key] = merged[key].plus(row) if key in merged else row
    return list(merged.values())


def _total(rows: Iterable[Row]) -> Row:
    total = Row("", "All partners")
    for row in rows:
        total = total.plus(row)
    return total


def _main_currency(totals: Row) -> str | None:
    """The currency with the most revenue (by absolute amount; ties by code)."""
    ranked = sorted(totals.revenue_by_currency.items(), key=lambda kv: (-abs(kv[1]), kv[0]))
    return ranked[0][0] if ranked else None


def _group(
    view: View, by_source: list[Row], daily: stats.DailyStats | None, names: dict[str, str]
) -> list[Row]:
    if view is View.LINKS:
        return list(by_source)
    if view is View.DAYS:
        assert daily is not None, "the days view is grouped from the daily figures"
        return [Row(r.partner, names.get(r.partner, r.partner), r.campaign, "", None, r.day,
                    r.clicks, r.unique_clicks, r.bot_clicks, r.leads, r.sales,
                    dict(r.revenue_by_currency)) for r in daily.items]  # fmt: skip
    campaigns: dict[tuple[str, str], Row] = {}
    for row in by_source:
        key = (row.partner, row.campaign)
        bare = Row(row.partner, row.partner_name, row.campaign)
        campaigns[key] = campaigns.get(key, bare).plus(row)
    return list(campaigns.values())


def _sort_key(sort: str, currency: str | None) -> Callable[[Row], Any]:
    """Rows by ``sort``, then by their key columns (a stable, repeatable order); a missing
    rate sorts as the smallest."""

    def key(row: Row) -> tuple[Any, ...]:
        tie = (row.partner_name, row.campaign, row.source, row.day)
        if sort == "partner":
            return (row.partner_name, tie)
        if sort == "revenue":
            return (row.revenue_by_currency.get(currency, 0) if currency else 0, tie)
        if sort == "epc":
            value = row.epc(currency)
            return (value is not None, value or 0.0, tie)
        if sort == "conversion_rate":
            rate = row.conversion_rate
            return (rate is not None, rate or 0.0, tie)
        return (getattr(row, sort), tie)

    return key

"""The heavy results pages show, each through the result cache (``services.results``) under one
key, so the tab that shows a result and the partnership page that quotes it share one
computation per data change."""

from __future__ import annotations

from datetime import date

from crosspromo.services import results
from crosspromo.services.discover import ranking as discover
from crosspromo.services.discover.ranking import Outreach, RankingView
from crosspromo.services.measure import kpis as measure_kpis
from crosspromo.services.measure.journeys import AttributionReport, attribute_tracked
from crosspromo.services.measure.kpis import KpiReport
from crosspromo.services.measure.sources import SourcesReport, by_source
from crosspromo.services.results import Latest
from crosspromo.store.database import Database

TOP_CANDIDATES = 12


def ranking(db: Database, org_id: int) -> Latest[RankingView]:
    """The Discover tab's candidates."""
    return results.latest(db, (org_id, "ranking"),
                          lambda: discover.rank(db, org_id, top=TOP_CANDIDATES))  # fmt: skip


def outreach(db: Database, org_id: int, candidate: str) -> Latest[Outreach]:
    return results.latest(db, (org_id, "outreach", candidate),
                          lambda: discover.outreach_for(db, org_id, candidate))  # fmt: skip


def sources(db: Database, org_id: int) -> Latest[SourcesReport]:
    """Customer value, churn and KPIs by acquisition source (the Customers tab)."""
    return results.latest(db, (org_id, "sources"), lambda: by_source(db, org_id))


def attribution(
    db: Database, org_id: int, lookback_days: int, kind: str
) -> Latest[AttributionReport]:
    return results.latest(
        db, (org_id, "attribution", lookback_days, kind),
        lambda: attribute_tracked(db, org_id, lookback_days=lookback_days, kind=kind),
    )  # fmt: skip


def kpis(db: Database, org_id: int, start: date, end: date) -> Latest[KpiReport]:
    """Partner KPIs over a range, with each source's customer value from the cached fit."""

    def compute() -> KpiReport:
        values = measure_kpis.source_values(sources(db, org_id).value.value)
        return measure_kpis.partner_kpis(db, org_id, start=start, end=end, values=values)

    return results.latest(db, (org_id, "kpis", start, end), compute)

"""Customers by acquisition source, as the dashboard's Customers tab shows them together: the
value of each source's customers, how long they stay, and each partner's KPIs with that value."""

from __future__ import annotations

from dataclasses import dataclass

from crosspromo.services.measure.churn import ChurnReport, organization_churn
from crosspromo.services.measure.clv import ClvReport, organization_clv
from crosspromo.services.measure.kpis import KpiReport, partner_kpis, source_values
from crosspromo.store.database import Database


@dataclass(frozen=True)
class SourcesReport:
    value: ClvReport
    churn: ChurnReport
    kpis: KpiReport


def by_source(db: Database, org_id: int) -> SourcesReport:
    """Customer value, churn and partner KPIs of the organization; the KPIs reuse the value
    fitted here rather than fitting it again."""
    value = organization_clv(db, org_id).report()
    churn = organization_churn(db, org_id)
    return SourcesReport(value, churn, partner_kpis(db, org_id, values=source_values(value)))

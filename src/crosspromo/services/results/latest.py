"""The heavy results pages show, each through the result cache (``results.cache``) under one
key, so the tab that shows a result and the partnership page that quotes it share one
computation per data change."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from datetime import date

from crosspromo.errors import CrossPromoError
from crosspromo.services.accounts.users import dashboard_org_ids
from crosspromo.services.discover import ranking as discover
from crosspromo.services.discover.ranking import Outreach, RankingView
from crosspromo.services.measure import kpis as measure_kpis
from crosspromo.services.measure.journeys import AttributionReport, attribute_tracked
from crosspromo.services.measure.kpis import KpiReport
from crosspromo.services.measure.sources import SourcesReport, by_source
from crosspromo.services.results import cache
from crosspromo.services.results.cache import Latest
from crosspromo.services.track import stats
from crosspromo.store.database import Database

TOP_CANDIDATES = 12
_LOG = logging.getLogger("crosspromo.results")


def ranking(db: Database, org_id: int) -> Latest[RankingView]:
    """The Discover tab's candidates."""
    return cache.latest(db, (org_id, "ranking"),
                          lambda: discover.rank(db, org_id, top=TOP_CANDIDATES),
                          "the partner ranking")  # fmt: skip


def outreach(db: Database, org_id: int, candidate: str) -> Latest[Outreach]:
    return cache.latest(db, (org_id, "outreach", candidate),
                          lambda: discover.outreach_for(db, org_id, candidate),
                          f"the introduction to {candidate}")  # fmt: skip


def sources(db: Database, org_id: int) -> Latest[SourcesReport]:
    """Customer value, churn and KPIs by acquisition source (the Customers tab)."""
    return cache.latest(db, (org_id, "sources"), lambda: by_source(db, org_id),
                          "customer value by source")  # fmt: skip


BOOTSTRAP_ROUNDS = 100  # behind the dashboards' attribution intervals (a few seconds, cached)


def attribution(
    db: Database,
    org_id: int,
    lookback_days: int,
    kind: str,
    start: date | None = None,
    end: date | None = None,
    bootstrap_rounds: int = BOOTSTRAP_ROUNDS,
) -> Latest[AttributionReport]:
    """Every model's credit of the conversions from ``start`` to ``end`` (all when None), with
    95% bootstrap intervals (none when ``bootstrap_rounds`` is 0)."""
    return cache.latest(
        db, (org_id, "attribution", lookback_days, kind, start, end, bootstrap_rounds),
        lambda: attribute_tracked(db, org_id, lookback_days=lookback_days, kind=kind,
                                  start=start, end=end, bootstrap_rounds=bootstrap_rounds),
        "the attribution models" + (" and their 95% ranges" if bootstrap_rounds else ""),
    )  # fmt: skip


def kpis(db: Database, org_id: int, start: date, end: date) -> Latest[KpiReport]:
    """Partner KPIs over a range, with each source's customer value from the cached fit."""

    def compute() -> KpiReport:
        values = measure_kpis.source_values(sources(db, org_id).value.value)
        return measure_kpis.partner_kpis(db, org_id, start=start, end=end, values=values)

    return cache.latest(db, (org_id, "kpis", start, end), compute,
                          f"the partner figures of {start} to {end}")  # fmt: skip


_WARMING = "warming"  # the warm-up thread, kept in the database's memo


def warm(db: Database) -> threading.Thread:
    """Compute the heavy results of every organization with dashboard users in a background
    thread, so the first view after a server starts is as quick as the next one."""

    def run() -> None:
        try:
            for org_id in dashboard_org_ids(db):
                for one in (ranking, sources):
                    _quietly(one, db, org_id)
                for rounds in (0, BOOTSTRAP_ROUNDS):  # partnership pages, the Attribution tab
                    _quietly(attribution, db, org_id, 30, "sale", None, None, rounds)
                _quietly(kpis, db, org_id, *stats.date_range(None, None))  # a partnership's
        except Exception:
            _LOG.debug("warming the results stopped", exc_info=True)

    thread = threading.Thread(target=run, name="crosspromo-warm", daemon=True)
    db.memo[_WARMING] = thread
    thread.start()
    return thread


def warming(db: Database) -> bool:
    """Whether the results are still being computed after the server started."""
    thread = db.memo.get(_WARMING)
    return isinstance(thread, threading.Thread) and thread.is_alive()


def _quietly(compute: Callable[..., object], *args: object) -> None:
    with contextlib.suppress(CrossPromoError):  # too little data yet: the page will say so
        compute(*args)

"""Attribution of an organization's own tracked journeys: built from its touchpoints, tracked
clicks and code uses (one Ibis expression, run by DuckDB or Spark), credited by channel and by
partner with every model, with bootstrap intervals when asked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import ibis
import pyarrow as pa

from crosspromo.analytics.attribution import Attribution, Paths
from crosspromo.analytics.attribution.bootstrap import Interval, bootstrap
from crosspromo.analytics.attribution.journeys import DIMENSIONS, conversion_totals, journey_paths
from crosspromo.analytics.attribution.journeys import SEPARATOR as JOURNEY_SEPARATOR
from crosspromo.domain.conversions import ConversionKind
from crosspromo.engine.backend import Engine, engine_for
from crosspromo.errors import InvalidInputError
from crosspromo.services.measure.attribution import (
    ChannelCredit,
    ChannelsCredit,
    ModelOptions,
    PartnerCredit,
    channels_credit,
    credits,
    model_function,
    model_names,
)
from crosspromo.store.database import Database
from crosspromo.store.repositories import JourneyRepository


@dataclass(frozen=True, slots=True)
class ModelCredit(ChannelsCredit):
    """One model's credit by channel and by partner ("own": the brand's own touches)."""

    partners: list[PartnerCredit]


@dataclass(frozen=True, slots=True)
class AttributionReport:
    """Attribution of an organization's own tracked journeys. Values are in minor units of
    ``currency``; conversions with no touch inside the lookback window are untouched."""

    currency: str | None
    kind: str
    lookback_days: int
    journeys: int
    conversions: int
    untouched_conversions: int
    value: float
    models: list[ModelCredit]

    def table(self, by: str) -> list[tuple[str, list[float]]]:
        """Conversions credited to each channel (``by`` "channels") or partner ("partners"),
        a number per model, largest by the last model first (for the dashboard)."""
        credit: dict[str, list[float]] = {}
        for m, model in enumerate(self.models):
            entries: list[ChannelCredit] | list[PartnerCredit] = getattr(model, by)
            for e in entries:
                name = e.channel if isinstance(e, ChannelCredit) else e.partner
                credit.setdefault(name, [0.0] * len(self.models))[m] = e.conversions
        return sorted(credit.items(), key=lambda item: -item[1][-1])


def attribute_tracked(
    db: Database,
    org_id: int,
    *,
    model: str = "all",
    options: ModelOptions | None = None,
    lookback_days: int = 30,
    kind: str = "sale",
    currency: str | None = None,
    bootstrap_rounds: int = 0,
    seed: int = 0,
    engine: Engine | None = None,
) -> AttributionReport:
    """Build the organization's journeys from its touchpoints, tracked clicks and code uses, and
    credit its conversions of ``kind`` by channel and by partner."""
    names = model_names(model)
    chosen = options or ModelOptions()
    if not 1 <= lookback_days <= 366:
        raise InvalidInputError("lookback_days must be 1-366", field="lookback_days")
    if kind not in (ConversionKind.SALE, ConversionKind.LEAD):
        raise InvalidInputError("kind must be sale or lead", field="kind")
    if bootstrap_rounds and not 2 <= bootstrap_rounds <= 2000:
        raise InvalidInputError("bootstrap must be 0 or 2-2000 rounds", field="bootstrap")
    with db.transaction() as session:
        journeys = JourneyRepository(session)
        if kind == ConversionKind.SALE:
            currency = journeys.sales_currency(org_id, currency)
        events = journeys.events(org_id, kind, currency)
    with engine_for(db.settings, engine) as runner:
        window = timedelta(days=lookback_days)
        table = ibis.memtable(events)
        by = {d: runner.to_arrow(journey_paths(table, window, d)) for d in DIMENSIONS}
        totals = runner.to_arrow(conversion_totals(table)).to_pylist()[0]
    channel_paths, partner_paths = paths_from_table(by["channel"]), paths_from_table(by["partner"])
    results = []
    if channel_paths is not None and partner_paths is not None:
        for name in names:
            fit = model_function(name, chosen)

            def interval(
                paths: Paths, fit: Callable[[Paths], Attribution] = fit
            ) -> Interval | None:
                if not bootstrap_rounds:
                    return None
                return bootstrap(paths, fit, rounds=bootstrap_rounds, seed=seed)

            by_partner = fit(partner_paths)
            partners = [
                PartnerCredit(partner=e.pop("name"), **e)
                for e in credits(by_partner, interval(partner_paths))
            ]
            by_channel = channels_credit(fit(channel_paths), interval(channel_paths))
            results.append(ModelCredit(by_channel.model, by_channel.channels, partners))
    attributed = channel_paths.total_conversions if channel_paths else 0.0
    journeys_count = channel_paths.journeys if channel_paths else 0
    return AttributionReport(
        currency=currency,
        kind=str(kind),
        lookback_days=lookback_days,
        journeys=journeys_count,
        conversions=int(totals["conversions"]),
        untouched_conversions=int(totals["conversions"]) - round(attributed),
        value=float(totals["value"]),
        models=results,
    )


def paths_from_table(table: pa.Table) -> Paths | None:
    """Paths from the journeys query's rows, None when there are none."""
    if table.num_rows == 0:
        return None
    columns = (table.column(c) for c in ("path", "conversions", "value", "nulls"))
    return Paths.from_arrow(*columns, separator=JOURNEY_SEPARATOR.strip())

"""Attribution of an organization's own tracked journeys: built from its touchpoints, tracked
clicks and code uses (one Ibis expression, run by DuckDB or Spark), credited by channel and by
partner with every model, with bootstrap intervals when asked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import ibis
import pyarrow as pa

from crosspromo.analytics.attribution import Attribution, Paths
from crosspromo.analytics.attribution.bootstrap import Interval, bootstrap
from crosspromo.analytics.attribution.journeys import (
    DIMENSIONS,
    OWN_PREFIX,
    PARTNER_PREFIX,
    SOURCE,
    conversion_totals,
    journey_paths,
)
from crosspromo.analytics.attribution.journeys import SEPARATOR as JOURNEY_SEPARATOR
from crosspromo.domain.conversions import ConversionKind
from crosspromo.engine.backend import Engine, engine_for
from crosspromo.errors import InvalidInputError
from crosspromo.services.measure.attribution import (
    ChannelCredit,
    ChannelsCredit,
    Credit,
    ModelOptions,
    PartnerCredit,
    channels_credit,
    credits,
    model_function,
    model_names,
)
from crosspromo.services.track import stats
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
    start: date | None  # conversions from this day (UTC) on; None: from the first
    end: date | None  # up to this day, included; None: to the last
    journeys: int
    conversions: int
    untouched_conversions: int
    value: float
    models: list[ModelCredit]

    def table(self, by: str) -> list[tuple[str, list[Credit | None]]]:
        """Each channel's (``by`` "channels") or partner's ("partners") credit, one per model
        (None where a model gave it nothing), largest by the last model first."""
        credit: dict[str, list[Credit | None]] = {}
        for m, model in enumerate(self.models):
            entries: list[ChannelCredit] | list[PartnerCredit] = getattr(model, by)
            for e in entries:
                name = e.channel if isinstance(e, ChannelCredit) else e.partner
                credit.setdefault(name, [None] * len(self.models))[m] = e
        last = len(self.models) - 1
        return sorted(credit.items(), key=lambda item: -_conversions(item[1][last]))

    @property
    def attributed(self) -> int:
        """Conversions with at least one touch in their window: those the models share."""
        return self.conversions - self.untouched_conversions


def _conversions(credit: Credit | None) -> float:
    return 0.0 if credit is None else credit.conversions


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
    start: date | None = None,
    end: date | None = None,
) -> AttributionReport:
    """Build the organization's journeys from its touchpoints, tracked clicks and code uses, and
    credit its conversions of ``kind`` by channel and by partner: all of them, or those from
    ``start`` to ``end`` (days, UTC, both included; touches up to ``lookback_days`` before
    ``start`` still count)."""
    names = model_names(model)
    chosen = options or ModelOptions()
    if not 1 <= lookback_days <= 366:
        raise InvalidInputError("lookback_days must be 1-366", field="lookback_days")
    if kind not in (ConversionKind.SALE, ConversionKind.LEAD):
        raise InvalidInputError("kind must be sale or lead", field="kind")
    if bootstrap_rounds and not 2 <= bootstrap_rounds <= 2000:
        raise InvalidInputError("bootstrap must be 0 or 2-2000 rounds", field="bootstrap")
    currency, by, totals = _journeys(
        db, org_id, kind, currency, start, end, lookback_days, DIMENSIONS, engine
    )
    channel_paths, partner_paths = by["channel"], by["partner"]
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
        start=start,
        end=end,
        journeys=journeys_count,
        conversions=int(totals["conversions"]),
        untouched_conversions=int(totals["conversions"]) - round(attributed),
        value=float(totals["value"]),
        models=results,
    )


@dataclass(frozen=True, slots=True)
class SourceCredit:
    """One model's credit of the conversions of one kind, by source: each partner, and each of
    the brand's own channels (``partner`` None). Value in minor units of ``currency``."""

    currency: str | None
    model: str
    credit: list[tuple[str | None, str | None, float, float]]  # partner, channel, conversions,
    # value


def source_credit(
    db: Database,
    org_id: int,
    *,
    model: str,
    kind: str,
    currency: str | None,
    start: date,
    end: date,
    lookback_days: int = 30,
) -> SourceCredit:
    """Credit the conversions of ``kind`` from ``start`` to ``end`` with ``model`` by who made
    the touches: a partner (all its channels as one), or the brand through one of its own
    channels, so each partner stands beside the organization's other channels."""
    fit = model_function(model_names(model)[0], ModelOptions())
    currency, by, _ = _journeys(
        db, org_id, kind, currency, start, end, lookback_days, (SOURCE,), None
    )
    paths = by[SOURCE]
    if paths is None:
        return SourceCredit(currency, model, [])
    credit: list[tuple[str | None, str | None, float, float]] = []
    for entry in credits(fit(paths), None):
        label: str = entry["name"]
        if label.startswith(PARTNER_PREFIX):
            partner, channel = label.removeprefix(PARTNER_PREFIX), None
        else:
            partner, channel = None, label.removeprefix(OWN_PREFIX)
        credit.append((partner, channel, entry["conversions"], entry["value"]))
    return SourceCredit(currency, model, credit)


def _journeys(
    db: Database,
    org_id: int,
    kind: str,
    currency: str | None,
    start: date | None,
    end: date | None,
    lookback_days: int,
    dimensions: tuple[str, ...],
    engine: Engine | None,
) -> tuple[str | None, dict[str, Paths | None], dict[str, float]]:
    """(the currency, the paths told by each of ``dimensions``, the totals of every conversion
    of ``kind``) of the journeys whose conversions fall from ``start`` to ``end``."""
    with db.reading() as session:
        journeys = JourneyRepository(session)
        if kind == ConversionKind.SALE:
            currency = journeys.sales_currency(org_id, currency)
        events = journeys.events(org_id, kind, currency, *_event_window(start, end, lookback_days))
    with engine_for(db.settings, engine) as runner:
        window = timedelta(days=lookback_days)
        table = ibis.memtable(events)
        by = {d: paths_from_table(runner.to_arrow(journey_paths(table, window, d)))
              for d in dimensions}  # fmt: skip
        totals = runner.to_arrow(conversion_totals(table)).to_pylist()[0]
    return currency, by, totals


def _event_window(
    start: date | None, end: date | None, lookback_days: int
) -> tuple[datetime | None, datetime | None, datetime | None]:
    """(touches since, events until, conversions since) for conversions from ``start`` to
    ``end``."""
    stats.check_days(start, end)
    first = None if start is None else datetime.combine(start, time(), UTC)
    until = None if end is None else datetime.combine(end + timedelta(days=1), time(), UTC)
    since = None if first is None else first - timedelta(days=lookback_days)
    return since, until, first


def paths_from_table(table: pa.Table) -> Paths | None:
    """Paths from the journeys query's rows, None when there are none."""
    if table.num_rows == 0:
        return None
    columns = (table.column(c) for c in ("path", "conversions", "value", "nulls"))
    return Paths.from_arrow(*columns, separator=JOURNEY_SEPARATOR.strip())

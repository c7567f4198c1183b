"""Attribution of aggregated journeys: read a path file, run one model or all of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crosspromo.analytics.attribution import (
    HEURISTICS,
    MODELS,
    Attribution,
    MarkovAttribution,
    Paths,
    heuristic,
    shapley,
)
from crosspromo.analytics.attribution.bootstrap import Interval, bootstrap
from crosspromo.analytics.attribution.heuristics import check_parameters
from crosspromo.analytics.attribution.journeys import DIMENSIONS, conversion_totals, journey_paths
from crosspromo.analytics.attribution.journeys import SEPARATOR as JOURNEY_SEPARATOR
from crosspromo.analytics.attribution.markov import check_order
from crosspromo.domain.conversions import ConversionKind
from crosspromo.engine.backend import Engine, engine_for
from crosspromo.errors import InvalidInputError
from crosspromo.services.shown import WHEN_GIVEN
from crosspromo.services.tabular import is_parquet, read_table
from crosspromo.store.database import Database
from crosspromo.store.repositories import JourneyRepository

PATH_COLUMNS = ("path", "total_conversions", "total_conversion_value", "total_null")
SEPARATOR = ">"


def read_paths(file: Path) -> Paths:
    """Read ``path;total_conversions;total_conversion_value;total_null`` rows (CSV separated by
    ``;`` or ``,``, or Parquet), with paths like ``a > b > c``. Value and nulls may be left out."""
    if not file.is_file():
        raise InvalidInputError(f"no such file: {file}", field="paths")
    table = read_table(file, text=("path",), sniff=True)
    missing = [c for c in PATH_COLUMNS[:2] if c not in table.column_names]
    if missing:
        raise InvalidInputError(
            f"{file.name}: missing column(s) {', '.join(missing)}; "
            f"expected {', '.join(PATH_COLUMNS)}",
            field="paths",
        )
    zeros = pa.array(np.zeros(table.num_rows))
    columns = [table.column(c) if c in table.column_names else zeros for c in PATH_COLUMNS[1:]]
    for name, column in zip(PATH_COLUMNS[1:], columns, strict=True):
        try:
            pc.cast(column, pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise InvalidInputError(f"{file.name}, column {name}: {exc}", column=name) from None
    path = pc.cast(table.column("path"), pa.string())
    first_row = 1 if is_parquet(file) else 2  # CSV: line numbers, the header is line 1
    try:
        return Paths.from_arrow(path, *columns, first_row=first_row, separator=SEPARATOR)
    except InvalidInputError as exc:
        where = "row" if first_row == 1 else "line"
        raise InvalidInputError(
            f"{file.name}, {str(exc).replace('row ', where + ' ', 1)}", **exc.details
        ) from None


@dataclass(frozen=True)
class ModelOptions:
    """Parameters of the models that take any."""

    order: int = 1  # Markov chain order, 1-3
    half_life: float = 2.0  # time decay, in touches
    first_share: float = 0.4  # position based
    last_share: float = 0.4

    def __post_init__(self) -> None:
        check_order(self.order)
        check_parameters(self.half_life, self.first_share, self.last_share)


def model_names(model: str) -> tuple[str, ...]:
    """``all`` or one model's name, checked."""
    if model == "all":
        return MODELS
    if model not in MODELS:
        raise InvalidInputError(
            f"unknown model {model!r}; expected all or one of {', '.join(MODELS)}", field="model"
        )
    return (model,)


def model_function(name: str, options: ModelOptions) -> Callable[[Paths], Attribution]:
    """The named model as a function of the paths."""
    if name in HEURISTICS:
        return lambda paths: heuristic(
            name,
            paths,
            half_life=options.half_life,
            first_share=options.first_share,
            last_share=options.last_share,
        )
    if name == "markov":
        return lambda paths: MarkovAttribution(options.order).fit(paths).attribution()
    return shapley


def attribute(
    paths: Paths, model: str = "all", options: ModelOptions | None = None
) -> list[Attribution]:
    """The named model's attribution, or every model's for ``all``."""
    chosen = options or ModelOptions()
    return [model_function(name, chosen)(paths) for name in model_names(model)]


Interval95 = Annotated[tuple[float, float] | None, WHEN_GIVEN]


@dataclass(frozen=True, slots=True, kw_only=True)
class Credit:
    """Conversions and value (minor units) credited by one model, with 95% bootstrap
    intervals when asked for."""

    conversions: float
    value: float
    conversions_interval: Interval95 = None
    value_interval: Interval95 = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelCredit(Credit):
    channel: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PartnerCredit(Credit):
    partner: str


@dataclass(frozen=True, slots=True)
class ChannelsCredit:
    """One model's credit by channel."""

    model: str
    channels: list[ChannelCredit]


@dataclass(frozen=True, slots=True)
class ModelCredit(ChannelsCredit):
    """One model's credit by channel and by partner ("own": the brand's own touches)."""

    partners: list[PartnerCredit]


def _credits(result: Attribution, interval: Interval | None) -> list[dict[str, Any]]:
    """Each channel's (or partner's) credit in ``result``, with its interval when given."""
    entries = []
    for i, (name, n, v) in enumerate(
        zip(result.channels, result.conversions, result.value, strict=True)
    ):
        entry: dict[str, Any] = {"name": name, "conversions": float(n), "value": float(v)}
        if interval is not None:
            entry["conversions_interval"] = (
                float(interval.conversions_low[i]),
                float(interval.conversions_high[i]),
            )
            entry["value_interval"] = (float(interval.value_low[i]), float(interval.value_high[i]))
        entries.append(entry)
    return entries


def channels_credit(result: Attribution, interval: Interval | None = None) -> ChannelsCredit:
    channels = [ChannelCredit(channel=e.pop("name"), **e) for e in _credits(result, interval)]
    return ChannelsCredit(result.model, channels)


def attribute_file(
    file: Path, model: str = "all", options: ModelOptions | None = None
) -> list[ChannelsCredit]:
    """The named model's (or every model's) credit of the journeys in a path file."""
    return [channels_credit(r) for r in attribute(read_paths(file), model, options)]


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
                for e in _credits(by_partner, interval(partner_paths))
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

"""Attribution of aggregated journeys: read a path file, run one model or all of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

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
from crosspromo.services.tabular import is_parquet
from crosspromo.services.track.conversions import sales_currency
from crosspromo.store.database import Database
from crosspromo.store.repositories import JourneyRepository

PATH_COLUMNS = ("path", "total_conversions", "total_conversion_value", "total_null")
SEPARATOR = ">"


def read_paths(file: Path) -> Paths:
    """Read ``path;total_conversions;total_conversion_value;total_null`` rows (CSV separated by
    ``;`` or ``,``, or Parquet), with paths like ``a > b > c``. Value and nulls may be left out."""
    if not file.is_file():
        raise InvalidInputError(f"no such file: {file}", field="paths")
    table = _read_table(file)
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


@dataclass(frozen=True)
class Credited:
    """One model's credit by channel and by partner, with bootstrap intervals when asked."""

    channels: Attribution
    partners: Attribution
    channel_interval: Interval | None = None
    partner_interval: Interval | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.channels.model,
            "channels": _entries(self.channels, self.channel_interval, "channel"),
            "partners": _entries(self.partners, self.partner_interval, "partner"),
        }


@dataclass(frozen=True)
class TrackedAttribution:
    """Attribution of an organization's own tracked journeys. Values are in minor units of
    ``currency``; conversions with no touch inside the lookback window are ``untouched``."""

    currency: str | None
    kind: str
    lookback_days: int
    journeys: int
    conversions: int
    untouched: int
    value: float
    results: list[Credited]

    def as_dict(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "kind": self.kind,
            "lookback_days": self.lookback_days,
            "journeys": self.journeys,
            "conversions": self.conversions,
            "untouched_conversions": self.untouched,
            "value": self.value,
            "models": [r.as_dict() for r in self.results],
        }


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
) -> TrackedAttribution:
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
            currency = sales_currency(journeys, org_id, currency)
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

            results.append(
                Credited(
                    fit(channel_paths),
                    fit(partner_paths),
                    interval(channel_paths),
                    interval(partner_paths),
                )
            )
    attributed = channel_paths.total_conversions if channel_paths else 0.0
    journeys_count = channel_paths.journeys if channel_paths else 0
    return TrackedAttribution(
        currency=currency,
        kind=str(kind),
        lookback_days=lookback_days,
        journeys=journeys_count,
        conversions=int(totals["conversions"]),
        untouched=int(totals["conversions"]) - round(attributed),
        value=float(totals["value"]),
        results=results,
    )


def paths_from_table(table: pa.Table) -> Paths | None:
    """Paths from the journeys query's rows, None when there are none."""
    if table.num_rows == 0:
        return None
    columns = (table.column(c) for c in ("path", "conversions", "value", "nulls"))
    return Paths.from_arrow(*columns, separator=JOURNEY_SEPARATOR.strip())


def _entries(result: Attribution, interval: Interval | None, label: str) -> list[dict[str, Any]]:
    entries = []
    for i, (name, n, v) in enumerate(
        zip(result.channels, result.conversions, result.value, strict=True)
    ):
        entry: dict[str, Any] = {label: name, "conversions": float(n), "value": float(v)}
        if interval is not None:
            entry["conversions_interval"] = [
                float(interval.conversions_low[i]),
                float(interval.conversions_high[i]),
            ]
            entry["value_interval"] = [float(interval.value_low[i]), float(interval.value_high[i])]
        entries.append(entry)
    return entries


def _read_table(file: Path) -> pa.Table:
    if is_parquet(file):
        import pyarrow.parquet as pq

        try:
            return pq.read_table(file)
        except Exception as exc:
            raise InvalidInputError(f"{file.name} is not a readable Parquet file: {exc}") from None
    with file.open("rb") as handle:
        header = handle.readline()
    delimiter = ";" if header.count(b";") >= header.count(b",") else ","
    try:
        return pa_csv.read_csv(
            file,
            parse_options=pa_csv.ParseOptions(delimiter=delimiter),
            convert_options=pa_csv.ConvertOptions(column_types={"path": pa.string()}),
        )
    except pa.ArrowInvalid as exc:
        raise InvalidInputError(f"{file.name} is not readable CSV: {exc}", field="paths") from None

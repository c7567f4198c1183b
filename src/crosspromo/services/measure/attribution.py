"""Attribution of aggregated journeys: read a path file, run one model or all of them, and
credit channels (the tracked journeys of an organization are ``journeys``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

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
from crosspromo.analytics.attribution.bootstrap import Interval
from crosspromo.analytics.attribution.heuristics import check_parameters
from crosspromo.analytics.attribution.markov import check_order
from crosspromo.domain.text import digits
from crosspromo.errors import InvalidInputError
from crosspromo.services.files.tabular import is_parquet, read_table
from crosspromo.services.results.shown import WHEN_GIVEN

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
    columns = [
        table.column(c) if c in table.column_names else pa.array(np.zeros(table.num_rows))
        for c in PATH_COLUMNS[1:]
    ]
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


MODEL_WORDS = {  # the model's name in words, and what it does in one line
    "first": ("First touch", "all the credit to the first touch of the journey"),
    "last": ("Last touch", "all the credit to the touch just before the purchase"),
    "last_non_direct": ("Last non-direct touch",
                        "all the credit to the last touch that was not a direct visit"),
    "linear": ("Equal shares", "every touch of the journey gets the same share"),
    "time_decay": ("Time decay", "touches nearer the purchase get more: the weight halves "
                                 "every two touches further back"),
    "position": ("First and last", "40% to the first touch, 40% to the last, the rest shared "
                                   "by those in between"),
    "markov": ("Data-driven: removal effect",
               "how many purchases would be lost without a touch, from how journeys move "
               "between touches (first-order Markov chain)"),
    "shapley": ("Data-driven: fair share",
                "each touch's average extra conversions over every combination of the touches "
                "journeys made (Shapley value)"),
}  # fmt: skip


MODEL_QUOTED = "shapley"  # the model pages quote where they give one figure (Attribution: all)


def model_words(model: str) -> tuple[str, str]:
    """A model's name in words and a one-line explanation ("markov_2" → the Markov chain
    model's words, of order 2)."""
    base, _, order = model.partition("_")
    if model in MODEL_WORDS:
        return MODEL_WORDS[model]
    if base == "markov" and digits(order):
        title, line = MODEL_WORDS["markov"]
        return title, line.replace("first-order", f"order-{order}")
    return model, ""


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


def credits(result: Attribution, interval: Interval | None) -> list[dict[str, Any]]:
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
    channels = [ChannelCredit(channel=e.pop("name"), **e) for e in credits(result, interval)]
    return ChannelsCredit(result.model, channels)


def attribute_file(
    file: Path, model: str = "all", options: ModelOptions | None = None
) -> list[ChannelsCredit]:
    """The named model's (or every model's) credit of the journeys in a path file."""
    return [channels_credit(r) for r in attribute(read_paths(file), model, options)]

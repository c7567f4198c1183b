"""Attribution of aggregated journeys: read a path file, run one model or all of them."""

from __future__ import annotations

from pathlib import Path

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
from crosspromo.errors import InvalidInputError

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
    numbers = {}
    for column in PATH_COLUMNS[1:]:
        if column not in table.column_names:
            numbers[column] = [0.0] * table.num_rows
            continue
        try:
            numbers[column] = pc.cast(table.column(column), pa.float64()).to_pylist()
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise InvalidInputError(f"{file.name}, column {column}: {exc}", column=column) from None
    rows = []
    for number, (path, *counts) in enumerate(
        zip(table.column("path").to_pylist(), *numbers.values(), strict=True), start=2
    ):
        if any(c is None for c in counts) or not path:
            raise InvalidInputError(f"{file.name}, row {number}: an empty cell", row=number)
        touches = [t.strip() for t in str(path).split(SEPARATOR)]
        if "" in touches:
            raise InvalidInputError(
                f"{file.name}, row {number}: an empty channel in {path!r}", row=number
            )
        rows.append((touches, *counts))
    return Paths.from_rows(rows)


def attribute(
    paths: Paths,
    model: str = "all",
    *,
    order: int = 1,
    half_life: float = 2.0,
    first_share: float = 0.4,
    last_share: float = 0.4,
) -> list[Attribution]:
    """The named model's attribution, or every model's for ``all``."""
    if model != "all" and model not in MODELS:
        raise InvalidInputError(
            f"unknown model {model!r}; expected all or one of {', '.join(MODELS)}", field="model"
        )
    results = []
    for name in MODELS if model == "all" else (model,):
        if name in HEURISTICS:
            results.append(
                heuristic(
                    name,
                    paths,
                    half_life=half_life,
                    first_share=first_share,
                    last_share=last_share,
                )
            )
        elif name == "markov":
            results.append(MarkovAttribution(order).fit(paths).attribution())
        else:
            results.append(shapley(paths))
    return results


def _read_table(file: Path) -> pa.Table:
    if file.suffix.lower() in (".parquet", ".pq"):
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

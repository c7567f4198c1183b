"""The same journeys give the same paths, and so the same attribution, on DuckDB and Spark."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import ibis
import numpy as np
import pyarrow as pa
import pytest

from crosspromo.analytics.attribution.journeys import conversion_totals, journey_paths
from crosspromo.engine.backend import Engine
from crosspromo.services.measure.attribution import attribute
from crosspromo.services.measure.journeys import paths_from_table as paths_of


def random_events(seed: int, customers: int = 300) -> pa.Table:
    """Touches on a coarse clock (so equal times happen), conversions among them."""
    random = np.random.default_rng(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for c in range(customers):
        for _ in range(random.integers(1, 12)):
            moment = start + timedelta(hours=int(random.integers(0, 24 * 90)) // 6 * 6)
            if random.random() < 0.2:
                rows.append((f"c{c}", moment, None, None, True, float(random.integers(1, 500))))
            else:
                channel = str(random.choice(["email", "social", "search", "display", "video"]))
                partner = random.choice([None, "acme", "beta"])
                rows.append((f"c{c}", moment, channel, partner, False, 0.0))
    names = ["customer", "at", "channel", "partner", "converted", "value"]
    columns = list(zip(*rows, strict=True))
    types = [pa.string(), pa.timestamp("us", tz="UTC"), pa.string(), pa.string(), pa.bool_()]
    return pa.table(
        [pa.array(col, t) for col, t in zip(columns, [*types, pa.float64()], strict=True)],
        names=names,
    )


@pytest.mark.parametrize("by", ["channel", "partner"])
def test_duckdb_and_spark_agree(spark_engine: Engine, by: str) -> None:
    events = random_events(7)
    duck = Engine.duckdb()
    try:
        results = {}
        for name, engine in (("duckdb", duck), ("spark", spark_engine)):
            table = ibis.memtable(events)
            rows = engine.to_arrow(journey_paths(table, timedelta(days=14), by)).to_pylist()
            totals = engine.to_arrow(conversion_totals(table)).to_pylist()
            results[name] = (rows, totals)
    finally:
        duck.close()
    assert results["duckdb"] == results["spark"]
    rows, _ = results["duckdb"]
    assert len(rows) > 20  # a real mix of paths, nulls and conversions
    assert sum(r["conversions"] for r in rows) > 0
    assert sum(r["nulls"] for r in rows) > 0
    duck_paths, spark_paths = (paths_of(pa.Table.from_pylist(r[0])) for r in results.values())
    assert duck_paths is not None
    assert spark_paths is not None
    for one, other in zip(attribute(duck_paths), attribute(spark_paths), strict=True):
        assert one.channels == other.channels
        np.testing.assert_array_equal(one.conversions, other.conversions)

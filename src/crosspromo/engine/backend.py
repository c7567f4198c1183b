"""Runs Ibis expressions: DuckDB in process by default, Spark with ``CROSSPROMO_ENGINE=spark``.

Analytics build expressions over ``ibis.memtable`` inputs (or tables already in the backend);
an Engine executes them and hands back Arrow. Nothing else in crosspromo executes an expression.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import ibis
import pyarrow as pa

from crosspromo.config import Settings
from crosspromo.engine.optional import require
from crosspromo.errors import ConfigError

_duckdb: Any = None  # the process's in-memory DuckDB; each Engine works on a cursor of it


class Engine:
    """One Ibis backend connection; ``to_arrow`` runs an expression on it."""

    def __init__(self, backend: Any, name: str) -> None:
        self.backend, self.name = backend, name

    @classmethod
    def duckdb(cls) -> Engine:
        """A connection of its own (a cursor: safe to use beside others on other threads) to
        the process's in-memory DuckDB, which is opened once. ibis 12 writes list lambdas as
        ``x -> f(x)``, which DuckDB 2 only accepts with the single-arrow syntax switched on."""
        global _duckdb
        if _duckdb is None:
            import duckdb

            _duckdb = duckdb.connect()
        backend = ibis.duckdb.from_connection(_duckdb.cursor())
        backend.raw_sql("SET lambda_syntax = 'ENABLE_SINGLE_ARROW'")
        return cls(backend, "duckdb")

    @classmethod
    def spark(cls, master: str = "local[2]") -> Engine:
        """A Spark session (shared: Spark allows one per process) through ibis's pyspark backend."""
        require("pyspark", "spark")
        from crosspromo.engine.spark import spark_session

        return cls(ibis.pyspark.connect(spark_session(master)), "spark")

    def read_file(self, path: str) -> ibis.Table:
        """A CSV or Parquet file as a table the backend scans itself (nothing is loaded here)."""
        if path.lower().endswith((".parquet", ".pq")):
            return self.backend.read_parquet(path)
        return self.backend.read_csv(path)

    def to_arrow(self, expression: ibis.Table) -> pa.Table:
        table: pa.Table = self.backend.to_pyarrow(expression)
        return table

    def close(self) -> None:
        if self.name == "duckdb":  # a Spark session outlives one use; it is shared
            self.backend.disconnect()


def connect(settings: Settings) -> Engine:
    if settings.engine == "duckdb":
        return Engine.duckdb()
    if settings.engine == "spark":
        return Engine.spark(settings.spark_master)
    raise ConfigError(
        f"unknown engine {settings.engine!r}; use duckdb or spark"
    )  # pragma: no cover


@contextmanager
def engine_for(settings: Settings, engine: Engine | None = None) -> Iterator[Engine]:
    """``engine`` when a caller shares one (left open), else a new one closed afterwards."""
    if engine is not None:
        yield engine
        return
    runner = connect(settings)
    try:
        yield runner
    finally:
        runner.close()

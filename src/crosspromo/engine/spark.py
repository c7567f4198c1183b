"""A local or cluster Spark session for the `spark` extra."""

from __future__ import annotations

import tempfile
from typing import Any

from crosspromo.engine.optional import require


def spark_session(master: str = "local[2]", app_name: str = "crosspromo") -> Any:
    """Get or create a SparkSession. The warehouse goes to a fresh temporary folder, so reruns
    never trip over tables left by an earlier run."""
    sql = require("pyspark.sql", "spark")
    warehouse = tempfile.mkdtemp(prefix="crosspromo-spark-")
    return (
        sql.SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.sql.warehouse.dir", warehouse)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )

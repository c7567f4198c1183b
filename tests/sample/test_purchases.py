"""Purchases drawn from known BG/NBD and Gamma-Gamma parameters per acquisition source: the
CLV service, from the raw log, recovers each source's parameters and ranks their values."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from crosspromo.config import Settings
from crosspromo.sample.purchases import Truth, transaction_log
from crosspromo.services import clv

TRUTHS = {
    "organic": Truth(0.8, 5.0, 0.9, 3.0, p=6.0, q=4.0, v=15.0),
    "partner": Truth(1.2, 5.0, 0.7, 3.5, p=6.0, q=4.0, v=20.0),
    "paid": Truth(0.6, 5.0, 1.2, 2.0, p=6.0, q=4.0, v=12.0),
}


@pytest.mark.parametrize("seed", [1, 2])
def test_each_sources_parameters_are_recovered(tmp_path: Path, seed: int) -> None:
    sizes = dict.fromkeys(TRUTHS, 15_000)
    log = transaction_log(TRUTHS, sizes, date(2025, 1, 1), 78, np.random.default_rng(seed))
    path = tmp_path / "log.parquet"
    pq.write_table(log, path)
    columns = clv.TransactionColumns("customer", "date", "amount", "source")
    summary = clv.summarize_file(Settings(), path, columns, period="week")
    fitted = clv.fit(summary, "week", by_source=True).as_dict()
    assert fitted["customers"] == 45_000
    for source, truth in TRUTHS.items():
        found = fitted["by_source"][source]
        assert found["customers"] == 15_000
        for name in ("r", "alpha", "a", "b"):
            assert found["bgnbd"][name] == pytest.approx(getattr(truth, name), rel=0.12), name
        for name in ("p", "q", "v"):
            assert found["gamma_gamma"][name] == pytest.approx(getattr(truth, name), rel=0.15)
    value = {s: fitted["by_source"][s]["value"] for s in TRUTHS}
    assert value["partner"]["lower"] > value["organic"]["upper"]
    assert value["organic"]["lower"] > value["paid"]["upper"]

"""Purchases drawn from known BG/NBD and Gamma-Gamma parameters per acquisition source: the
CLV service, from the raw log, recovers each source's parameters and ranks their values."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from crosspromo.cli.output import jsonable
from crosspromo.config import Settings
from crosspromo.sample.purchases import Truth, transaction_log
from crosspromo.services.accounts.organizations import get_organization
from crosspromo.services.admin.database import open_database, upgrade_database
from crosspromo.services.measure import clv
from crosspromo.services.sample.build import build_sample

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
    fitted = jsonable(clv.fit(summary, "week", by_source=True).report())
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


def test_the_stored_sample_gives_back_its_truth(sqlite_settings: Settings) -> None:
    """The sample's brand with purchases: from its stored sales, each acquisition source's
    parameters come back (2,000 to 4,000 customers a source, so within sampling error) and the
    sources' values rank as their truths do."""
    upgrade_database(sqlite_settings)
    db = open_database(sqlite_settings)
    try:
        truth = build_sample(db, seed=42, scale=100).truth["purchases"]
        org = get_organization(db, truth["brand"])
        # the brand's journeys and experiment add sales from October 2026: calibrate before
        until = truth["only_purchases_until"]
        fitted = jsonable(clv.organization_clv(db, org.id, calibration_end=until).report())
    finally:
        db.dispose()
    assert set(fitted["by_source"]) == set(truth["sources"])
    for source, expected in truth["sources"].items():
        found = fitted["by_source"][source]
        for name in ("r", "alpha", "a", "b"):
            assert found["bgnbd"][name] == pytest.approx(expected[name], rel=0.2), (source, name)
        for name in ("p", "q", "v"):
            assert found["gamma_gamma"][name] == pytest.approx(expected[name], rel=0.2)
    ranked = sorted(fitted["by_source"], key=lambda s: fitted["by_source"][s]["value"]["mean"])
    true_value = {  # expected purchases times expected spend, as a ranking key
        s: t["r"] / t["alpha"] * (t["b"] / (t["a"] + t["b"])) * t["p"] * t["v"] / (t["q"] - 1)
        for s, t in truth["sources"].items()
    }
    assert ranked == sorted(true_value, key=true_value.__getitem__)

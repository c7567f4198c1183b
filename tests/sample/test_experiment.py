"""The sample's three-arm experiment: the analysis recovers the true effects within its
intervals, and decides as the truth says it should."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from crosspromo.config import Settings
from crosspromo.sample.experiment import TRUE_CONVERSION, generate_experiment
from crosspromo.services.measure.analysis import analyze_file, parse_metric, with_covariates

UNITS = [f"customer-{i}" for i in range(120_000)]


@pytest.mark.parametrize("seed", [42, 43])
def test_analysis_recovers_the_true_effects(tmp_path: Path, seed: int) -> None:
    experiment = generate_experiment(seed, UNITS)
    file = tmp_path / "units.parquet"
    pq.write_table(experiment.units, file)
    metrics = with_covariates(
        [
            parse_metric("converted:binary"),
            parse_metric("revenue:mean"),
            parse_metric("unsubscribed:binary", guardrail=True),
        ],
        ["revenue=pre_revenue"],
    )
    report = analyze_file(Settings(), file, "arm", "control", metrics)
    truth = experiment.true_means()
    assert report.srm_p_value is not None
    assert report.srm_p_value > 0.001
    for arm in report.arms[1:]:
        for name, result in arm.metrics.items():
            c = result.comparison
            assert c is not None
            assert c.ci_abs is not None
            true_lift = truth[arm.arm][name] - truth["control"][name]
            assert c.ci_abs[0] <= true_lift <= c.ci_abs[1], (arm.arm, name, c.ci_abs, true_lift)
    partner = next(a for a in report.arms if a.arm == "partner")
    lift = partner.metrics["converted"].comparison
    assert lift is not None
    assert lift.lift_rel == pytest.approx(TRUE_CONVERSION["partner"] / 0.04 - 1, abs=0.12)
    # partner-sent offers convert best and do not raise unsubscribes: ship them
    assert (report.decision.action, report.decision.arm) == ("ship", "partner")

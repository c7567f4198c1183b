"""Uplift models find the customers a partner offer moves, and the Qini curve says how well."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from scipy.stats import spearmanr

from crosspromo.analytics.experiments.uplift import LEARNERS, TLearner, curves
from tests.cli.test_cli import cli_here


def test_qini_curve_by_hand() -> None:
    result = curves(np.array([3.0, 2, 1, 0]), np.array([1, 0, 1, 0]), np.array([1.0, 0, 0, 1]))
    # cut 1: one treated success; 2: + a control failure; 3: + a treated failure;
    # 4: + a control success, scaled by 2 treated / 2 control; a control rate of an empty
    # control side counts as 0
    assert result.qini.tolist() == [1.0, 1.0, 1.0, 0.0]
    assert result.uplift.tolist() == [1.0, 2.0, 1.5, 0.0]  # (treated rate - control rate) x k
    assert result.qini_coefficient == pytest.approx((1 + 1 + 1 + 0) / 16)


def heterogeneous(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Half the customers respond to the offer (+12 points), the other half are put off (-3)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, 5))
    effect = np.where(x[:, 0] > 0, 0.12, -0.03) * (1 + 0.5 * x[:, 1])
    treated = rng.random(n) < 0.5
    base = 0.10 + 0.05 * x[:, 2]
    y = (rng.random(n) < base + treated * effect).astype(float)
    return x, treated, y, effect


@pytest.mark.parametrize("name", ["t", "x"])
def test_learners_rank_customers_by_their_true_uplift(name: str) -> None:
    x, treated, y, _ = heterogeneous(30_000, 1)
    model = LEARNERS[name](True).fit(x, treated, y)
    x_new, treated_new, y_new, effect_new = heterogeneous(20_000, 2)
    predicted = model.predict(x_new)
    assert spearmanr(predicted, effect_new).statistic > 0.6
    learned = curves(predicted, treated_new, y_new)
    oracle = curves(effect_new, treated_new, y_new)
    shuffled = curves(np.random.default_rng(3).random(20_000), treated_new, y_new)
    assert learned.qini_coefficient > 0.5 * oracle.qini_coefficient > 0
    assert abs(shuffled.qini_coefficient) < 0.2 * oracle.qini_coefficient
    overall = y_new[treated_new].mean() - y_new[~treated_new].mean()
    assert learned.top_share_uplift(0.3) > 2 * overall
    assert learned.auuc > 0


def test_uplift_needs_both_arms() -> None:
    x, _, y, _ = heterogeneous(100, 4)
    with pytest.raises(ValueError, match="both the treated and the control"):
        TLearner().fit(x, np.ones(100, bool), y)
    with pytest.raises(ValueError, match="fit the model first"):
        TLearner().predict(x)


def test_uplift_command_scores_a_file(tmp_path: Path) -> None:
    x, treated, y, _ = heterogeneous(8_000, 5)
    file = tmp_path / "units.parquet"
    columns = {f"f{i}": x[:, i] for i in range(5)}
    arm = np.where(treated, "partner", "control")
    pq.write_table(pa.table({"arm": arm, "converted": y, **columns}), file)
    out = tmp_path / "scores.csv"
    args = ["--arm-column", "arm", "--control", "control", "--treatment", "partner"]
    features = [a for i in range(5) for a in ("--feature", f"f{i}")]
    done = cli_here("experiment", "uplift", str(file), *args, "--outcome", "converted", *features,
               "--out", str(out), "--format", "json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["qini_coefficient"] > 0
    assert result["top_decile_uplift"] > result["overall_uplift"]
    scores = pa_csv.read_csv(out)
    assert scores.num_rows == 8_000
    assert "uplift" in scores.column_names
    bad = cli_here("experiment", "uplift", str(file), *args, "--outcome", "converted",
              "--feature", "nope")  # fmt: skip
    assert bad.returncode != 0
    assert "no column(s) nope" in bad.stderr

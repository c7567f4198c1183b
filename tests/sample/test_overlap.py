"""The overlap protocol on the sample ecosystem, whose true overlaps are known: exact on
every pair, consent and segments on the largest, the sketch within its bound."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pyarrow as pa

from crosspromo.analytics.overlap import Audience, normalize, run_exact, run_sketch
from crosspromo.sample.catalog import SEGMENTS
from crosspromo.sample.ecosystem import generate
from crosspromo.services.sample.partners import consented


def test_every_pair_gets_its_true_overlap_exactly():
    eco = generate(seed=9, scale=5)
    truth = {(o["a"], o["b"]): o for o in eco.truth()["overlaps"]}
    for a, b in combinations(sorted(eco.audiences), 2):
        left = normalize(eco.audiences[a].external_ids()).values.to_pylist()
        right = normalize(eco.audiences[b].external_ids()).values.to_pylist()
        result = run_exact(Audience(left), Audience(right), workers=1)
        assert result.intersection == truth[(a, b)]["intersection"], (a, b)
        assert round(result.overlap_rate_a, 6) == truth[(a, b)]["overlap_rate_a"]


def test_consent_and_segments_on_the_largest_overlap():
    eco = generate(seed=42, scale=100)
    truth = max(eco.truth()["overlaps"], key=lambda o: o["intersection"])
    a, b = eco.audiences[truth["a"]], eco.audiences[truth["b"]]
    result = run_exact(consented(eco, truth["a"]), consented(eco, truth["b"]))
    assert result.intersection == truth["intersection_consented"]
    assert result.size_a == int(a.partner_sharing.sum())
    _shared, ia, ib = np.intersect1d(a.people, b.people, return_indices=True)
    both = a.partner_sharing[ia] & b.partner_sharing[ib]
    for row in result.segments:
        sa, sb = SEGMENTS.index(row.a_segment), SEGMENTS.index(row.b_segment)
        expected = int((both & (a.segments[ia] == sa) & (b.segments[ib] == sb)).sum())
        assert row.intersection == expected, (row.a_segment, row.b_segment)


def test_the_sketch_lands_within_its_bound_on_the_sample():
    eco = generate(seed=42, scale=100)
    truth = max(eco.truth()["overlaps"], key=lambda o: o["intersection"])
    lists = [
        normalize(eco.audiences[slug].external_ids(), distinct=False).values
        for slug in (truth["a"], truth["b"])
    ]
    result = run_sketch(pa.array(lists[0]), pa.array(lists[1]), rate=0.25)
    sizes = (len(eco.audiences[truth["a"]].people), len(eco.audiences[truth["b"]].people))
    assert (result.size_a, result.size_b) == sizes  # distinct people, repeats counted once
    assert result.error_bound is not None
    assert abs(result.intersection - truth["intersection"]) <= result.error_bound
    assert result.error_bound < 0.15 * truth["intersection"]

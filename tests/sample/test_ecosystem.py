"""The sample ecosystem is deterministic by seed and its recorded truth is exact."""

from __future__ import annotations

import pytest

from crosspromo.domain import PartnershipStatus
from crosspromo.errors import InvalidInputError
from crosspromo.sample import generate
from crosspromo.sample.ecosystem import person_email
from crosspromo.security import normalize_external_id


def test_same_seed_same_ecosystem() -> None:
    assert generate(7, 10).truth() == generate(7, 10).truth()
    assert generate(7, 10).truth() != generate(8, 10).truth()


def test_full_scale_shape() -> None:
    eco = generate(42, 100)
    assert len(eco.organizations) == 12
    assert 50_000 <= eco.customer_count <= 100_000
    assert {s for *_, s in eco.partnerships} == set(PartnershipStatus)


def test_truth_overlaps_equal_brute_force_sets() -> None:
    eco = generate(3, 20)
    truth = eco.truth()
    members = {
        slug: {normalize_external_id(x) for x in a.external_ids()}
        for slug, a in eco.audiences.items()
    }
    consented = {
        slug: {
            normalize_external_id(x)
            for x, ok in zip(a.external_ids(), a.partner_sharing, strict=True)
            if ok
        }
        for slug, a in eco.audiences.items()
    }
    assert len(truth["overlaps"]) == 12 * 11 // 2
    for pair in truth["overlaps"]:
        a, b = pair["a"], pair["b"]
        assert pair["intersection"] == len(members[a] & members[b])
        assert pair["intersection_consented"] == len(consented[a] & consented[b])
    for slug, info in truth["organizations"].items():
        assert info["customers"] == len(members[slug])
        assert sum(info["segments"].values()) == info["customers"]


def test_overlap_follows_design() -> None:
    """Competitors share the most customers, complements share more than unrelated pairs."""
    overlaps = {
        (o["a"], o["b"]): o["overlap_rate_a"] for o in generate(42, 100).truth()["overlaps"]
    }
    competitors = overlaps[("alpine-gear-co", "trailhead-outfitters")]
    complement = overlaps[("nomad-insurance", "wanderlust-travel")]
    unrelated = overlaps[("bloom-yoga", "nomad-insurance")]
    assert competitors > complement > 3 * unrelated


def test_external_ids_carry_realistic_noise() -> None:
    ids = generate(1, 10).audiences["summit-coffee"].external_ids()
    noisy = [x for x in ids if x != x.strip().lower()]
    assert 0 < len(noisy) < len(ids) / 4
    assert normalize_external_id(noisy[0]).startswith("person.")
    assert person_email(12) == "person.0000012@example.com"


@pytest.mark.parametrize(("seed", "scale"), [(1, 0), (1, 1001), (-1, 10)])
def test_bad_parameters_are_named(seed: int, scale: int) -> None:
    with pytest.raises(InvalidInputError, match=r"scale|seed"):
        generate(seed, scale)


def test_partnership_dates_are_fixed_by_seed() -> None:
    eco = generate(42, 5)
    assert eco.partnership_dates == generate(42, 5).partnership_dates
    for (*_, status), (started, changed) in zip(
        eco.partnerships, eco.partnership_dates, strict=True
    ):
        assert started.year in (2025, 2026)
        assert (changed == started) == (status is PartnershipStatus.PROSPECT)

"""The strategy recommender: the published comparison as data, scores from goal, time, budget
and the partner's fit, the reasons in words, and bad input named."""

from __future__ import annotations

import pytest

from crosspromo.domain.strategies import PROFILES, Level, Strategy
from crosspromo.errors import InvalidInputError
from crosspromo.services.plan.strategies import PartnerFit, recommend


def test_the_published_comparison_is_the_data() -> None:
    bundle, event = PROFILES[Strategy.BUNDLE], PROFILES[Strategy.EVENT]
    assert (bundle.complexity, bundle.cost, bundle.weeks_to_results) == (
        Level.HIGH, Level.MEDIUM, (1, 2),
    )  # fmt: skip
    assert (event.reach, event.depth, event.weeks_to_results) == (Level.HIGH, Level.HIGH, (6, 12))
    assert {p.strategy for p in PROFILES.values() if p.assessed} == {
        Strategy.CROSS_PLATFORM, Strategy.SYNDICATION, Strategy.CO_SELLING,
    }  # fmt: skip
    assert all(p.steps and p.channels and p.metrics for p in PROFILES.values())


def order(found: object) -> list[str]:
    return [r.strategy for r in found.strategies]  # type: ignore[attr-defined]


def test_time_and_budget_change_the_ranking() -> None:
    quick = recommend("leads", 20_000, "EUR", 2)
    assert order(quick)[0] == "email_swap"
    event = next(r for r in quick.strategies if r.strategy == "co_hosted_event")
    assert "results usually take 6-12 weeks, longer than your 2 weeks" in event.reasons
    assert any("usually needs EUR 10,000 or more; EUR 200 is short" in r for r in event.reasons)
    patient = recommend("leads", 2_000_000, "EUR", 16)
    rank = order(patient)
    assert rank.index("co_hosted_event") < order(quick).index("co_hosted_event")
    assert next(r for r in patient.strategies if r.strategy == "co_hosted_event").score > 0.9


def test_the_partners_fit_moves_joint_offers_and_reach() -> None:
    plain = recommend("sales", 500_000, "EUR", 8)
    complement = recommend("sales", 500_000, "EUR", 8, PartnerFit("beans", 0.9, 0.6, False))
    assert order(complement)[0] == "bundle"
    reason = next(r for r in complement.strategies if r.strategy == "bundle").reasons
    assert any("yours and beans's complement each other (0.90)" in r for r in reason)
    strangers = recommend("leads", 500_000, "EUR", 8, PartnerFit("beans", 0.1, 0.02, False))
    swap = next(r for r in strangers.strategies if r.strategy == "email_swap")
    assert any("2% of yours are already theirs" in r for r in swap.reasons)
    rival = recommend("sales", 500_000, "EUR", 8, PartnerFit("brew", 0.0, 0.5, True))
    assert max(r.score for r in rival.strategies) < max(r.score for r in plain.strategies)
    assert all(any("competitor" in x for x in r.reasons) for r in rival.strategies)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("fame", 100, "EUR", 4), "goal 'fame'"),
        (("leads", 100, "JPY", 4), "not JPY"),
        (("leads", -1, "EUR", 4), "budget_minor"),
        (("leads", 100, "EUR", 0), "weeks must be 1-520"),
    ],
)
def test_bad_input_is_named(args: tuple, field: str) -> None:
    with pytest.raises(InvalidInputError, match=field):
        recommend(*args)

"""Customer journeys of one sample brand, with known channel effects.

Each customer of the brand meets a few touches, drawn from five channels with given shares:
two of them are made by the brand's active partners (partner newsletter, partner social), three
are the brand's own (search, brand email, display). A journey converts with probability
``1 - prod(1 - lift[c])`` over the distinct channels it touched, so each channel's true effect is
known. The ground truth of a channel (or partner) is the expected number of sales lost if its
touches were taken out of every journey: the causal counterpart of the Markov removal effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

import numpy as np

from crosspromo.sample.tracking import SAMPLE_TODAY

JOURNEY_DAYS = 45


@dataclass(frozen=True, slots=True)
class JourneyChannel:
    name: str
    share: float  # of all touches
    lift: float  # chance this channel alone converts a customer
    by_partner: bool


CHANNELS = (
    JourneyChannel("partner newsletter", 0.2, 0.30, by_partner=True),
    JourneyChannel("search", 0.2, 0.15, by_partner=False),
    JourneyChannel("partner social", 0.2, 0.08, by_partner=True),
    JourneyChannel("brand email", 0.2, 0.04, by_partner=False),
    JourneyChannel("display", 0.2, 0.0, by_partner=False),
)


@dataclass(frozen=True, slots=True)
class SampleTouch:
    customer: str
    at: datetime
    channel: str
    partner: str | None


@dataclass(frozen=True, slots=True)
class SampleSale:
    customer: str
    at: datetime
    amount_minor: int


@dataclass(frozen=True)
class SampleJourneys:
    brand: str
    partners: tuple[str, ...]
    touches: list[SampleTouch]
    sales: list[SampleSale]
    true_channel_effect: dict[str, float]
    true_partner_effect: dict[str, float]

    def truth(self) -> dict[str, Any]:
        return {
            "brand": self.brand,
            "customers": len({t.customer for t in self.touches}),
            "touches": len(self.touches),
            "sales": len(self.sales),
            "channels": {c.name: {"share": c.share, "lift": c.lift} for c in CHANNELS},
            "true_channel_effect": self.true_channel_effect,
            "true_partner_effect": self.true_partner_effect,
        }


def generate_journeys(
    seed: int, brand: str, partners: tuple[str, ...], customers: list[str]
) -> SampleJourneys:
    """Journeys for ``customers`` (external ids), touched by ``partners`` and the brand."""
    if not partners:
        raise ValueError("journeys need at least one partner")
    rng = np.random.default_rng([seed, 5])  # its own stream: the rest of the sample stays put
    shares = np.array([c.share for c in CHANNELS])
    lifts = np.array([c.lift for c in CHANNELS])
    end = datetime.combine(SAMPLE_TODAY, time(), UTC)
    touches: list[SampleTouch] = []
    sales: list[SampleSale] = []
    channel_effect = np.zeros(len(CHANNELS))
    partner_effect = dict.fromkeys(partners, 0.0)
    for customer in customers:
        count = 1 + int(rng.poisson(1.5))
        picked = rng.choice(len(CHANNELS), size=count, p=shares)
        by = [
            str(rng.choice(partners)) if CHANNELS[c].by_partner else None for c in picked.tolist()
        ]
        at = end - timedelta(days=float(rng.uniform(5, JOURNEY_DAYS)))
        for channel, partner in zip(picked.tolist(), by, strict=True):
            touches.append(SampleTouch(customer, at, CHANNELS[channel].name, partner))
            at += timedelta(hours=float(rng.exponential(36)))
        channels = picked.tolist()
        everything = _chance(lifts, channels, [True] * count)
        for c in set(channels):
            channel_effect[c] += everything - _chance(lifts, channels, [p != c for p in channels])
        for partner in set(by) - {None}:
            without = [b != partner for b in by]
            partner_effect[str(partner)] += everything - _chance(lifts, channels, without)
        if rng.random() < everything:
            amount = int(rng.lognormal(np.log(6000), 0.4))
            sales.append(
                SampleSale(customer, at + timedelta(hours=float(rng.uniform(1, 48))), amount)
            )
    return SampleJourneys(
        brand,
        partners,
        touches,
        sales,
        {c.name: float(e) for c, e in zip(CHANNELS, channel_effect, strict=True)},
        partner_effect,
    )


def _chance(lifts: np.ndarray[Any, Any], channels: list[int], keep: list[bool]) -> float:
    """The chance a journey converts with only the kept touches."""
    touched = {c for c, k in zip(channels, keep, strict=True) if k}
    return 1 - float(np.prod([1 - lifts[c] for c in touched]))

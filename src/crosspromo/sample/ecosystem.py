"""Generate a partner ecosystem whose audience overlaps are designed and known exactly.

People in a shared population carry interest profiles (Dirichlet draws); each organization
draws its customers with probability rising with how well a person's interests match its own
(a softmax-style weighting), so complementary organizations share more customers than
unrelated ones and competitors share the most. The same seed always gives the same ecosystem.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import combinations
from typing import Any

import numpy as np
import numpy.typing as npt

from crosspromo.domain import OrgKind, PartnershipStatus
from crosspromo.errors import InvalidInputError
from crosspromo.sample.catalog import (
    INTERESTS,
    ORGANIZATIONS,
    PARTNERSHIPS,
    SEGMENT_WEIGHTS,
    SEGMENTS,
)

MAX_SCALE = 1000
SAMPLE_EPOCH = datetime(2025, 1, 6, tzinfo=UTC)
_AFFINITY_SHARPNESS = 2.5
_EMAIL_CASE_NOISE = 0.1

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class OrgSpec:
    slug: str
    name: str
    kind: OrgKind
    category: str
    interests: dict[str, float]


@dataclass(frozen=True, slots=True)
class Audience:
    """One organization's customers: person indices, consents and segment per customer."""

    people: IntArray
    partner_sharing: BoolArray
    promotional_email: BoolArray
    segments: IntArray
    noisy_case: BoolArray

    def external_ids(self) -> list[str]:
        """External ids as this organization's systems record them (some e-mails in mixed
        case with stray spaces, as real exports have)."""
        return [
            f" Person.{p:07d}@Example.COM " if noisy else person_email(int(p))
            for p, noisy in zip(self.people, self.noisy_case, strict=True)
        ]


@dataclass(frozen=True, slots=True)
class Ecosystem:
    seed: int
    scale: int
    population: int
    organizations: tuple[OrgSpec, ...]
    audiences: dict[str, Audience]
    partnerships: tuple[tuple[str, str, str, PartnershipStatus], ...]
    # (started, last status change) of each partnership, in the order of ``partnerships``.
    partnership_dates: tuple[tuple[datetime, datetime], ...]

    @property
    def customer_count(self) -> int:
        return sum(len(a.people) for a in self.audiences.values())

    def truth(self) -> dict[str, Any]:
        """Ground truth for later analyses: exact audience sizes and pairwise overlaps."""
        orgs = {
            slug: {
                "customers": len(a.people),
                "partner_sharing": int(a.partner_sharing.sum()),
                "promotional_email": int(a.promotional_email.sum()),
                "segments": {name: int((a.segments == i).sum()) for i, name in enumerate(SEGMENTS)},
            }
            for slug, a in self.audiences.items()
        }
        overlaps = []
        for left, right in combinations(sorted(self.audiences), 2):
            a, b = self.audiences[left], self.audiences[right]
            shared, ia, ib = np.intersect1d(
                a.people, b.people, assume_unique=True, return_indices=True
            )
            both_consent = a.partner_sharing[ia] & b.partner_sharing[ib]
            overlaps.append(
                {
                    "a": left,
                    "b": right,
                    "intersection": len(shared),
                    "intersection_consented": int(both_consent.sum()),
                    "overlap_rate_a": round(len(shared) / max(len(a.people), 1), 6),
                    "overlap_rate_b": round(len(shared) / max(len(b.people), 1), 6),
                }
            )
        return {
            "seed": self.seed,
            "scale": self.scale,
            "population": self.population,
            "organizations": orgs,
            "overlaps": overlaps,
            "partnerships": [
                {
                    "initiator": i,
                    "partner": p,
                    "name": n,
                    "status": str(s),
                    "started": started.isoformat(),
                    "changed": changed.isoformat(),
                }
                for (i, p, n, s), (started, changed) in zip(
                    self.partnerships, self.partnership_dates, strict=True
                )
            ],
        }


def person_email(person: int) -> str:
    """The canonical identifier of person ``person`` in the sample population."""
    return f"person.{person:07d}@example.com"


def generate(seed: int = 42, scale: int = 100) -> Ecosystem:
    """Build the sample ecosystem for ``seed``; ``scale`` is a percentage of the full size
    (100 gives about 70,000 customers across 12 organizations over a 60,000-person population).
    """
    if not 1 <= scale <= MAX_SCALE:
        raise InvalidInputError(f"scale must be between 1 and {MAX_SCALE}, got {scale}")
    if seed < 0:
        raise InvalidInputError(f"seed must be zero or positive, got {seed}")
    rng = np.random.default_rng(seed)
    population = max(200, 600 * scale)
    interests = rng.dirichlet(np.full(len(INTERESTS), 0.6), size=population)
    specs = []
    audiences = {}
    for slug, name, kind, category, size, weights, share_rate, email_rate in ORGANIZATIONS:
        spec = OrgSpec(slug, name, kind, category, dict(weights))
        specs.append(spec)
        target = max(20, size * scale // 100)
        audiences[slug] = _draw_audience(rng, interests, spec, target, share_rate, email_rate)
    return Ecosystem(
        seed, scale, population, tuple(specs), audiences, PARTNERSHIPS, _dates(rng, PARTNERSHIPS)
    )


def _dates(
    rng: np.random.Generator, partnerships: tuple[tuple[str, str, str, PartnershipStatus], ...]
) -> tuple[tuple[datetime, datetime], ...]:
    """Start dates within 18 months of the sample epoch; a later last change unless prospect."""
    dates = []
    for *_, status in partnerships:
        started = SAMPLE_EPOCH + timedelta(days=int(rng.integers(0, 540)))
        moved = 0 if status is PartnershipStatus.PROSPECT else int(rng.integers(14, 180))
        dates.append((started, started + timedelta(days=moved)))
    return tuple(dates)


def _draw_audience(
    rng: np.random.Generator,
    interests: npt.NDArray[np.float64],
    spec: OrgSpec,
    target: int,
    share_rate: float,
    email_rate: float,
) -> Audience:
    profile = np.array([spec.interests.get(i, 0.0) for i in INTERESTS])
    affinity = np.exp(_AFFINITY_SHARPNESS * (interests @ profile))
    weights = affinity / affinity.sum()
    people = np.sort(rng.choice(len(interests), size=target, replace=False, p=weights))
    n = len(people)
    return Audience(
        people=people.astype(np.int64),
        partner_sharing=rng.random(n) < share_rate,
        promotional_email=rng.random(n) < email_rate,
        segments=rng.choice(len(SEGMENTS), size=n, p=SEGMENT_WEIGHTS).astype(np.int64),
        noisy_case=rng.random(n) < _EMAIL_CASE_NOISE,
    )

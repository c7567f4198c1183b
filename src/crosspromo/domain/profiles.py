"""Partner profiles: what an organization offers and to whom, public mentions of it, and how
it scores candidates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Profile:
    org_id: int
    slug: str
    name: str
    description: str
    categories: tuple[str, ...]
    offerings: tuple[str, ...]
    audience_size: int | None
    followers: int | None
    engagements: int | None  # interactions (likes, comments, shares) over the same period
    region: str
    updated_at: datetime

    @property
    def engagement_rate(self) -> float | None:
        if not self.followers or self.engagements is None:
            return None
        return self.engagements / self.followers

    @property
    def category(self) -> str:
        return self.categories[0] if self.categories else ""


@dataclass(frozen=True, slots=True)
class Mention:
    org_id: int
    text: str
    source: str
    posted_at: datetime | None


@dataclass(frozen=True, slots=True)
class ScoringSetup:
    """An organization's choice: its own weights, or the model learned from its outcomes."""

    weights: dict[str, float]
    learned: dict[str, Any] | None
    use_learned: bool

"""The Plan stage's records: campaigns and their lifecycle, calendar items, blackout periods,
an organization's calendar rules, and the conflicts found among its items."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    LIVE = "live"
    DONE = "done"
    CANCELLED = "cancelled"


CAMPAIGN_STEPS: dict[CampaignStatus, frozenset[CampaignStatus]] = {
    CampaignStatus.DRAFT: frozenset({CampaignStatus.SCHEDULED, CampaignStatus.CANCELLED}),
    CampaignStatus.SCHEDULED: frozenset(
        {CampaignStatus.DRAFT, CampaignStatus.LIVE, CampaignStatus.CANCELLED}
    ),
    CampaignStatus.LIVE: frozenset({CampaignStatus.DONE, CampaignStatus.CANCELLED}),
    CampaignStatus.DONE: frozenset(),
    CampaignStatus.CANCELLED: frozenset(),
}


class ItemKind(StrEnum):
    SEND = "send"
    POST = "post"
    PUBLISH = "publish"
    LAUNCH = "launch"
    EVENT = "event"
    WEBINAR = "webinar"


class ConflictKind(StrEnum):
    SAME_AUDIENCE_CHANNEL = "same_audience_channel"
    BLACKOUT = "blackout"
    COMPETING_LAUNCH = "competing_launch"
    OVERLOAD = "overload"


@dataclass(frozen=True, slots=True)
class CalendarRules:
    """An organization's calendar rules: the least time between two items for one audience
    segment on one channel, the most items a segment gets in a week, how near a competitor's
    launch a launch may be, and the zone its days and weeks are counted in."""

    min_gap_days: int = 3
    weekly_max: int = 3
    launch_days: int = 7
    timezone: str = "UTC"


@dataclass(frozen=True, slots=True)
class Blackout:
    id: int
    starts_on: date
    ends_on: date  # included
    reason: str


@dataclass(frozen=True, slots=True)
class CalendarItem:
    id: int
    campaign_id: int
    campaign: str
    org: str  # the side that put it in
    kind: ItemKind
    title: str
    starts_at: datetime  # aware, UTC
    timezone: str
    channel: str
    audience: str
    parties: tuple[str, ...]  # the organizations of its campaign (slugs)


@dataclass(frozen=True, slots=True)
class Conflict:
    kind: ConflictKind
    items: list[int]
    reason: str


class Decision(StrEnum):
    """A party's word on one version of a co-branded asset."""

    APPROVED = "approved"
    CHANGES_REQUESTED = "changes_requested"


class AssetState(StrEnum):
    """Where a version stands: usable only once every party of the campaign approved it."""

    IN_REVIEW = "in_review"  # nobody has decided yet
    PARTLY_APPROVED = "partly_approved"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"

    @classmethod
    def of(cls, parties: set[str], decisions: dict[str, str]) -> AssetState:
        """The state, given the parties (slugs) and each one's decision so far."""
        if Decision.CHANGES_REQUESTED in decisions.values():
            return cls.CHANGES_REQUESTED
        approved = {org for org, d in decisions.items() if d == Decision.APPROVED}
        if parties and parties <= approved:
            return cls.APPROVED
        return cls.PARTLY_APPROVED if approved else cls.IN_REVIEW

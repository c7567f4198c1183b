"""Core entities: organizations (tenants), users, API keys, partnerships, customers, events."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from crosspromo.errors import InvalidInputError, InvalidTransitionError

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


class OrgKind(StrEnum):
    """A brand runs partner programs; a partner business promotes brands. Many are both."""

    BRAND = "brand"
    PARTNER = "partner"


class Role(StrEnum):
    OWNER = "owner"
    MANAGER = "manager"
    ANALYST = "analyst"
    PARTNER = "partner"

    @property
    def uses_portal(self) -> bool:
        """Partner users work in the partner portal, the others in the dashboard."""
        return self is Role.PARTNER


class PartnershipStatus(StrEnum):
    PROSPECT = "prospect"
    NEGOTIATING = "negotiating"
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


_TRANSITIONS: dict[PartnershipStatus, frozenset[PartnershipStatus]] = {
    PartnershipStatus.PROSPECT: frozenset({PartnershipStatus.NEGOTIATING, PartnershipStatus.ENDED}),
    PartnershipStatus.NEGOTIATING: frozenset(
        {PartnershipStatus.PROSPECT, PartnershipStatus.ACTIVE, PartnershipStatus.ENDED}
    ),
    PartnershipStatus.ACTIVE: frozenset({PartnershipStatus.PAUSED, PartnershipStatus.ENDED}),
    PartnershipStatus.PAUSED: frozenset({PartnershipStatus.ACTIVE, PartnershipStatus.ENDED}),
    PartnershipStatus.ENDED: frozenset(),
}


def allowed_transitions(status: PartnershipStatus) -> frozenset[PartnershipStatus]:
    """Statuses a partnership in ``status`` may move to (ended is final)."""
    return _TRANSITIONS[status]


def check_transition(current: PartnershipStatus, target: PartnershipStatus) -> None:
    """Raise InvalidTransitionError unless ``current -> target`` is a lifecycle step."""
    if target not in _TRANSITIONS[current]:
        allowed = ", ".join(sorted(_TRANSITIONS[current])) or "none (ended is final)"
        raise InvalidTransitionError(
            f"a partnership cannot go from {current} to {target}; allowed: {allowed}",
            current=str(current),
            target=str(target),
        )


class ConsentPurpose(StrEnum):
    """Purposes a customer can consent to, each recorded separately."""

    PARTNER_SHARING = "partner_sharing"
    PROMOTIONAL_EMAIL = "promotional_email"


def check_slug(slug: str, what: str = "slug") -> str:
    if not SLUG_PATTERN.match(slug):
        raise InvalidInputError(
            f"{what} {slug!r} is invalid: use 1-64 lower-case letters, digits and inner hyphens",
            field=what,
        )
    return slug


@dataclass(frozen=True, slots=True)
class Organization:
    id: int
    slug: str
    name: str
    kind: OrgKind
    category: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class User:
    id: int
    org_id: int
    email: str
    role: Role
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key as stored: only its prefix (to find it) and a hash (to check it)."""

    id: int
    org_id: int
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Partnership:
    """Two organizations working together; visible to both, to nobody else."""

    id: int
    initiator_org_id: int
    partner_org_id: int
    name: str
    status: PartnershipStatus
    created_at: datetime
    updated_at: datetime
    ends_on: date | None = None  # an end given with notice: the day it takes effect

    def notice_ran_out(self, day: date) -> bool:
        """Whether an end given with notice has taken effect by ``day``."""
        return self.ends_on is not None and self.ends_on <= day

    def involves(self, org_id: int) -> bool:
        return org_id in (self.initiator_org_id, self.partner_org_id)

    def other_party(self, org_id: int) -> int:
        if org_id == self.initiator_org_id:
            return self.partner_org_id
        if org_id == self.partner_org_id:
            return self.initiator_org_id
        raise ValueError(f"organization {org_id} is not a party to partnership {self.id}")


@dataclass(frozen=True, slots=True)
class Customer:
    """A customer of one organization. The external id is kept only as a keyed hash."""

    id: int
    org_id: int
    external_id_hash: str
    consents: frozenset[ConsentPurpose]
    segment: str | None
    created_at: datetime

    def has_consent(self, purpose: ConsentPurpose) -> bool:
        return purpose in self.consents


@dataclass(frozen=True, slots=True)
class Event:
    """One append-only fact. ``idempotency_key`` makes a replay change nothing."""

    id: int
    org_id: int
    kind: str
    idempotency_key: str
    occurred_at: datetime
    recorded_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)

"""Audience overlap between organizations: sharing levels and protocol sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

DEFAULT_REGION = "US"  # where phone numbers without a country code are read


class IdentifierKind(StrEnum):
    """E-mail addresses are trimmed and lower-cased; phone numbers become E.164
    (``+14155550123``); other ids are only trimmed."""

    EMAIL = "email"
    PHONE = "phone"
    ID = "id"


class SharingLevel(StrEnum):
    """What an organization lets others learn of its audience. Opt-in: without a choice it is
    hidden. Records also need an active partnership and each customer's consent."""

    HIDDEN = "hidden"
    COUNTS = "counts"
    RECORDS = "records"

    def allows(self, disclosure: str) -> bool:
        if self is SharingLevel.HIDDEN:
            return False
        return self is SharingLevel.RECORDS or disclosure == "counts"


class SessionStatus(StrEnum):
    OPEN = "open"  # waiting for the requester's message
    ANSWERED = "answered"  # response sent, waiting for the counts
    DONE = "done"
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class OverlapSession:
    id: str
    org_id: int
    partner_org_id: int | None
    disclosure: str
    groups: tuple[tuple[str, int], ...]
    status: SessionStatus
    max_bytes: int
    result: dict[str, Any] | None
    created_at: datetime
    expires_at: datetime
    finished_at: datetime | None

    @property
    def size(self) -> int:
        return sum(n for _, n in self.groups)

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at

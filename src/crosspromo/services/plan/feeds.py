"""Calendar feeds: a secret address per organization (all the items it sees) or per campaign,
served as iCalendar (RFC 5545) to any calendar program; revoked, the address answers 404. The
store keeps only the token's digest, so an address is shown once, when it is made."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from crosspromo.domain.plan import ItemKind
from crosspromo.errors import NotFoundError
from crosspromo.store.database import Database
from crosspromo.store.repositories import OrganizationRepository
from crosspromo.store.repositories.plan import (
    CalendarRepository,
    CampaignRepository,
    FeedRepository,
)

FEED_PATH = "/calendar/{token}.ics"
LASTING = (ItemKind.EVENT, ItemKind.WEBINAR)  # an hour in a calendar; the rest are moments


@dataclass(frozen=True, slots=True)
class Feed:
    id: int
    campaign_id: int | None
    created_at: datetime
    url: str | None = None  # only when just made


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_feed(db: Database, org_id: int, public_url: str, campaign_id: int | None = None) -> Feed:
    """A new secret feed address of ``org_id``'s calendar (or of one campaign it takes part
    in)."""
    token = secrets.token_urlsafe(32)
    with db.transaction() as session:
        if campaign_id is not None:
            CampaignRepository(session).get(org_id, campaign_id)
        feed_id = FeedRepository(session).add(org_id, campaign_id, _digest(token))
    url = public_url.rstrip("/") + FEED_PATH.format(token=token)
    return Feed(feed_id, campaign_id, datetime.now(UTC), url)


def feeds(db: Database, org_id: int) -> list[Feed]:
    with db.reading() as session:
        rows = FeedRepository(session).for_org(org_id)
    return [Feed(r["id"], r["campaign_id"], r["created_at"]) for r in rows]


def revoke_feed(db: Database, org_id: int, feed_id: int) -> None:
    with db.transaction() as session:
        FeedRepository(session).revoke(org_id, feed_id)


def feed_ics(db: Database, token: str) -> bytes:
    """The calendar behind a feed token, as iCalendar text; unknown or revoked: not found."""
    from icalendar import Calendar, Event  # loaded when a calendar program asks

    if not 20 <= len(token) <= 100:
        raise NotFoundError("no such calendar")
    with db.reading() as session:
        feed = FeedRepository(session).by_digest(_digest(token))
        if feed is None:
            raise NotFoundError("no such calendar")
        org = OrganizationRepository(session).get(feed["org_id"])
        shown = CalendarRepository(session).visible(feed["org_id"], feed["campaign_id"])
    calendar = Calendar()
    calendar.add("prodid", "-//crosspromo//shared calendar//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{org.name}: cross-promotion calendar")
    stamp = datetime.now(UTC)
    for item in shown:
        event = Event()
        event.add("uid", f"calendar-item-{item.id}@crosspromo")
        event.add("dtstamp", stamp)
        event.add("dtstart", item.starts_at)
        if item.kind in LASTING:
            event.add("duration", timedelta(hours=1))
        event.add("summary", f"{item.title} ({item.kind})")
        event.add("description", f"Campaign: {item.campaign}\nChannel: {item.channel}\n"
                                 f"Audience: {item.audience}\nWith: {', '.join(item.parties)}\n"
                                 f"Planned in {item.timezone} by {item.org}")  # fmt: skip
        event.add("categories", [str(item.kind)])
        calendar.add_component(event)
    return bytes(calendar.to_ical())

"""The shared calendar: items (send, post, publish, launch, event, webinar) of a campaign, seen
by every party of it; each organization's blackout periods and calendar rules; conflicts found
when an item is saved (or only checked, before saving) and listed on demand."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from crosspromo.domain.plan import (
    Blackout,
    CalendarItem,
    CalendarRules,
    CampaignStatus,
    Conflict,
    ItemKind,
)
from crosspromo.domain.text import one_line
from crosspromo.errors import ConflictError, InvalidInputError
from crosspromo.services.plan.conflicts import find_conflicts, parse_at
from crosspromo.store.database import Database
from crosspromo.store.repositories import OrganizationRepository, ProfileRepository
from crosspromo.store.repositories.plan import (
    BlackoutRepository,
    CalendarRepository,
    CampaignRepository,
    PlanSettingsRepository,
)

PREVIEW_ID = 0  # the id an item checked before saving goes by
CLOSED = (CampaignStatus.DONE, CampaignStatus.CANCELLED)


@dataclass(frozen=True, slots=True)
class ItemInput:
    campaign_id: int
    at: str  # ISO date-time; without an offset, in ``timezone``
    kind: str
    channel: str
    audience: str
    title: str
    timezone: str | None = None  # default: the organization's zone


@dataclass(frozen=True, slots=True)
class Saved:
    id: int  # 0 when only checked
    item: CalendarItem
    conflicts: list[Conflict]


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def check_zone(name: str) -> str:
    if name not in _zones():
        raise InvalidInputError(
            f"time zone {name!r} is not an IANA zone name (e.g. Europe/Berlin)", field="timezone"
        )
    return name


def add_item(db: Database, org_id: int, given: ItemInput, *, check_only: bool = False) -> Saved:
    """Put an item in a campaign's calendar (or with ``check_only`` only see what it would
    conflict with), with the conflicts it takes part in from ``org_id``'s view."""
    try:
        kind = ItemKind(given.kind)
    except ValueError:
        raise InvalidInputError(
            f"kind {given.kind!r} is not one of {', '.join(k.value for k in ItemKind)}",
            field="kind",
        ) from None
    title = one_line(given.title, "title", 200)
    channel, audience = (
        one_line(given.channel, "channel", 64),
        one_line(given.audience, "audience", 64),
    )
    with db.transaction() as session:
        rules = PlanSettingsRepository(session).get(org_id)
        zone = check_zone(given.timezone or rules.timezone)
        try:
            at = parse_at(given.at, zone).astimezone(UTC)
        except ValueError:
            raise InvalidInputError(
                f"at {given.at!r} is not an ISO date-time (2026-03-02T09:00)", field="at"
            ) from None
        campaign = CampaignRepository(session).get(org_id, given.campaign_id, lock=True)
        if campaign["status"] in CLOSED:
            raise ConflictError(f"the campaign is {campaign['status']}: its calendar is closed")
        values = {"campaign_id": given.campaign_id, "org_id": org_id, "kind": str(kind),
                  "title": title, "starts_at": at, "timezone": zone, "channel": channel,
                  "audience": audience}  # fmt: skip
        calendar = CalendarRepository(session)
        new_id = PREVIEW_ID if check_only else calendar.add(values)
        seen = calendar.visible(org_id)
        if check_only:  # the item as it would be, beside the saved ones; nothing is written
            slug = OrganizationRepository(session).get(org_id).slug
            members = CampaignRepository(session).parties([given.campaign_id])
            parties = tuple(sorted(p["slug"] for p in members[given.campaign_id]))
            item = CalendarItem(PREVIEW_ID, given.campaign_id, campaign["name"], slug, kind,
                                title, at, zone, channel, audience, parties)  # fmt: skip
            seen.append(item)
        else:
            item = next(i for i in seen if i.id == new_id)
        blackouts = BlackoutRepository(session).for_org(org_id)
    found = find_conflicts(seen, rules, blackouts, _competitors(db), involving=new_id)
    return Saved(new_id, item, found)


def remove_item(db: Database, org_id: int, campaign_id: int, item_id: int) -> None:
    with db.transaction() as session:
        CampaignRepository(session).get(org_id, campaign_id)
        CalendarRepository(session).remove(campaign_id, item_id)


def items(db: Database, org_id: int, campaign_id: int | None = None) -> list[CalendarItem]:
    """Every item ``org_id`` sees (of one campaign when given), in time order."""
    with db.reading() as session:
        if campaign_id is not None:
            CampaignRepository(session).get(org_id, campaign_id)
        return CalendarRepository(session).visible(org_id, campaign_id)


@dataclass(frozen=True, slots=True)
class CalendarView:
    """An organization's calendar: every item it sees, its rules and blackout periods, and the
    conflicts among the items by those rules."""

    items: list[CalendarItem]
    rules: CalendarRules
    blackouts: list[Blackout]
    conflicts: list[Conflict]


def overview(db: Database, org_id: int) -> CalendarView:
    with db.reading() as session:
        seen = CalendarRepository(session).visible(org_id)
        rules = PlanSettingsRepository(session).get(org_id)
        blackouts = BlackoutRepository(session).for_org(org_id)
    found = find_conflicts(seen, rules, blackouts, _competitors(db))
    return CalendarView(seen, rules, blackouts, found)


def conflicts(db: Database, org_id: int) -> list[Conflict]:
    """Every conflict in ``org_id``'s calendar, by its rules."""
    return overview(db, org_id).conflicts


def add_blackout(db: Database, org_id: int, start: date, end: date, reason: str) -> Blackout:
    if end < start:
        raise InvalidInputError("the blackout ends before it starts", field="to")
    if (end - start).days > 366:
        raise InvalidInputError("a blackout lasts at most a year", field="to")
    text = one_line(reason, "reason", 500)
    with db.transaction() as session:
        new_id = BlackoutRepository(session).add(org_id, start, end, text)
    return Blackout(new_id, start, end, text)


def blackouts(db: Database, org_id: int) -> list[Blackout]:
    with db.reading() as session:
        return BlackoutRepository(session).for_org(org_id)


def remove_blackout(db: Database, org_id: int, blackout_id: int) -> None:
    with db.transaction() as session:
        BlackoutRepository(session).remove(org_id, blackout_id)


def rules(db: Database, org_id: int) -> CalendarRules:
    with db.reading() as session:
        return PlanSettingsRepository(session).get(org_id)


def save_rules(db: Database, org_id: int, **changes: int | str) -> CalendarRules:
    """Change some of the organization's calendar rules; the others stay."""
    limits = {"min_gap_days": (0, 90), "weekly_max": (1, 100), "launch_days": (0, 90)}
    for name, value in changes.items():
        if name == "timezone":
            check_zone(str(value))
        elif name in limits:
            low, high = limits[name]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise InvalidInputError(f"{name} is a whole number {low}-{high}", field=name)
        else:
            raise InvalidInputError(f"no calendar rule {name!r}", field=name)
    with db.transaction() as session:
        repo = PlanSettingsRepository(session)
        updated = replace(repo.get(org_id), **changes)  # type: ignore[arg-type]
        repo.save(org_id, updated)
    return updated


def _competitors(db: Database) -> Callable[[str, str], bool]:
    """Whether Discover flags two organizations as competitors; worked out on first need (it
    compares every profile's offerings, as Discover does)."""
    known: dict[str, frozenset[frozenset[str]]] = {}

    def ask(a: str, b: str) -> bool:
        if "pairs" not in known:
            known["pairs"] = _rival_pairs(db)
        return frozenset({a, b}) in known["pairs"]

    return ask


def _rival_pairs(db: Database) -> frozenset[frozenset[str]]:
    with db.reading() as session:
        profiles = ProfileRepository(session).all()
    if len(profiles) < 2:
        return frozenset()
    return _rivals_of(tuple((p.slug, p.description, tuple(p.categories), tuple(p.offerings))
                            for p in profiles))  # fmt: skip


@functools.lru_cache(maxsize=8)
def _rivals_of(
    profiles: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...],
) -> frozenset[frozenset[str]]:
    """The competitor pairs among these profiles (kept while the profiles stay as they are:
    comparing them runs the text encoder over every one)."""
    from crosspromo.analytics.discovery.complementarity import Offering, Relation, compare
    from crosspromo.analytics.discovery.embeddings import default_encoder

    pairs = compare([Offering(*p) for p in profiles], default_encoder("auto"))
    return frozenset(frozenset(k) for k, v in pairs.items() if v.relation is Relation.COMPETITOR)


def local(item: CalendarItem) -> datetime:
    return item.starts_at.astimezone(ZoneInfo(item.timezone))

"""Conflicts among the calendar items one organization sees (those of every campaign it takes
part in, with any partner), by its own rules:

- ``same_audience_channel``: two items for one audience segment on one channel less than the
  minimum gap apart (exactly the gap is allowed), measured in real time, whatever zones the
  items were planned in;
- ``blackout``: an item on a day of one of the organization's blackout periods, the day counted
  in the organization's time zone;
- ``competing_launch``: two launches less than ``launch_days`` apart whose campaigns include two
  organizations Discover flags as competitors;
- ``overload``: more items for one segment in a week (Monday to Sunday, in the organization's
  zone) than its weekly maximum.

Segments and channels are compared without case or surrounding spaces. An organization is never
told about items it cannot see: the conflicts are found among its own calendar only."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from itertools import combinations
from zoneinfo import ZoneInfo

from crosspromo.domain.plan import (
    Blackout,
    CalendarItem,
    CalendarRules,
    Conflict,
    ConflictKind,
    ItemKind,
)

Competitors = Callable[[str, str], bool]


def find_conflicts(
    items: Sequence[CalendarItem],
    rules: CalendarRules,
    blackouts: Sequence[Blackout],
    competitors: Competitors,
    involving: int | None = None,
) -> list[Conflict]:
    """Every conflict among ``items`` (only those involving the item ``involving`` when given),
    in a stable order: by kind, then by the items' times."""
    zone = ZoneInfo(rules.timezone)
    ordered = sorted(items, key=lambda i: (i.starts_at, i.id))
    found = [
        *_too_close(ordered, rules),
        *_in_blackout(ordered, blackouts, zone),
        *_competing(ordered, rules, competitors),
        *_overloaded(ordered, rules, zone),
    ]
    if involving is not None:
        found = [c for c in found if involving in c.items]
    return found


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def _when(item: CalendarItem) -> str:
    local = item.starts_at.astimezone(ZoneInfo(item.timezone))
    return f"{local:%Y-%m-%d %H:%M} {item.timezone}"


def _name(item: CalendarItem) -> str:
    return f"'{item.title}' ({item.kind}, {_when(item)}, {item.campaign})"


def _apart(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    units = [(days, "day"), (hours, "hour")] + ([(minutes, "minute")] if not days else [])
    words = [f"{n} {unit}{'s' * (n != 1)}" for n, unit in units if n]
    return " ".join(words) or "0 minutes"


def _too_close(items: Sequence[CalendarItem], rules: CalendarRules) -> list[Conflict]:
    gap = timedelta(days=rules.min_gap_days)
    groups: dict[tuple[str, str], list[CalendarItem]] = defaultdict(list)
    for item in items:
        groups[(_key(item.audience), _key(item.channel))].append(item)
    found = []
    for same in groups.values():
        for a, b in combinations(same, 2):
            between = b.starts_at - a.starts_at
            if between < gap:
                found.append(Conflict(
                    ConflictKind.SAME_AUDIENCE_CHANNEL, [a.id, b.id],
                    f"{_name(a)} and {_name(b)} both reach segment '{a.audience}' on "
                    f"{a.channel}, {_apart(between)} apart; at least {rules.min_gap_days} "
                    f"day{'s' * (rules.min_gap_days != 1)} are kept between them",
                ))  # fmt: skip
    return found


def _local_day(item: CalendarItem, zone: ZoneInfo) -> date:
    return item.starts_at.astimezone(zone).date()


def _in_blackout(
    items: Sequence[CalendarItem], blackouts: Sequence[Blackout], zone: ZoneInfo
) -> list[Conflict]:
    found = []
    for item in items:
        day = _local_day(item, zone)
        for period in blackouts:
            if period.starts_on <= day <= period.ends_on:
                span = (str(period.starts_on) if period.starts_on == period.ends_on
                        else f"{period.starts_on} to {period.ends_on}")  # fmt: skip
                found.append(Conflict(
                    ConflictKind.BLACKOUT, [item.id],
                    f"{_name(item)} falls on {day} ({zone.key}), in the blackout "
                    f"'{period.reason}' ({span})",
                ))  # fmt: skip
    return found


def _competing(
    items: Sequence[CalendarItem], rules: CalendarRules, competitors: Competitors
) -> list[Conflict]:
    window = timedelta(days=rules.launch_days)
    launches = [i for i in items if i.kind is ItemKind.LAUNCH]
    found = []
    for a, b in combinations(launches, 2):
        between = b.starts_at - a.starts_at
        if between >= window:
            continue
        rivals = next(
            ((p, q) for p in a.parties for q in b.parties if p != q and competitors(p, q)), None
        )
        if rivals is not None:
            found.append(Conflict(
                ConflictKind.COMPETING_LAUNCH, [a.id, b.id],
                f"{_name(a)} and {_name(b)} are launches {_apart(between)} apart, and "
                f"{rivals[0]} and {rivals[1]} sell the same kind of product (Discover flags "
                f"them as competitors); launches are kept {rules.launch_days} days apart",
            ))  # fmt: skip
    return found


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _overloaded(
    items: Sequence[CalendarItem], rules: CalendarRules, zone: ZoneInfo
) -> list[Conflict]:
    weeks: dict[tuple[str, date], list[CalendarItem]] = defaultdict(list)
    for item in items:
        weeks[(_key(item.audience), _monday(_local_day(item, zone)))].append(item)
    found = []
    for (_, monday), same in sorted(weeks.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if len(same) > rules.weekly_max:
            found.append(Conflict(
                ConflictKind.OVERLOAD, [i.id for i in same],
                f"segment '{same[0].audience}' gets {len(same)} promotions in the week of "
                f"{monday} ({zone.key}), more than the {rules.weekly_max} a week allowed",
            ))  # fmt: skip
    return found


def parse_at(text: str, timezone: str) -> datetime:
    """An ISO date-time; without an offset it is read in ``timezone``."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=ZoneInfo(timezone))

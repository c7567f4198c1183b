"""Calendar conflicts, each kind with the near miss that must not be reported."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from crosspromo.domain.plan import Blackout, CalendarItem, CalendarRules, ConflictKind, ItemKind
from crosspromo.services.plan.conflicts import find_conflicts

RULES = CalendarRules(min_gap_days=3, weekly_max=3, launch_days=7, timezone="Europe/Berlin")
RIVALS = {frozenset({"beans", "brew"})}


def rivals(a: str, b: str) -> bool:
    return frozenset({a, b}) in RIVALS


def item(
    id: int, at: datetime, *, kind: ItemKind = ItemKind.SEND, channel: str = "newsletter",
    audience: str = "loyal", tz: str = "UTC", partner: str = "beans",
) -> CalendarItem:  # fmt: skip
    return CalendarItem(id, id, f"campaign {id}", "acme", kind, f"item {id}", at, tz, channel,
                        audience, ("acme", partner))  # fmt: skip


Found = list[tuple[str, list[int]]]


def kinds(*items: CalendarItem, blackouts: tuple[Blackout, ...] = ()) -> Found:
    return [(str(c.kind), c.items) for c in find_conflicts(items, RULES, blackouts, rivals)]


T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def test_same_audience_and_channel_within_the_gap_across_two_partners() -> None:
    near = item(2, T0 + timedelta(days=3) - timedelta(minutes=1), partner="brew")
    assert kinds(item(1, T0), near) == [("same_audience_channel", [1, 2])]
    exactly = item(2, T0 + timedelta(days=3), partner="brew")  # the gap itself is allowed
    assert kinds(item(1, T0), exactly) == []
    other_channel = item(2, T0 + timedelta(hours=1), channel="social")
    other_segment = item(3, T0 + timedelta(hours=2), audience="new")
    assert kinds(item(1, T0), other_channel, other_segment) == []
    same_words = item(2, T0 + timedelta(days=1), channel=" Newsletter ", audience="LOYAL")
    found = find_conflicts([item(1, T0), same_words], RULES, (), rivals)
    assert [c.items for c in found] == [[1, 2]]
    assert "1 day apart" in found[0].reason
    assert "at least 3 days" in found[0].reason


def test_time_zones_count_real_time() -> None:
    # 22:30 in New York (summer time since 8 March) and 06:00 the next morning in Berlin (not
    # yet) are 2 h 30 min apart
    evening = datetime(2026, 3, 10, 22, 30, tzinfo=ZoneInfo("America/New_York"))
    morning = datetime(2026, 3, 11, 6, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    a = item(1, evening.astimezone(UTC), tz="America/New_York")
    b = item(2, morning.astimezone(UTC), tz="Europe/Berlin", partner="brew")
    found = find_conflicts([a, b], RULES, (), rivals)
    assert [(str(c.kind), c.items) for c in found] == [("same_audience_channel", [1, 2])]
    assert "2 hours 30 minutes apart" in found[0].reason
    assert "2026-03-10 22:30 America/New_York" in found[0].reason


def test_blackout_days_in_the_organizations_zone() -> None:
    holiday = Blackout(1, date(2026, 12, 24), date(2026, 12, 26), "Christmas")
    # 23:30 UTC on the 23rd is 00:30 on the 24th in Berlin: inside
    inside = item(1, datetime(2026, 12, 23, 23, 30, tzinfo=UTC))
    after = item(2, datetime(2026, 12, 27, 9, 0, tzinfo=UTC), channel="social")  # the day after
    before = item(3, datetime(2026, 12, 23, 22, 30, tzinfo=UTC), channel="blog")  # 23:30 Berlin
    assert kinds(inside, after, before, blackouts=(holiday,)) == [("blackout", [1])]
    reason = find_conflicts([inside], RULES, (holiday,), rivals)[0].reason
    assert "2026-12-24 (Europe/Berlin)" in reason
    assert "'Christmas' (2026-12-24 to 2026-12-26)" in reason


def test_competing_launch_only_between_competitors() -> None:
    ours = item(1, T0, kind=ItemKind.LAUNCH, channel="shop", partner="beans")
    theirs = item(2, T0 + timedelta(days=6), kind=ItemKind.LAUNCH, channel="site", partner="brew")
    assert kinds(ours, theirs) == [("competing_launch", [1, 2])]
    friend = item(2, T0 + timedelta(days=6), kind=ItemKind.LAUNCH, channel="site", partner="hops")
    assert kinds(ours, friend) == []  # a launch by a non-competitor
    later = item(2, T0 + timedelta(days=7), kind=ItemKind.LAUNCH, channel="site", partner="brew")
    assert kinds(ours, later) == []  # exactly the window apart
    post = item(2, T0 + timedelta(days=1), kind=ItemKind.POST, channel="site", partner="brew")
    assert kinds(ours, post) == []  # not a launch


def test_overload_above_the_weekly_maximum() -> None:
    week = [item(n, T0 + timedelta(days=n - 1), channel=f"c{n}") for n in range(1, 4)]
    assert kinds(*week) == []  # three in a week: the maximum, allowed
    fourth = item(4, T0 + timedelta(days=5, hours=20), channel="c4")  # Sunday 05:00 Berlin
    assert kinds(*week, fourth) == [("overload", [1, 2, 3, 4])]
    # Sunday 23:30 UTC is already Monday in Berlin: the next week
    next_week = item(4, T0 + timedelta(days=6, hours=14, minutes=30), channel="c4")
    assert kinds(*week, next_week) == []


def test_only_the_conflicts_of_one_item() -> None:
    a, b = item(1, T0), item(2, T0 + timedelta(days=1))
    c = item(3, T0 + timedelta(days=10), channel="blog")
    assert find_conflicts([a, b, c], RULES, (), rivals, involving=3) == []
    assert [x.kind for x in find_conflicts([a, b, c], RULES, (), rivals, involving=2)] == [
        ConflictKind.SAME_AUDIENCE_CHANNEL
    ]

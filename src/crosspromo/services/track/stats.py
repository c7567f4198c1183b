"""Tracking statistics per day, partner and campaign, for the API, CSV export and dashboard."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from crosspromo.domain.clock import EARLIEST, LATEST
from crosspromo.errors import InvalidInputError
from crosspromo.spreadsheet import SafeWriter
from crosspromo.store.database import Database
from crosspromo.store.repositories import OrganizationRepository, StatsRepository

MAX_DAYS = 366
CSV_COLUMNS = (
    "day", "partner", "campaign", "clicks", "unique_clicks", "bot_clicks", "leads", "sales",
    "revenue_minor", "currency",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class DailyRow:
    day: str
    partner: str
    campaign: str
    clicks: int
    unique_clicks: int
    bot_clicks: int
    leads: int
    sales: int
    revenue_by_currency: dict[str, int] = field(default_factory=dict)

    def csv_rows(self) -> list[list[object]]:
        """One CSV line per currency (one line with no revenue when there is none)."""
        base = [self.day, self.partner, self.campaign, self.clicks, self.unique_clicks,
                self.bot_clicks, self.leads, self.sales]  # fmt: skip
        if not self.revenue_by_currency:
            return [[*base, 0, ""]]
        return [
            [*base, amount, currency]
            for currency, amount in sorted(self.revenue_by_currency.items())
        ]


FIRST_DAY, LAST_DAY = EARLIEST.date(), LATEST.date()  # events can only happen in between


def latest_day(db: Database, org_id: int) -> date | None:
    """The last day with a click for the organization, if any."""
    with db.reading() as session:
        return StatsRepository(session).latest_click_day(org_id)


def check_days(start: date | None, end: date | None) -> None:
    """Each day given lies within the bounds the store keeps, and ``start`` is not after
    ``end``."""
    for name, day in (("from", start), ("to", end)):
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise InvalidInputError(
                f"{name} ({day}) must lie between {FIRST_DAY} and {LAST_DAY}", field=name
            )
    if start is not None and end is not None and start > end:
        raise InvalidInputError(f"from ({start}) is after to ({end})", field="from")


def date_range(
    start: date | None, end: date | None, default_days: int = 30, latest: date | None = None
) -> tuple[date, date]:
    """An inclusive day range. Without ``end``: the day of the latest activity (``latest``),
    else today (UTC); without ``start``: ``default_days`` days up to the end."""
    check_days(start, end)
    end = end or latest or datetime.now(UTC).date()
    start = start or max(end - timedelta(days=default_days - 1), FIRST_DAY)
    check_days(start, end)  # a given start after the default end
    if (end - start).days + 1 > MAX_DAYS:
        raise InvalidInputError(f"at most {MAX_DAYS} days at once", field="from")
    return start, end


def day_window(start: date, end: date) -> tuple[datetime, datetime]:
    """The instants from the first day's midnight (UTC) up to, not including, the midnight
    after the last day."""
    return datetime.combine(start, time(), UTC), datetime.combine(
        end + timedelta(days=1), time(), UTC
    )


def daily_stats(db: Database, org_id: int, start: date, end: date) -> list[DailyRow]:
    """Clicks (human, unique, bot) and conversions per day, partner and campaign."""
    with db.reading() as session:
        totals = StatsRepository(session).daily(org_id, *day_window(start, end))
        slugs = {
            i: o.slug
            for i, o in OrganizationRepository(session).many({k[1] for k in totals}).items()
        }

    def order(item: tuple[tuple[str, int, str], dict[str, Any]]) -> tuple[str, str, str]:
        (day, partner, campaign), _ = item
        return day, slugs[partner], campaign

    rows = []
    for (day, partner, campaign), v in sorted(totals.items(), key=order):
        rows.append(
            DailyRow(
                day=day,
                partner=slugs[partner],
                campaign=campaign,
                clicks=v["clicks"],
                unique_clicks=v["unique_clicks"],
                bot_clicks=v["bot_clicks"],
                leads=v["leads"],
                sales=v["sales"],
                revenue_by_currency=v["revenue"],
            )
        )
    return rows


@dataclass(frozen=True, slots=True)
class DailyStats:
    """The daily rows of a range of days, first and last included."""

    start: date
    end: date
    items: list[DailyRow]

    def days(self) -> list[str]:
        return [
            str(self.start + timedelta(days=i)) for i in range((self.end - self.start).days + 1)
        ]

    def by_partner(self, value: Callable[[DailyRow], int]) -> dict[str, list[int]]:
        """``value`` of each day's rows summed per partner: a series per partner, a number a
        day (for charts)."""
        index = {day: i for i, day in enumerate(self.days())}
        series: dict[str, list[int]] = {}
        for row in self.items:
            series.setdefault(row.partner, [0] * len(index))[index[row.day]] += value(row)
        return series

    def csv(self) -> str:
        """One line per day, partner, campaign and currency, safe to open in a spreadsheet."""
        buffer = io.StringIO()
        writer = SafeWriter(buffer)
        writer.writerow(CSV_COLUMNS)
        for row in self.items:
            writer.writerows(row.csv_rows())
        return buffer.getvalue()


def daily(db: Database, org_id: int, start: date | None, end: date | None) -> DailyStats:
    """The daily rows from ``start`` to ``end``; by default the 30 days up to the last day
    with clicks (else today)."""
    first, last = date_range(start, end, latest=latest_day(db, org_id))
    return DailyStats(first, last, daily_stats(db, org_id, first, last))

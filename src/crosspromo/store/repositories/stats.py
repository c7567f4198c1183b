"""Daily traffic and conversion totals per partner and campaign (reads only)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from crosspromo.domain.conversions import ConversionKind
from crosspromo.store import tables as t
from crosspromo.store.repositories.base import Repository

Key = tuple[str, int, str]  # (day, partner organization id, campaign)
SourceKey = tuple[int, int | None, int | None]  # (partner organization id, link id, code id)
Window = tuple[datetime, datetime]  # [start, end)


class StatsRepository(Repository):
    def latest_click_day(self, org_id: int) -> date | None:
        latest = self.session.execute(
            select(func.max(t.clicks.c.clicked_at)).where(t.clicks.c.org_id == org_id)
        ).scalar_one()
        if latest is None:
            return None
        if isinstance(latest, str):  # SQLite returns max() of a timestamp column as text
            return date.fromisoformat(latest[:10])
        return latest.date() if isinstance(latest, datetime) else None

    def daily(self, org_id: int, start: datetime, end: datetime) -> dict[Key, dict[str, Any]]:
        """Totals per (day, partner, campaign) for clicks and conversions in [start, end)."""
        rows: dict[Key, dict[str, Any]] = {}

        def entry(day: Any, partner: int, campaign: str) -> dict[str, Any]:
            key = (_iso(day), int(partner), campaign or "")
            return rows.setdefault(key, empty_totals())

        c, links = t.clicks.c, t.links.c
        human = c.is_bot.is_(False)
        day = func.date(c.clicked_at)
        clicks = self.session.execute(
            select(
                day,
                c.partner_org_id,
                links.campaign,
                func.count().filter(human),
                func.count(c.visit_key.distinct()).filter(human),
                func.count().filter(c.is_bot.is_(True)),
            )
            .join(t.links, links.id == c.link_id)
            .where(c.org_id == org_id, c.clicked_at >= start, c.clicked_at < end)
            .group_by(day, c.partner_org_id, links.campaign)
        )
        for d, partner, campaign, n, unique, bots in clicks:
            item = entry(d, partner, campaign)
            item.update(clicks=int(n), unique_clicks=int(unique), bot_clicks=int(bots))
        v = t.conversions.c
        vday = func.date(v.occurred_at)
        campaign = func.coalesce(links.campaign, "")
        conversions = self.session.execute(
            select(
                vday,
                v.partner_org_id,
                campaign,
                v.kind,
                v.currency,
                func.count(),
                func.coalesce(func.sum(v.amount_minor), 0),
            )
            .outerjoin(t.links, links.id == v.link_id)
            .where(
                v.org_id == org_id,
                v.partner_org_id.is_not(None),
                v.occurred_at >= start,
                v.occurred_at < end,
            )
            .group_by(vday, v.partner_org_id, campaign, v.kind, v.currency)
        )
        for d, partner, camp, kind, currency, n, amount in conversions:
            add_conversions(entry(d, partner, camp), kind, currency, int(n), int(amount))
        return rows

    def by_source(
        self, org_id: int, start: datetime, end: datetime
    ) -> dict[SourceKey, dict[str, Any]]:
        """Totals per partner and source (the link clicked, the referral or coupon code used,
        or neither: an imported, credited conversion) for clicks and conversions in [start,
        end)."""
        rows: dict[SourceKey, dict[str, Any]] = {}

        def entry(partner: int, link: int | None, code: int | None) -> dict[str, Any]:
            key = (int(partner), _id(link), _id(code))
            return rows.setdefault(key, empty_totals())

        c = t.clicks.c
        human = c.is_bot.is_(False)
        clicks = self.session.execute(
            select(
                c.partner_org_id,
                c.link_id,
                func.count().filter(human),
                func.count(c.visit_key.distinct()).filter(human),
                func.count().filter(c.is_bot.is_(True)),
            )
            .where(c.org_id == org_id, c.clicked_at >= start, c.clicked_at < end)
            .group_by(c.partner_org_id, c.link_id)
        )
        for partner, link, n, unique, bots in clicks:
            entry(partner, link, None).update(
                clicks=int(n), unique_clicks=int(unique), bot_clicks=int(bots)
            )
        v = t.conversions.c
        conversions = self.session.execute(
            select(
                v.partner_org_id,
                v.link_id,
                v.code_id,
                v.kind,
                v.currency,
                func.count(),
                func.coalesce(func.sum(v.amount_minor), 0),
            )
            .where(
                v.org_id == org_id,
                v.partner_org_id.is_not(None),
                v.occurred_at >= start,
                v.occurred_at < end,
            )
            .group_by(v.partner_org_id, v.link_id, v.code_id, v.kind, v.currency)
        )
        for partner, link, code, kind, currency, n, amount in conversions:
            add_conversions(entry(partner, link, code), kind, currency, int(n), int(amount))
        return rows


def empty_totals() -> dict[str, Any]:
    """A fresh set of totals: no clicks, conversions or revenue."""
    return {"clicks": 0, "unique_clicks": 0, "bot_clicks": 0, "leads": 0, "sales": 0,
            "revenue": {}}  # fmt: skip


def add_conversions(
    item: dict[str, Any], kind: str, currency: str | None, n: int, amount: int
) -> None:
    """Count ``n`` conversions of ``kind``; sales add to the net revenue, refunds take away."""
    if kind == ConversionKind.LEAD.value:
        item["leads"] += n
        return
    if kind == ConversionKind.SALE.value:
        item["sales"] += n
    sign = -1 if kind == ConversionKind.REFUND.value else 1
    item["revenue"][currency] = item["revenue"].get(currency, 0) + sign * amount


def _iso(day: Any) -> str:
    return day.isoformat() if isinstance(day, date) else str(day)[:10]


def _id(value: Any) -> int | None:
    return None if value is None else int(value)

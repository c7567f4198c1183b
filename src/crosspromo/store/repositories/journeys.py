"""Touchpoints (append-only, imported) and the touch and conversion events journeys are made of."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import pyarrow as pa
from sqlalchemy import ColumnElement, Select, String, and_, cast, func, literal, select

from crosspromo.domain.conversions import ConversionKind
from crosspromo.domain.money import check_currency, minor_per_major
from crosspromo.errors import InvalidInputError
from crosspromo.store import tables as t
from crosspromo.store.repositories.base import Repository

EVENT_SCHEMA = pa.schema(
    [
        ("customer", pa.string()),
        ("at", pa.timestamp("us", tz="UTC")),
        ("channel", pa.string()),
        ("partner", pa.string()),
        ("converted", pa.bool_()),
        ("value", pa.float64()),
    ]
)
CLICK_CHANNEL = "partner link"  # a tracked click on a link without a campaign name
LANDING_CHANNEL = "landing page"  # a co-branded landing page seen before a tracked click


class TouchpointRepository(Repository):
    def add_new(self, rows: Sequence[dict[str, Any]]) -> int:
        """Insert touchpoints whose (org_id, touch_id) is not stored yet; how many were new."""
        return self._insert_new(t.touchpoints, rows, ["org_id", "touch_id"])

    def count(self, org_id: int) -> int:
        found = self.session.execute(
            select(func.count()).where(t.touchpoints.c.org_id == org_id)
        ).scalar_one()
        return int(found)


class JourneyRepository(Repository):
    """The events journeys are made of, for one organization, in the shape of ``EVENT_SCHEMA``.

    Touches: imported touchpoints; tracked clicks, once a conversion names the click (its
    customer is then known); referral and coupon code uses, at the conversion that used the
    code. Conversions: those of the chosen kind and currency. A conversion without a customer id
    stands for a customer of its own, so the click or code it came with is still its journey."""

    def events(
        self,
        org_id: int,
        kind: str,
        currency: str | None,
        since: datetime | None = None,
        until: datetime | None = None,
        converted_since: datetime | None = None,
    ) -> pa.Table:
        """Touches and conversions in [since, until); ``converted_since``: conversions only
        from then on (touches before it may still lead to them)."""
        v = t.conversions.c
        customer = func.coalesce(v.customer_hash, literal("conversion:") + cast(v.id, String))
        named = and_(v.org_id == org_id, _within(v.occurred_at, since, until))
        partner = t.organizations.alias("partner")

        p = t.touchpoints.c
        imported = (
            select(p.customer_hash, p.occurred_at, p.channel, partner.c.slug)
            .select_from(t.touchpoints.outerjoin(partner, partner.c.id == p.partner_org_id))
            .where(p.org_id == org_id, _within(p.occurred_at, since, until))
        )
        k = t.clicks.c
        named_clicks = (
            select(k.click_id, func.min(customer).label("customer"))
            .where(named, v.click_id.is_not(None))
            .group_by(k.click_id)
            .join_from(t.conversions, t.clicks, k.click_id == v.click_id)
            .subquery()
        )
        # a click's channel: the planned campaign its link is in, else the link's own label
        planned = t.campaigns.alias("planned")
        campaign = func.coalesce(
            planned.c.name, func.nullif(t.links.c.campaign, ""), literal(CLICK_CHANNEL)
        )
        clicked = (  # a named click with its link and the partner it credits
            named_clicks.join(t.clicks, k.click_id == named_clicks.c.click_id)
            .join(t.links, t.links.c.id == k.link_id)
            .join(partner, partner.c.id == k.partner_org_id)
        )
        clicks = (
            select(named_clicks.c.customer, k.clicked_at, campaign, partner.c.slug)
            .select_from(clicked.outerjoin(planned, planned.c.id == t.links.c.campaign_id))
            .where(k.org_id == org_id, k.is_bot.is_(False), _within(k.clicked_at, since, until))
        )
        w, lp = t.landing_views.c, t.landing_pages.c
        landing = (  # a landing page of the link's campaign, seen by that visitor before
            select(named_clicks.c.customer, w.viewed_at, literal(LANDING_CHANNEL), partner.c.slug)
            .select_from(
                clicked.join(t.landing_pages, lp.campaign_id == t.links.c.campaign_id)
                .join(t.landing_views, and_(w.page_id == lp.id, w.visitor_hash == k.visitor_hash,
                                            w.viewed_at <= k.clicked_at))
            )
            .where(k.org_id == org_id, k.is_bot.is_(False), w.is_bot.is_(False),
                   _within(w.viewed_at, since, until))
            .distinct()
        )  # fmt: skip
        c = t.partner_codes.c
        codes = (  # a code's use: the planned campaign it is in, else its kind
            select(customer, v.occurred_at,
                   func.coalesce(planned.c.name, c.kind + literal(" code")), partner.c.slug)
            .select_from(
                t.conversions.join(t.partner_codes, c.id == v.code_id)
                .outerjoin(planned, planned.c.id == c.campaign_id)
                .join(partner, partner.c.id == c.partner_org_id)
            )
            .where(named)
        )  # fmt: skip
        converted = select(customer, v.occurred_at, v.amount_minor).where(
            named, v.kind == kind, *([v.currency == currency] if currency else []),
            _within(v.occurred_at, converted_since, None),
        )  # fmt: skip
        touches = [r for query in (imported, clicks, landing, codes) for r in self._rows(query)]
        conversions = self._rows(converted)
        columns = list(zip(*touches, strict=True)) or [(), (), (), ()]
        ends = list(zip(*conversions, strict=True)) or [(), (), ()]
        return pa.table(
            [
                pa.array([*columns[0], *ends[0]], pa.string()),
                pa.array([*columns[1], *ends[1]], EVENT_SCHEMA.field("at").type),
                pa.array([*columns[2], *[None] * len(conversions)], pa.string()),
                pa.array([*columns[3], *[None] * len(conversions)], pa.string()),
                pa.array([False] * len(touches) + [True] * len(conversions)),
                pa.array([0.0] * len(touches) + [float(x) for x in ends[2]], pa.float64()),
            ],
            schema=EVENT_SCHEMA,
        )

    def purchases(self, org_id: int, currency: str | None) -> pa.Table:
        """The organization's sales by known customers: ``customer`` (keyed hash), ``date``
        (UTC day), ``amount`` (major units of ``currency``) and ``source``, the slug of the
        partner the sale came through (null for none)."""
        unit = minor_per_major(currency) if currency else 100
        v = t.conversions.c
        partner = t.organizations.alias("partner")
        rows = self._rows(
            select(v.customer_hash, v.occurred_at, v.amount_minor, partner.c.slug)
            .select_from(t.conversions.outerjoin(partner, partner.c.id == v.partner_org_id))
            .where(
                v.org_id == org_id,
                v.kind == "sale",
                v.customer_hash.is_not(None),
                *([v.currency == currency] if currency else []),
            )
        )
        customers, times, amounts, sources = list(zip(*rows, strict=True)) or [(), (), (), ()]
        return pa.table(
            {
                "customer": pa.array(customers, pa.string()),
                "date": pa.array([at.date() for at in times], pa.date32()),
                "amount": pa.array([a / unit for a in amounts], pa.float64()),
                "source": pa.array(sources, pa.string()),
            }
        )

    def partner_leads(self, org_id: int) -> list[tuple[str, date, str]]:
        """Leads by known customers that came through a partner: (customer hash, UTC day,
        partner slug)."""
        v = t.conversions.c
        partner = t.organizations.alias("partner")
        rows = self._rows(
            select(v.customer_hash, v.occurred_at, partner.c.slug)
            .join_from(t.conversions, partner, partner.c.id == v.partner_org_id)
            .where(v.org_id == org_id, v.kind == "lead", v.customer_hash.is_not(None))
        )
        return [(customer, at.date(), slug) for customer, at, slug in rows]

    def currencies(self, org_id: int, kind: str) -> list[str]:
        """The currencies of the organization's conversions of ``kind``, most used first."""
        v = t.conversions.c
        rows = self.session.execute(
            select(v.currency)
            .where(v.org_id == org_id, v.kind == kind, v.currency.is_not(None))
            .group_by(v.currency)
            .order_by(func.count().desc(), v.currency)
        )
        return [r[0] for r in rows]

    def sales_currency(self, org_id: int, currency: str | None) -> str | None:
        """``currency`` if given, else the one currency of the organization's sales (None
        without sales); sales in several currencies must be told apart."""
        if currency is not None:
            return check_currency(currency)
        currencies = self.currencies(org_id, ConversionKind.SALE)
        if len(currencies) > 1:
            raise InvalidInputError(
                f"sales are in {', '.join(currencies)}: choose one currency", field="currency"
            )
        return currencies[0] if currencies else None

    def _rows(self, query: Select[Any]) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.session.execute(query)]


def _within(column: Any, since: datetime | None, until: datetime | None) -> ColumnElement[bool]:
    conditions = []
    if since is not None:
        conditions.append(column >= since)
    if until is not None:
        conditions.append(column < until)
    return and_(True, *conditions)

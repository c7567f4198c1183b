"""The sample's money: a few sales claimed twice by their partner (the fraud checks' ground
truth: each is held), what the partnerships and the journeys brand's own channels cost,
commissions computed as of the sample's today for every brand, a payout run, the first payout
paid and the rest left open."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crosspromo.sample.tracking import SAMPLE_TODAY
from crosspromo.services.pay import payouts
from crosspromo.store import tables as t
from crosspromo.store.database import Database
from crosspromo.store.repositories import ConversionRepository

CLAIMED_TWICE = 3  # sales per brand its partner sends a second time


def plant_duplicates(session: Session, brands: dict[str, int]) -> dict[str, list[str]]:
    """Send again the last few credited sales of each brand (same order id and partner, a day
    later, through no link): per brand, the order ids the duplicate-order check must hold."""
    c = t.conversions.c
    planted: dict[str, list[str]] = {}
    rows = []
    for slug, brand in brands.items():
        found = session.execute(
            select(t.conversions)
            .where(
                c.org_id == brand,
                c.kind == "sale",
                c.partner_org_id.is_not(None),
                c.order_id.is_not(None),
            )
            .order_by(c.occurred_at.desc(), c.id.desc())
            .limit(CLAIMED_TWICE)
        ).all()
        for row in found:
            values = dict(row._mapping)
            values.pop("id")
            values.pop("recorded_at")
            values["occurred_at"] = values["occurred_at"] + timedelta(days=1)
            # the claim names no customer: a sale without one earns as a first sale would
            values.update(link_id=None, click_id=None, code_id=None, customer_hash=None)
            rows.append(values)
            planted.setdefault(slug, []).append(values["order_id"])
    ConversionRepository(session).add_many(rows)
    return planted


COST_MONTHS = ("2026-10", "2026-11")  # the months the sample's journeys run in
PARTNER_FEE_MINOR = 20_000  # a fixed fee per partner and month, for its newsletter
OWN_CHANNEL_MINOR = {"search": 90_000, "brand email": 12_000, "display": 60_000}  # a month


def plant_costs(
    session: Session, brands: dict[str, int], partners: dict[str, list[str]], journeys_brand: str
) -> dict[str, int]:
    """Record what each brand's partnerships cost (a fixed fee per partner and month) and what
    the journeys brand's own channels cost, in the months the journeys run in: per brand, the
    total in minor units (EUR)."""
    from crosspromo.services.pay.costs import store_costs  # the costs service, its imports

    totals: dict[str, int] = {}
    for slug, brand in brands.items():
        records: list[dict[str, Any]] = [
            {"partner": partner, "channel": "newsletter", "month": month, "kind": "fixed_fee",
             "amount_minor": PARTNER_FEE_MINOR, "currency": "EUR", "note": "sample fee"}
            for partner in partners.get(slug, []) for month in COST_MONTHS
        ]  # fmt: skip
        if slug == journeys_brand:
            records += [
                {"partner": "", "channel": channel, "month": month, "kind": "other",
                 "amount_minor": amount, "currency": "EUR", "note": "sample spend"}
                for channel, amount in OWN_CHANNEL_MINOR.items() for month in COST_MONTHS
            ]  # fmt: skip
        store_costs(session, brand, records, "the sample's costs")
        totals[slug] = sum(int(r["amount_minor"]) for r in records)
    return totals


def settle(db: Database, brand_ids: list[int]) -> dict[str, Any]:
    """Compute every brand's commissions as of the sample's today and run its payouts; the
    first payout is marked paid. What was made, for the sample's summary."""
    from crosspromo.services.pay.commissions import compute  # numpy and pandas: loaded here

    made: dict[str, Any] = {"held": 0, "payouts": 0, "paid": 0}
    first = True
    for brand in brand_ids:
        done = compute(db, brand, SAMPLE_TODAY)
        made["held"] += done.held
        for payout in payouts.run(db, brand, SAMPLE_TODAY).payouts:
            made["payouts"] += 1
            if first:
                payouts.mark_paid(db, brand, payout.id, f"SAMPLE-{payout.id}")
                made["paid"] += 1
                first = False
    return made

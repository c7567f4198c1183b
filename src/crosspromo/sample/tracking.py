"""Links, clicks and conversions for the sample ecosystem, with their ground truth.

Every partnership that ran (active, paused or ended) gets links from the brand to the partner.
Each link has a true daily click rate, bot share, lead rate and sale rate; clicks and
conversions are drawn from them (Poisson counts, Bernoulli outcomes, log-normal order values)
over the partnership's active window, which ends at SAMPLE_TODAY at the latest.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np

from crosspromo.domain import PartnershipStatus

SAMPLE_TODAY = date(2026, 11, 15)
WINDOW_DAYS = 60
RAN = (PartnershipStatus.ACTIVE, PartnershipStatus.PAUSED, PartnershipStatus.ENDED)
CAMPAIGNS = ("launch", "newsletter", "social")


@dataclass(frozen=True, slots=True)
class SampleLink:
    brand: str
    partner: str
    code: str
    campaign: str
    clicks_per_day: float
    bot_share: float
    lead_rate: float
    sale_rate: float
    mean_order_minor: int


@dataclass(frozen=True, slots=True)
class SampleClick:
    link: int  # index into links
    click_id: str
    at: datetime
    visitor: str
    is_bot: bool


@dataclass(frozen=True, slots=True)
class SampleConversion:
    link: int
    click_id: str
    kind: str  # lead or sale
    at: datetime
    amount_minor: int
    order_id: str | None


@dataclass(frozen=True, slots=True)
class SampleTracking:
    links: list[SampleLink]
    clicks: list[SampleClick]
    conversions: list[SampleConversion]

    def truth(self) -> dict[str, Any]:
        per_link = []
        for i, link in enumerate(self.links):
            human = [c for c in self.clicks if c.link == i and not c.is_bot]
            mine = [v for v in self.conversions if v.link == i]
            per_link.append(
                {
                    "code": link.code,
                    "brand": link.brand,
                    "partner": link.partner,
                    "campaign": link.campaign,
                    "true_lead_rate": link.lead_rate,
                    "true_sale_rate": link.sale_rate,
                    "clicks": len(human),
                    "bot_clicks": sum(1 for c in self.clicks if c.link == i and c.is_bot),
                    "leads": sum(1 for v in mine if v.kind == "lead"),
                    "sales": sum(1 for v in mine if v.kind == "sale"),
                    "revenue_minor": sum(v.amount_minor for v in mine if v.kind == "sale"),
                }
            )
        return {"currency": "EUR", "today": SAMPLE_TODAY.isoformat(), "links": per_link}


def generate_tracking(
    seed: int,
    scale: int,
    partnerships: tuple[tuple[str, str, str, PartnershipStatus], ...],
    dates: tuple[tuple[datetime, datetime], ...],
) -> SampleTracking:
    rng = np.random.default_rng([seed, 4])  # its own stream: audiences stay as they were
    links: list[SampleLink] = []
    windows: list[tuple[date, date]] = []
    for (brand, partner, _name, status), (started, changed) in zip(
        partnerships, dates, strict=True
    ):
        if status not in RAN:
            continue
        end = (
            SAMPLE_TODAY
            if status is PartnershipStatus.ACTIVE
            else min(changed.date(), SAMPLE_TODAY)
        )
        start = max(started.date(), end - timedelta(days=WINDOW_DAYS - 1))
        for campaign in CAMPAIGNS[: int(rng.integers(1, 3))]:
            code = hashlib.sha256(f"{seed}:{brand}:{partner}:{campaign}".encode()).hexdigest()[:8]
            links.append(
                SampleLink(
                    brand=brand,
                    partner=partner,
                    code=f"s{code}",
                    campaign=campaign,
                    clicks_per_day=float(rng.uniform(4, 30) * scale / 100),
                    bot_share=float(rng.uniform(0.03, 0.15)),
                    lead_rate=float(rng.uniform(0.04, 0.15)),
                    sale_rate=float(rng.uniform(0.01, 0.06)),
                    mean_order_minor=int(rng.integers(2500, 12000)),
                )
            )
            windows.append((start, end))
    clicks: list[SampleClick] = []
    conversions: list[SampleConversion] = []
    for index, (link, (start, end)) in enumerate(zip(links, windows, strict=True)):
        days = (end - start).days + 1
        for offset in range(max(days, 0)):
            day = datetime.combine(start + timedelta(days=offset), datetime.min.time(), UTC)
            for _ in range(int(rng.poisson(link.clicks_per_day))):
                at = day + timedelta(seconds=int(rng.integers(0, 86_400)))
                click_id = f"s{rng.integers(0, 2**63):019d}"[:20]
                bot = bool(rng.random() < link.bot_share)
                visitor = f"{int(rng.integers(0, 2**62)):016x}"
                clicks.append(SampleClick(index, click_id, at, visitor, bot))
                if bot:
                    continue
                if rng.random() < link.lead_rate:
                    lead_at = at + timedelta(minutes=int(rng.integers(1, 120)))
                    conversions.append(SampleConversion(index, click_id, "lead", lead_at, 0, None))
                if rng.random() < link.sale_rate:
                    sale_at = at + timedelta(minutes=int(rng.integers(5, 2880)))
                    amount = int(rng.lognormal(np.log(link.mean_order_minor), 0.4))
                    order = f"{link.code}-{len(conversions)}"
                    conversions.append(
                        SampleConversion(index, click_id, "sale", sale_at, amount, order)
                    )
    return SampleTracking(links, clicks, conversions)

"""Fraud checks: before a conversion's commission is approved, rules hold it with a reason for
the brand to review. Each organization sets its own thresholds (these are the defaults).

- ``self_referral``: the customer is one of the partner's own staff (the brand's keyed hash of
  a partner user's e-mail equals the conversion's customer hash).
- ``click_burst``: the visitor behind the conversion's click clicked the partner's links more
  than ``burst_clicks`` times within ``burst_minutes`` around it.
- ``too_soon``: the conversion came less than ``min_seconds`` after its click.
- ``rate_outlier``: the partner's conversion rate on the conversion's day is far outside its
  own history: a robust z-score (median and MAD, Iglewicz & Hoaglin 1993) above ``rate_z``
  over at least ``rate_history_days`` earlier days with clicks.
- ``duplicate_order``: another sale of the brand already claimed the same order id.
- ``refund_rate``: the partner's refunds over the last ``refund_window_days`` exceed
  ``refund_rate_bp`` of its sales (by amount; once it has ``refund_min_sales`` sales).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session

from crosspromo.errors import InvalidInputError
from crosspromo.security import customer_id_hashes
from crosspromo.store.database import Database
from crosspromo.store.repositories import FraudSettingsRepository, UserRepository
from crosspromo.store.repositories.commissions import FraudFacts

CHECKS = (
    "self_referral",
    "click_burst",
    "too_soon",
    "rate_outlier",
    "duplicate_order",
    "refund_rate",
)
Count = Annotated[int, Field(ge=1, le=1_000_000)]


class FraudSettings(BaseModel):
    """An organization's fraud thresholds; ``checks`` names the rules it runs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    checks: list[str] = Field(default_factory=lambda: list(CHECKS))
    burst_clicks: Count = 20
    burst_minutes: Count = 60
    min_seconds: Annotated[int, Field(ge=0, le=86_400)] = 10
    rate_z: Annotated[float, Field(gt=0, le=100)] = 3.5
    rate_history_days: Annotated[int, Field(ge=3, le=365)] = 7
    rate_min_clicks: Count = 20
    refund_rate_bp: Annotated[int, Field(ge=0, le=10_000)] = 3_000
    refund_min_sales: Count = 10
    refund_window_days: Annotated[int, Field(ge=1, le=730)] = 90

    def runs(self, check: str) -> bool:
        return check in self.checks


def parse_settings(data: Mapping[str, Any]) -> FraudSettings:
    try:
        found = FraudSettings.model_validate(dict(data))
    except ValidationError as exc:
        shown = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise InvalidInputError(f"fraud settings: {shown}", field="settings") from None
    unknown = sorted(set(found.checks) - set(CHECKS))
    if unknown:
        raise InvalidInputError(
            f"unknown fraud checks {unknown}: known are {list(CHECKS)}", field="checks"
        )
    return found


def settings_of(session: Session, org_id: int) -> FraudSettings:
    stored = FraudSettingsRepository(session).get(org_id)
    return FraudSettings() if stored is None else parse_settings(stored)


def current(db: Database, org_id: int) -> FraudSettings:
    """The organization's thresholds (the defaults until it changes any)."""
    with db.reading() as session:
        return settings_of(session, org_id)


def save_settings(db: Database, org_id: int, changes: Mapping[str, Any]) -> FraudSettings:
    """Change some thresholds (the others keep their value)."""
    with db.transaction() as session:
        current = settings_of(session, org_id)
        merged = parse_settings({**current.model_dump(), **changes})
        FraudSettingsRepository(session).put(org_id, merged.model_dump())
        return merged


@dataclass(frozen=True, slots=True)
class Suspect:
    """A new conversion to check: its id, time, click, order and customer."""

    id: int
    kind: str
    occurred_at: datetime
    click_id: str | None
    order_id: str | None
    customer: str | None


def holds(
    session: Session,
    secret: str,
    brand: int,
    partner: int,
    suspects: pa.Table,
    until: datetime,
    settings: FraudSettings,
) -> list[tuple[int, str, str]]:
    """(conversion, check, reason) for each new conversion a rule holds; ``suspects`` has the
    columns id, kind, occurred_at, click_id, order_id and customer. Whole columns are filtered
    at once; rows are looked at one by one only where a rule needs them (clicks, orders)."""
    if suspects.num_rows == 0:
        return []
    facts = FraudFacts(session, brand, partner)
    found: list[tuple[int, str, str]] = []
    if settings.runs("self_referral"):
        emails = [u.email for u in UserRepository(session).for_org(partner)]
        staff = pa.array(sorted(set(customer_id_hashes(secret, brand, emails))), pa.string())
        hit = suspects.filter(pc.is_in(suspects["customer"], value_set=staff))
        found += [
            (i, "self_referral", "the customer is one of the partner's own staff")
            for i in hit["id"].to_pylist()
        ]
    clicking = _rows(suspects.filter(pc.is_valid(suspects["click_id"])))
    clicked = facts.clicks_of({s.click_id for s in clicking if s.click_id})
    if settings.runs("too_soon"):
        found += _too_soon(clicking, clicked, settings)
    if settings.runs("click_burst"):
        found += _bursts(facts, clicking, clicked, settings)
    if settings.runs("duplicate_order"):
        claimed = facts.duplicate_orders()
        names = pa.array(sorted(claimed), pa.string())
        sales = pc.equal(suspects["kind"], "sale")
        for s in _rows(suspects.filter(pc.and_(sales, pc.is_in(suspects["order_id"], names)))):
            first = claimed[s.order_id or ""]
            if first != s.id:
                found.append(
                    (
                        s.id,
                        "duplicate_order",
                        f"order {s.order_id!r} was claimed before by conversion {first}",
                    )
                )
    if settings.runs("rate_outlier"):
        found += _rate_outliers(facts, suspects, until, settings)
    if settings.runs("refund_rate"):
        found += _refund_rate(facts, suspects, until, settings)
    return found


def _rows(table: pa.Table) -> list[Suspect]:
    return [
        Suspect(r["id"], r["kind"], r["occurred_at"], r["click_id"], r["order_id"], r["customer"])
        for r in table.to_pylist()
    ]


def _too_soon(
    clicking: Sequence[Suspect],
    clicked: Mapping[str, tuple[datetime, str]],
    settings: FraudSettings,
) -> list[tuple[int, str, str]]:
    found = []
    for s in clicking:
        click = clicked.get(s.click_id or "")
        if click is not None and s.occurred_at - click[0] < timedelta(seconds=settings.min_seconds):
            seconds = (s.occurred_at - click[0]).total_seconds()
            found.append(
                (
                    s.id,
                    "too_soon",
                    f"converted {seconds:.0f} s after the click (under {settings.min_seconds} s)",
                )
            )
    return found


def _bursts(
    facts: FraudFacts,
    suspects: Sequence[Suspect],
    clicked: Mapping[str, tuple[datetime, str]],
    settings: FraudSettings,
) -> list[tuple[int, str, str]]:
    window = timedelta(minutes=settings.burst_minutes)
    times = facts.visitor_clicks({v for _, v in clicked.values()})
    found = []
    for s in suspects:
        click = clicked.get(s.click_id or "")
        if click is None:
            continue
        near = sum(1 for moment in times.get(click[1], ()) if abs(moment - click[0]) <= window)
        if near > settings.burst_clicks:
            found.append(
                (
                    s.id,
                    "click_burst",
                    f"its visitor clicked {near} times within "
                    f"{settings.burst_minutes} min (over {settings.burst_clicks})",
                )
            )
    return found


def robust_z(value: float, history: Sequence[float]) -> float | None:
    """The modified z-score ``0.6745 (x - median) / MAD`` (Iglewicz & Hoaglin 1993); with a
    MAD of 0, the mean absolute deviation scaled alike (``/ 0.7979``); None when the history
    does not vary at all."""
    median = statistics.median(history)
    mad = statistics.median(abs(h - median) for h in history)
    if mad > 0:
        return 0.6745 * (value - median) / mad
    mean_ad = statistics.fmean(abs(h - median) for h in history)
    return None if mean_ad == 0 else (value - median) / (1.2533 * mean_ad)


def _rate_outliers(
    facts: FraudFacts, suspects: pa.Table, until: datetime, settings: FraudSettings
) -> list[tuple[int, str, str]]:
    day_of = pc.cast(suspects["occurred_at"], pa.date32())
    days = set(pc.unique(day_of).to_pylist())
    earliest = min(days) - timedelta(days=settings.rate_history_days * 4)
    clicks = facts.daily_clicks(earliest, until)
    busy = {d for d in days if clicks.get(d, 0) >= settings.rate_min_clicks}
    conversions = facts.daily_conversions(earliest, until) if busy else {}
    flagged: dict[date, str] = {}
    for day in busy:
        history = [conversions.get(d, 0) / n for d, n in sorted(clicks.items()) if d < day and n]
        history = history[-settings.rate_history_days * 4 :]
        if len(history) < settings.rate_history_days:
            continue
        rate = conversions.get(day, 0) / clicks[day]
        z = robust_z(rate, history)
        if z is not None and z > settings.rate_z:
            flagged[day] = (
                f"conversion rate {rate:.1%} on {day} is {z:.1f} robust z above "
                f"its history (over {settings.rate_z})"
            )
    if not flagged:
        return []
    hit = suspects.filter(pc.is_in(day_of, value_set=pa.array(sorted(flagged), pa.date32())))
    return [
        (i, "rate_outlier", flagged[d])
        for i, d in zip(
            hit["id"].to_pylist(), pc.cast(hit["occurred_at"], pa.date32()).to_pylist(), strict=True
        )
    ]


def _refund_rate(
    facts: FraudFacts, suspects: pa.Table, until: datetime, settings: FraudSettings
) -> list[tuple[int, str, str]]:
    since = until - timedelta(days=settings.refund_window_days)
    sales, sold, refunded = facts.refunds(since, until)
    if sales < settings.refund_min_sales or sold == 0:
        return []
    if refunded * 10_000 <= sold * settings.refund_rate_bp:
        return []
    reason = (
        f"the partner's refunds are {refunded / sold:.0%} of its sales over "
        f"{settings.refund_window_days} days (over {settings.refund_rate_bp / 100:g}%)"
    )
    sales = suspects.filter(pc.equal(suspects["kind"], "sale"))
    return [(i, "refund_rate", reason) for i in sales["id"].to_pylist()]

"""An agreement's terms as data: one schema validates every version both sides propose,
counter and accept, and two versions are compared field by field in words.

Money is exact: amounts are integer minor units of the terms' currency, shares and rates are
basis points (1 bp = 0.01 %), and the rounding of a computed commission is stated. The Pay
stage computes commissions from ``commission`` as written here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from crosspromo.domain.money import MAX_MINOR
from crosspromo.domain.overlap import SharingLevel
from crosspromo.domain.strategies import Strategy
from crosspromo.errors import InvalidInputError

FORMAT = "crosspromo-terms/1"
BASIS = 10_000  # basis points in a whole

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$")]
Text = Annotated[str, Field(min_length=1, max_length=500)]
Minor = Annotated[int, Field(ge=0, le=MAX_MINOR)]
BasisPoints = Annotated[int, Field(ge=0, le=BASIS)]


class Rounding(StrEnum):
    """How a commission in fractions of a minor unit becomes whole: half up (0.5 → 1), half
    to even (0.5 → 0, 1.5 → 2), or down (always toward zero)."""

    HALF_UP = "half_up"
    HALF_EVEN = "half_even"
    DOWN = "down"


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Party(_Part):
    org: Slug
    role: Literal["brand", "partner"]
    responsibilities: list[Text] = Field(default_factory=list, max_length=30)


class Objective(_Part):
    goal: Literal["leads", "sales", "awareness", "retention"]
    metric: Literal["clicks", "leads", "sales", "new_customers", "revenue_minor"]
    target: Annotated[int, Field(ge=0, le=MAX_MINOR)]
    per: Literal["month", "quarter", "term"] = "month"
    review_on: date


class Contribution(_Part):
    """What a party brings: its share of shared costs and its own budget."""

    org: Slug
    cost_share_bp: BasisPoints
    budget_minor: Minor = 0
    resources: list[Text] = Field(default_factory=list, max_length=30)


class Tier(_Part):
    """From the ``from_count``-th conversion in a period on, this rate or amount."""

    from_count: Annotated[int, Field(ge=1, le=10**9)]
    rate_bp: BasisPoints | None = None
    flat_minor: Minor | None = None


class Rule(_Part):
    """One commission rule: what it pays for (a lead or a sale, net of refunds), how (a share
    of the sale, a flat amount, or tiers by the period's count), for how long per customer, and
    up to what cap per period."""

    applies_to: Literal["lead", "sale"]
    kind: Literal["percent", "flat", "tiered"]
    rate_bp: BasisPoints | None = None
    flat_minor: Minor | None = None
    tiers: list[Tier] = Field(default_factory=list, max_length=20)
    tier_scope: Literal["marginal", "whole_period"] = "marginal"
    recurring_months: Annotated[int, Field(ge=0, le=120)] = 0  # 0: the first sale only
    cap_minor: Minor | None = None
    cap_period: Literal["month", "quarter", "year"] = "month"

    @model_validator(mode="after")
    def _complete(self) -> Rule:
        given = {"percent": self.rate_bp is not None, "flat": self.flat_minor is not None,
                 "tiered": bool(self.tiers)}  # fmt: skip
        if not given[self.kind] or sum(given.values()) != 1:
            raise ValueError(f"a {self.kind} rule gives exactly its own amount: rate_bp for "
                             "percent, flat_minor for flat, tiers for tiered")  # fmt: skip
        if self.kind == "percent" and self.applies_to == "lead":
            raise ValueError("a lead has no amount to take a percentage of: use flat")
        counts = [t.from_count for t in self.tiers]
        if counts and (counts[0] != 1 or counts != sorted(set(counts))):
            raise ValueError("tiers start at the 1st conversion and rise")
        if any((t.rate_bp is None) == (t.flat_minor is None) for t in self.tiers):
            raise ValueError("each tier gives either rate_bp or flat_minor")
        return self


class Commission(_Part):
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    rounding: Rounding = Rounding.HALF_EVEN
    holding_days: Annotated[int, Field(ge=0, le=365)] = 30
    clawback_days: Annotated[int, Field(ge=0, le=730)] = 90
    rules: list[Rule] = Field(min_length=1, max_length=20)


class DataSharing(_Part):
    purposes: list[Literal["overlap_measurement", "co_marketing", "attribution", "reporting"]]
    overlap_level: SharingLevel = SharingLevel.COUNTS
    retention_days: Annotated[int, Field(ge=1, le=3650)] = 90


class Assets(_Part):
    """Brand and asset use (intellectual property)."""

    may_use_marks: bool = True
    approval_required: bool = True
    notes: str = Field(default="", max_length=2000)


class Termination(_Part):
    notice_days: Annotated[int, Field(ge=0, le=365)] = 30
    survives: list[Literal["earned_commissions", "confidentiality", "data_deletion",
                           "asset_removal"]] = ["earned_commissions", "data_deletion"]  # fmt: skip


class Terms(_Part):
    """A complete version of an agreement's terms."""

    format: Literal["crosspromo-terms/1"] = "crosspromo-terms/1"
    parties: list[Party] = Field(min_length=2, max_length=2)
    strategy: Strategy
    objectives: list[Objective] = Field(default_factory=list, max_length=20)
    start: date
    end: date | None = None
    renewal: Literal["none", "monthly", "yearly"] = "none"
    contributions: list[Contribution] = Field(min_length=1, max_length=2)
    commission: Commission
    data_sharing: DataSharing
    assets: Assets = Assets()
    termination: Termination = Termination()

    @model_validator(mode="after")
    def _consistent(self) -> Terms:
        orgs = [p.org for p in self.parties]
        if len(set(orgs)) != 2 or sorted(p.role for p in self.parties) != ["brand", "partner"]:
            raise ValueError("two different parties: one brand, one partner")
        if any(c.org not in orgs for c in self.contributions):
            raise ValueError("contributions come from the parties")
        if len({c.org for c in self.contributions}) != len(self.contributions):
            raise ValueError("one contribution per party")
        if sum(c.cost_share_bp for c in self.contributions) != BASIS:
            raise ValueError("the cost shares add up to 10000 basis points (100%)")
        if self.end is not None and self.end < self.start:
            raise ValueError("the end is before the start")
        if self.renewal != "none" and self.end is None:
            raise ValueError("only terms with an end renew")
        return self

    def document(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def parse_terms(data: Any, source: str = "terms") -> Terms:
    """Terms from a JSON value, or an error naming every field that is wrong."""
    try:
        return Terms.model_validate(data)
    except ValidationError as exc:
        raise InvalidInputError(f"{source}: {_problems(exc)}", field="terms") from None


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'terms'}: {e['msg']}" for e in exc.errors()
    )


def read_terms(text: str, source: str) -> Terms:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InvalidInputError(f"{source} is not JSON: {exc}", field="terms") from None
    return parse_terms(data, source)


@dataclass(frozen=True, slots=True)
class CommissionChoice:
    """The commission a template is made with: a percentage of each sale (up to two decimals,
    e.g. ``12.5``), a flat amount per lead in minor units (neither: 10% and 2.00 per lead,
    capped at 500.00 a month), the holding period, the currency."""

    percent_of_sale: Decimal | None = None
    per_lead_minor: int | None = None
    holding_days: int = 30
    currency: str = "EUR"


def template(
    brand: str = "your-brand", partner: str = "your-partner",
    commission: CommissionChoice | None = None, start: date | None = None,
) -> Terms:  # fmt: skip
    """A complete, valid starting point: a referral program paying 10% of each first sale,
    a flat 2.00 per lead, counts-level overlap, 30 days' notice; or, given ``commission``,
    exactly its rules (and effective from ``start``: it may precede the acceptance)."""
    start = start or date(2027, 1, 1)
    chosen = commission or CommissionChoice()
    rules = []
    if chosen.percent_of_sale is None and chosen.per_lead_minor is None:  # the usual pair
        rules = [
            Rule(applies_to="sale", kind="percent", rate_bp=1000),
            Rule(applies_to="lead", kind="flat", flat_minor=200, cap_minor=50_000),
        ]
    if chosen.percent_of_sale is not None:
        rules.append(Rule(applies_to="sale", kind="percent",
                          rate_bp=_basis_points(chosen.percent_of_sale)))  # fmt: skip
    if chosen.per_lead_minor is not None:
        rules.append(Rule(applies_to="lead", kind="flat", flat_minor=chosen.per_lead_minor))
    try:
        paid = Commission(currency=chosen.currency, holding_days=chosen.holding_days,
                          rules=rules)  # fmt: skip
    except ValidationError as exc:
        raise InvalidInputError(f"commission: {_problems(exc)}", field="commission") from None
    end = date(start.year, 12, 31)
    return Terms(
        parties=[Party(org=brand, role="brand", responsibilities=["issue links and codes",
                                                                  "pay commissions monthly"]),
                 Party(org=partner, role="partner",
                       responsibilities=["share the offer with its audience"])],
        strategy=Strategy.REFERRAL,
        objectives=[Objective(goal="sales", metric="new_customers", target=50,
                              review_on=date(start.year, 3, 31) if start.month <= 3 else end)],
        start=start, end=end, renewal="yearly",
        contributions=[Contribution(org=brand, cost_share_bp=7000, budget_minor=100_000),
                       Contribution(org=partner, cost_share_bp=3000)],
        commission=paid,
        data_sharing=DataSharing(purposes=["overlap_measurement", "attribution"]),
    )  # fmt: skip


def _basis_points(percent: Decimal) -> int:
    points = percent * 100
    if points != points.to_integral_value() or not 0 <= points <= BASIS:
        raise InvalidInputError(
            f"a percentage of sale is 0 to 100 with at most two decimals, not {percent}",
            field="percent_of_sale",
        )
    return int(points)


def diff(before: Terms, after: Terms) -> list[str]:
    """What changed from ``before`` to ``after``, a line per field: ``path: old → new``."""
    old, new = _flat(before.document()), _flat(after.document())
    lines = []
    for path in sorted(old.keys() | new.keys()):
        if old.get(path, _ABSENT) != new.get(path, _ABSENT):
            lines.append(f"{path}: {_shown(old.get(path, _ABSENT))} → "
                         f"{_shown(new.get(path, _ABSENT))}")  # fmt: skip
    return lines


_ABSENT = object()


def _flat(value: Any, path: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out |= _flat(item, f"{path}.{key}" if path else key)
        return out
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        out = {}
        for number, item in enumerate(value):
            out |= _flat(item, f"{path}[{number}]")
        return out
    return {path: value}


def _shown(value: Any) -> str:
    return "(none)" if value is _ABSENT else json.dumps(value, ensure_ascii=False)

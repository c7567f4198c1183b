"""Conversions: leads, sales and refunds, and the codes partners share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ConversionKind(StrEnum):
    LEAD = "lead"
    SALE = "sale"
    REFUND = "refund"


class CodeKind(StrEnum):
    REFERRAL = "referral"
    COUPON = "coupon"


@dataclass(frozen=True, slots=True)
class PartnerCode:
    """A referral or coupon code that ties a conversion to a partner."""

    id: int
    org_id: int
    partner_org_id: int
    code: str
    kind: CodeKind
    created_at: datetime
    active: bool = True


@dataclass(frozen=True, slots=True)
class Conversion:
    id: int
    org_id: int
    kind: ConversionKind
    partner_org_id: int | None
    link_id: int | None
    click_id: str | None
    code_id: int | None
    order_id: str | None
    customer_hash: str | None
    amount_minor: int
    currency: str | None
    occurred_at: datetime
    recorded_at: datetime


class TouchKind(StrEnum):
    """What an imported touchpoint was; tracked clicks and code uses are touches too."""

    IMPRESSION = "impression"
    EMAIL_OPEN = "email_open"
    CLICK = "click"
    VISIT = "visit"
    OTHER = "other"

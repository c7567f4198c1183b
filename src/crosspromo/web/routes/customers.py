"""Customer value, churn and partnership KPIs of an organization's customers by acquisition
source (REST API v1)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from crosspromo.services.measure.churn import organization_churn
from crosspromo.services.measure.clv import organization_clv
from crosspromo.services.measure.kpis import partner_kpis
from crosspromo.web.deps import DB, ApiOrg
from crosspromo.web.schemas import PROBLEM_RESPONSES

router = APIRouter(prefix="/api/v1", tags=["customers"], responses=PROBLEM_RESPONSES)
DAY = r"^\d{4}-\d{2}-\d{2}$"
Currency = Annotated[str | None, Query(pattern="^[A-Z]{3}$")]


class PurchaseModel(BaseModel):
    r: float | None
    alpha: float | None
    a: float | None
    b: float | None
    log_likelihood: float | None


class SpendModel(BaseModel):
    p: float | None
    q: float | None
    v: float | None


class HoldoutRow(BaseModel):
    frequency: int
    customers: int
    actual: float
    predicted: float | None


class ValueOut(BaseModel):
    months: int
    monthly_discount: float
    mean: float
    lower: float
    upper: float


class CustomersFit(BaseModel):
    bgnbd: PurchaseModel
    gamma_gamma: SpendModel
    customers: int
    repeat_buyers: int
    period: str
    frequency_spend_correlation: float | None
    calibration_holdout: list[HoldoutRow]
    notes: list[str]
    value: ValueOut | None = None


class ClvOut(CustomersFit):
    by_source: dict[str, CustomersFit]


@router.get("/clv", response_model=ClvOut)
def get_clv(
    org: ApiOrg,
    db: DB,
    period: Annotated[Literal["day", "week", "month"], Query()] = "week",
    calibration_end: Annotated[str | None, Query(pattern=DAY)] = None,
    holdout_end: Annotated[str | None, Query(pattern=DAY)] = None,
    currency: Currency = None,
) -> ClvOut:
    """BG/NBD and Gamma-Gamma fitted on the organization's sales, overall and per acquisition
    source (the partner of a customer's first sale, else organic), with each source's mean
    12-month discounted value: the JSON of ``crosspromo clv fit --org``."""
    fitted = organization_clv(
        db, org.id, period=period, calibration_end=calibration_end, holdout_end=holdout_end,
        currency=currency,
    )  # fmt: skip
    return ClvOut.model_validate(fitted.as_dict())


class Curve(BaseModel):
    customers: int
    events: int
    median: float | None
    times: list[float]
    survival: list[float]
    lower: list[float]
    upper: list[float]
    retained_90: float
    retained_365: float


class LogRankOut(BaseModel):
    statistic: float | None
    degrees_of_freedom: int
    p_value: float | None
    observed: dict[str, float]
    expected: dict[str, float]
    note: str | None


class HazardRatioOut(BaseModel):
    group: str
    hazard_ratio: float
    lower: float
    upper: float
    p_value: float


class CoxOut(BaseModel):
    baseline: str
    hazard_ratios: list[HazardRatioOut]
    concordance: float | None
    note: str | None


class CohortsOut(BaseModel):
    months: list[str]
    sizes: list[int]
    retention: list[list[float | None]]


class ChurnOut(BaseModel):
    inactivity_days: int
    end: str
    sources: dict[str, Curve]
    log_rank: LogRankOut
    cox: CoxOut
    cohorts: CohortsOut


@router.get("/churn", response_model=ChurnOut)
def get_churn(
    org: ApiOrg,
    db: DB,
    inactivity_days: Annotated[int, Query(ge=1, le=3650)] = 90,
    end: Annotated[str | None, Query(pattern=DAY)] = None,
    baseline: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    currency: Currency = None,
) -> ChurnOut:
    """Survival by acquisition source (Kaplan-Meier, log-rank, Cox) and monthly cohort
    retention of the organization's customers: the JSON of ``crosspromo churn --org``."""
    report = organization_churn(
        db, org.id, inactivity_days=inactivity_days, end=end, baseline=baseline,
        currency=currency,
    )  # fmt: skip
    return ChurnOut.model_validate(report.as_dict())


class PartnerKpisOut(BaseModel):
    partner: str
    month: str | None
    clicks: int
    leads: int
    sales: int
    revenue: float
    new_customers: int
    cost: float | None
    referral_conversion_rate: float | None
    cpa: float | None
    cost_per_lead: float | None
    roi: float | None
    clv_12m: float | None
    payback_months: float | None


class FairnessOut(BaseModel):
    partner: str
    received: float
    delivered: float
    share_received: float | None
    imbalanced: bool


class KpisOut(BaseModel):
    currency: str | None
    start: str
    end: str
    partners: list[PartnerKpisOut]
    months: list[PartnerKpisOut]
    organic_clv_12m: float | None
    fairness: list[FairnessOut]


@router.get("/kpis", response_model=KpisOut)
def get_kpis(
    org: ApiOrg,
    db: DB,
    start: Annotated[date | None, Query(description="first day; default a year back")] = None,
    end: Annotated[date | None, Query(description="last day; default the latest event")] = None,
    currency: Currency = None,
    imbalance: Annotated[float, Query(gt=0.5, lt=1)] = 0.7,
) -> KpisOut:
    """Partnership KPIs per partner and month (costs are not stored yet: cost, CPA, cost per
    lead, ROI and payback are null here; ``crosspromo kpis --costs FILE`` fills them)."""
    report = partner_kpis(db, org.id, start=start, end=end, currency=currency, imbalance=imbalance)
    return KpisOut.model_validate(report.as_dict())

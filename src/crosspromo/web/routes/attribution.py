"""Multi-touch attribution of an organization's tracked journeys (REST API v1)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from crosspromo.analytics.attribution import MODELS
from crosspromo.services.measure.attribution import ModelOptions, attribute_tracked
from crosspromo.web.deps import DB, ApiOrg
from crosspromo.web.schemas import PROBLEM_RESPONSES

router = APIRouter(prefix="/api/v1", tags=["attribution"], responses=PROBLEM_RESPONSES)
ModelName = Literal["all", *MODELS]  # type: ignore[valid-type]


class Credit(BaseModel):
    conversions: float
    value: float
    conversions_interval: tuple[float, float] | None = None  # 95%, with bootstrap only
    value_interval: tuple[float, float] | None = None


class ChannelCredit(Credit):
    channel: str


class PartnerCredit(Credit):
    partner: str


class ModelCredit(BaseModel):
    model: str
    channels: list[ChannelCredit]
    partners: list[PartnerCredit]


class AttributionOut(BaseModel):
    currency: str | None
    kind: str
    lookback_days: int
    journeys: int
    conversions: int
    untouched_conversions: int
    value: float
    models: list[ModelCredit]


@router.get("/attribution", response_model=AttributionOut, response_model_exclude_unset=True)
def get_attribution(
    org: ApiOrg,
    db: DB,
    model: Annotated[ModelName, Query(description="one model, or all")] = "all",
    order: Annotated[int, Query(ge=1, le=3, description="Markov chain order")] = 1,
    lookback_days: Annotated[int, Query(ge=1, le=366)] = 30,
    kind: Annotated[Literal["sale", "lead"], Query(description="conversions to credit")] = "sale",
    currency: Annotated[str | None, Query(pattern="^[A-Z]{3}$")] = None,
    half_life: Annotated[float, Query(gt=0, le=1000, description="time decay, in touches")] = 2.0,
    first_share: Annotated[float, Query(ge=0, le=1, description="position based")] = 0.4,
    last_share: Annotated[float, Query(ge=0, le=1, description="position based")] = 0.4,
    bootstrap: Annotated[
        int, Query(ge=0, le=500, description="rounds for 95% intervals; 0: none")
    ] = 0,
) -> AttributionOut:
    """Conversions and value (minor units of ``currency``) credited by channel and by partner.
    Journeys are built from imported touchpoints, tracked clicks and code uses."""
    tracked = attribute_tracked(
        db,
        org.id,
        model=model,
        options=ModelOptions(order, half_life, first_share, last_share),
        lookback_days=lookback_days,
        kind=kind,
        currency=currency,
        bootstrap_rounds=bootstrap,
    )
    return AttributionOut.model_validate(tracked.as_dict())

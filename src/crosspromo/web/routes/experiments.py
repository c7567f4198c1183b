"""Experiments (REST API v1): create, list, assign a unit, log exposures."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel, Field

from crosspromo.domain.experiments import Experiment
from crosspromo.services.measure import experiments as registry
from crosspromo.web.deps import DB, ApiOrg
from crosspromo.web.schemas import PROBLEM_RESPONSES

router = APIRouter(prefix="/api/v1", tags=["experiments"], responses=PROBLEM_RESPONSES)
ExperimentId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class ArmIn(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    weight: float = Field(default=1.0, gt=0, le=1e6)


class ExperimentIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    arms: list[ArmIn] | None = Field(
        default=None, min_length=2, max_length=20, description="control first; default: "
        "control, partner, brand"
    )  # fmt: skip
    layer: str = Field(default="default", min_length=1, max_length=64)
    traffic: tuple[float, float] = (0.0, 1.0)
    holdout: float = Field(default=0.0, ge=0, lt=1)


class ArmOut(BaseModel):
    name: str
    weight: float


class ExperimentOut(BaseModel):
    id: int
    name: str
    status: str
    control: str
    arms: list[ArmOut]
    layer: str
    traffic: tuple[float, float]
    holdout: float
    created_at: datetime


class ExperimentList(BaseModel):
    items: list[ExperimentOut]


class AssignmentOut(BaseModel):
    experiment_id: int
    unit: str
    arm: str | None = Field(description="null when the experiment does not take the unit")


class ExposureIn(BaseModel):
    unit: str = Field(min_length=1, max_length=320)
    exposed_at: AwareDatetime | None = None


class ExposuresIn(BaseModel):
    items: list[ExposureIn] = Field(min_length=1, max_length=registry.MAX_EXPOSURES)


class ExposuresOut(BaseModel):
    recorded: int
    already_recorded: int
    not_in_experiment: int
    by_arm: dict[str, int]


class MetricResultOut(BaseModel):
    mean: float | None
    lift_abs: float | None
    ci_abs: tuple[float, float] | None
    lift_rel: float | None
    ci_rel: tuple[float, float] | None
    p_value: float | None
    p_adjusted: float | None = Field(description="Holm, over every arm and metric")
    prob_beat_control: float | None
    expected_loss: float | None
    sequential_p_value: float | None
    note: str


class ArmResultOut(BaseModel):
    arm: str
    n: int
    metrics: dict[str, MetricResultOut]


class DecisionOut(BaseModel):
    action: str = Field(description="ship, keep_control, keep_running or investigate")
    arm: str | None
    reason: str


class ResultsOut(BaseModel):
    control: str
    alpha: float
    arms: list[ArmResultOut]
    srm_p_value: float | None
    omnibus_p_value: dict[str, float | None]
    decision: DecisionOut
    warnings: list[str]
    segments: dict[str, ResultsOut] = Field(default_factory=dict)


def _out(e: Experiment) -> ExperimentOut:
    d = e.design
    return ExperimentOut(
        id=e.id,
        name=e.name,
        status=e.status,
        control=d.control,
        arms=[ArmOut(name=a.name, weight=a.weight) for a in d.arms],
        layer=d.layer,
        traffic=d.traffic,
        holdout=d.holdout,
        created_at=e.created_at,
    )


@router.post("/experiments", response_model=ExperimentOut, status_code=201)
def create_experiment(body: ExperimentIn, org: ApiOrg, db: DB) -> ExperimentOut:
    """A running experiment: units are assigned by hashing, the same on every machine."""
    arms = [(a.name, a.weight) for a in body.arms] if body.arms else None
    created = registry.create_experiment(
        db, org.id, body.name, arms, layer=body.layer, traffic=body.traffic, holdout=body.holdout
    )
    return _out(created)


@router.get("/experiments", response_model=ExperimentList)
def list_experiments(org: ApiOrg, db: DB) -> ExperimentList:
    return ExperimentList(items=[_out(e) for e in registry.list_experiments(db, org.id)])


@router.get("/experiments/{experiment_id}", response_model=ExperimentOut)
def get_experiment(experiment_id: ExperimentId, org: ApiOrg, db: DB) -> ExperimentOut:
    return _out(registry.get_experiment(db, org.id, experiment_id))


@router.get("/experiments/{experiment_id}/assignment", response_model=AssignmentOut)
def get_assignment(
    experiment_id: ExperimentId,
    org: ApiOrg,
    db: DB,
    unit: Annotated[str, Query(min_length=1, max_length=320, description="the unit's id")],
) -> AssignmentOut:
    """The unit's arm: stable, computed from the experiment's salt and the unit id."""
    experiment = registry.get_experiment(db, org.id, experiment_id)
    return AssignmentOut(
        experiment_id=experiment.id, unit=unit, arm=registry.assign(experiment, unit)
    )


@router.post("/experiments/{experiment_id}/exposures", response_model=ExposuresOut)
def log_exposures(
    experiment_id: ExperimentId, body: ExposuresIn, org: ApiOrg, db: DB
) -> ExposuresOut:
    """Units that saw their arm; the arm is the assigned one, and only a unit's first
    exposure counts (replays are safe)."""
    done = registry.log_exposures(
        db, org.id, experiment_id, [(i.unit, i.exposed_at) for i in body.items]
    )
    return ExposuresOut.model_validate(done.as_dict())


@router.get("/experiments/{experiment_id}/results", response_model=ResultsOut)
def get_results(
    experiment_id: ExperimentId,
    org: ApiOrg,
    db: DB,
    window_days: Annotated[
        int, Query(ge=1, le=366, description="sales counted after exposure")
    ] = 30,
    alpha: Annotated[float, Query(gt=0, lt=1)] = 0.05,
) -> ResultsOut:
    """Every arm against the control: conversion (a sale within the window after exposure) and
    sales per unit, with lifts, intervals, p-values, the sample-ratio check and a decision."""
    _, report = registry.experiment_results(
        db, org.id, experiment_id, window_days=window_days, alpha=alpha
    )
    return ResultsOut.model_validate(report.as_dict())

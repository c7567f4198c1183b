"""Measure: multi-touch attribution of an organization's journeys, stored experiments (create,
list, assign, expose, results), customer value, churn and partnership KPIs by acquisition
source; the API and the dashboard's Attribution, Experiments and Customers tabs."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import AwareDatetime, BaseModel, Field

from crosspromo.analytics.attribution import MODELS
from crosspromo.analytics.attribution.journeys import OWN
from crosspromo.analytics.experiments.report import ExperimentReport
from crosspromo.domain import User
from crosspromo.domain.experiments import ExperimentMetric, ExperimentStatus
from crosspromo.errors import ConflictError, InvalidInputError, NotFoundError
from crosspromo.services.accounts.organizations import organization_names
from crosspromo.services.measure import experiments
from crosspromo.services.measure.attribution import Credit, ModelOptions, model_words
from crosspromo.services.measure.churn import ChurnReport, organization_churn
from crosspromo.services.measure.clv import ORGANIC, ClvReport, organization_clv
from crosspromo.services.measure.experiments import Assignment, ExperimentView, Exposures
from crosspromo.services.measure.journeys import AttributionReport, attribute_tracked
from crosspromo.services.measure.kpis import KpiReport, partner_kpis
from crosspromo.services.results import latest
from crosspromo.store.database import Database
from crosspromo.web.charts import BarChart, bar_chart, interval_chart, line_chart
from crosspromo.web.deps import DB, ApiOrg, check_csrf
from crosspromo.web.pages import AllTime, Csrf, Editor, Manager, chosen_range, page
from crosspromo.web.schemas import PROBLEM_RESPONSES, Listing, Since, Until

api = APIRouter(prefix="/api/v1", tags=["measure"], responses=PROBLEM_RESPONSES)
pages = APIRouter(include_in_schema=False)
ModelName = Literal["all", *MODELS]  # type: ignore[valid-type]
ExperimentId = Annotated[int, Field(ge=1, le=2**31 - 1)]
DAY = r"^\d{4}-\d{2}-\d{2}$"
Currency = Annotated[str | None, Query(pattern="^[A-Z]{3}$")]
Lookback = Annotated[int, Query(ge=1, le=366)]
Window = Annotated[int, Query(ge=1, le=366, description="sales counted after exposure")]


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
    start: bool = Field(default=True, description="false: a draft, started later")
    partner: str | None = Field(
        default=None, min_length=1, max_length=64, description="slug of the partner it involves"
    )
    metric: ExperimentMetric = Field(
        default=ExperimentMetric.CONVERTED,
        description="what the decision follows: converted (share of units who buy) or value "
        "(sales per unit); both are reported",
    )


class ExperimentStep(BaseModel):
    status: ExperimentStatus = Field(description="running (start), stopped or shipped")
    arm: str | None = Field(default=None, max_length=64, description="the arm to ship")


class ExposureIn(BaseModel):
    unit: str = Field(min_length=1, max_length=320)
    exposed_at: AwareDatetime | None = None


class ExposuresIn(BaseModel):
    items: list[ExposureIn] = Field(min_length=1, max_length=experiments.MAX_EXPOSURES)


@api.get("/attribution")
def get_attribution(
    org: ApiOrg,
    db: DB,
    model: Annotated[ModelName, Query(description="one model, or all")] = "all",
    order: Annotated[int, Query(ge=1, le=3, description="Markov chain order")] = 1,
    lookback_days: Lookback = 30,
    kind: Annotated[Literal["sale", "lead"], Query(description="conversions to credit")] = "sale",
    currency: Currency = None,
    half_life: Annotated[float, Query(gt=0, le=1000, description="time decay, in touches")] = 2.0,
    first_share: Annotated[float, Query(ge=0, le=1, description="position based")] = 0.4,
    last_share: Annotated[float, Query(ge=0, le=1, description="position based")] = 0.4,
    bootstrap: Annotated[
        int, Query(ge=0, le=500, description="rounds for 95% intervals; 0: none")
    ] = 0,
    start: Since = None,
    end: Until = None,
) -> AttributionReport:
    """Conversions and value (minor units of ``currency``) credited by channel and by partner.
    Journeys are built from imported touchpoints, tracked clicks and code uses."""
    return attribute_tracked(
        db, org.id, model=model, options=ModelOptions(order, half_life, first_share, last_share),
        lookback_days=lookback_days, kind=kind, currency=currency, bootstrap_rounds=bootstrap,
        start=start, end=end,
    )  # fmt: skip


@api.post("/experiments", status_code=201)
def create_experiment(body: ExperimentIn, org: ApiOrg, db: DB) -> ExperimentView:
    """An experiment, running unless ``start`` is false: units are assigned by hashing, the
    same on every machine."""
    arms = [(a.name, a.weight) for a in body.arms] if body.arms else None
    return experiments.create_experiment(
        db, org.id, body.name, arms, layer=body.layer, traffic=body.traffic,
        holdout=body.holdout, start=body.start, partner=body.partner, metric=body.metric,
    )  # fmt: skip


@api.post("/experiments/{experiment_id}/status")
def move_experiment(
    experiment_id: ExperimentId, body: ExperimentStep, org: ApiOrg, db: DB
) -> ExperimentView:
    """Start a draft, stop a running experiment, or ship an arm to every unit:
    draft → running → stopped → shipped (a running one may be shipped at once)."""
    return experiments.move_experiment(db, org.id, experiment_id, body.status, body.arm)


@api.get("/experiments")
def list_experiments(org: ApiOrg, db: DB) -> Listing[ExperimentView]:
    return Listing.of(experiments.list_experiments(db, org.id))


@api.get("/experiments/{experiment_id}")
def get_experiment(experiment_id: ExperimentId, org: ApiOrg, db: DB) -> ExperimentView:
    return experiments.get_experiment(db, org.id, experiment_id)


@api.get("/experiments/{experiment_id}/assignment")
def get_assignment(
    experiment_id: ExperimentId,
    org: ApiOrg,
    db: DB,
    unit: Annotated[str, Query(min_length=1, max_length=320, description="the unit's id")],
) -> Assignment:
    """The unit's arm: stable, computed from the experiment's salt and the unit id."""
    return experiments.assignment(db, org.id, experiment_id, unit)


@api.post("/experiments/{experiment_id}/exposures")
def log_exposures(experiment_id: ExperimentId, body: ExposuresIn, org: ApiOrg, db: DB) -> Exposures:
    """Units that saw their arm; the arm is the assigned one, and only a unit's first
    exposure counts (replays are safe)."""
    items = [(i.unit, i.exposed_at) for i in body.items]
    return experiments.log_exposures(db, org.id, experiment_id, items)


@api.get("/experiments/{experiment_id}/results")
def get_results(
    experiment_id: ExperimentId,
    org: ApiOrg,
    db: DB,
    window_days: Window = 30,
    alpha: Annotated[float, Query(gt=0, lt=1)] = 0.05,
) -> ExperimentReport:
    """Every arm against the control: conversion (a sale within the window after exposure) and
    sales per unit, with lifts, intervals, p-values, the sample-ratio check and a decision."""
    _, report = experiments.experiment_results(
        db, org.id, experiment_id, window_days=window_days, alpha=alpha
    )
    return report


@api.get("/clv")
def get_clv(
    org: ApiOrg,
    db: DB,
    period: Annotated[Literal["day", "week", "month"], Query()] = "week",
    calibration_end: Annotated[str | None, Query(pattern=DAY)] = None,
    holdout_end: Annotated[str | None, Query(pattern=DAY)] = None,
    currency: Currency = None,
) -> ClvReport:
    """BG/NBD and Gamma-Gamma fitted on the organization's sales, overall and per acquisition
    source (the partner of a customer's first sale, else organic), with each source's mean
    12-month discounted value: the JSON of ``crosspromo clv fit --org``."""
    return organization_clv(
        db, org.id, period=period, calibration_end=calibration_end, holdout_end=holdout_end,
        currency=currency,
    ).report()  # fmt: skip


@api.get("/churn")
def get_churn(
    org: ApiOrg,
    db: DB,
    inactivity_days: Annotated[int, Query(ge=1, le=3650)] = 90,
    end: Annotated[str | None, Query(pattern=DAY)] = None,
    baseline: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    currency: Currency = None,
) -> ChurnReport:
    """Survival by acquisition source (Kaplan-Meier, log-rank, Cox) and monthly cohort
    retention of the organization's customers: the JSON of ``crosspromo churn --org``."""
    return organization_churn(
        db, org.id, inactivity_days=inactivity_days, end=end, baseline=baseline,
        currency=currency,
    )  # fmt: skip


@api.get("/kpis")
def get_kpis(
    org: ApiOrg,
    db: DB,
    start: Annotated[date | None, Query(description="first day; default a year back")] = None,
    end: Annotated[date | None, Query(description="last day; default the latest event")] = None,
    currency: Currency = None,
    imbalance: Annotated[float, Query(gt=0.5, lt=1)] = 0.7,
) -> KpiReport:
    """Partnership KPIs per partner and month, with the recorded costs (``/costs``) and the
    approved commissions: cost, CPA, cost per lead, ROI and payback (null until a cost is
    recorded); and ``channels``: each partner beside the organization's own channels, sales,
    leads and revenue as one attribution model credits them, against what each cost."""
    return partner_kpis(db, org.id, start=start, end=end, currency=currency, imbalance=imbalance)


@pages.get("/attribution")
def attribution(
    request: Request, user: Manager, db: DB, lookback_days: Lookback = 30,
    kind: Literal["sale", "lead"] = "sale", start: Since = None, end: Until = None,
    measure: Literal["conversions", "value"] = "conversions",
) -> Response:  # fmt: skip
    """Every attribution model's credit per partner and per channel, side by side, in words,
    with 95% intervals, for the conversions of a range of days (all by default)."""
    chosen = None if start is None and end is None else chosen_range(start, end)
    ranged = chosen if chosen is not None and chosen.error is None else AllTime()
    found = latest.attribution(db, user.org_id, lookback_days, kind, ranged.start, ranged.end)
    result = found.value
    names = organization_names(db, (n for n, _ in result.table("partners")))
    partners = [(names.get(n, "Your own channels" if n == OWN else n), c)
                for n, c in result.table("partners")]  # fmt: skip
    channels = result.table("channels")
    models = [m.model for m in result.models]

    def chart(rows: list[tuple[str, list[Credit | None]]]) -> BarChart:
        values = {title: [_amount(cells[i], measure) for _, cells in rows]
                  for i, title in enumerate(model_words(m)[0] for m in models)}  # fmt: skip
        return bar_chart([name for name, _ in rows], values)

    return page(
        request, "measure/attribution.html", user=user, result=result, latest=found,
        models=[(m, *model_words(m)) for m in models], partner_rows=partners,
        channel_rows=channels, partner_chart=chart(partners), channel_chart=chart(channels),
        measure=measure, rounds=latest.BOOTSTRAP_ROUNDS, chosen=chosen or AllTime(),
        error=chosen.error if chosen else None, status_code=chosen.status_code if chosen else 200,
    )  # fmt: skip


def source_labels(db: Database, slugs: Iterable[str]) -> Callable[[str], str]:
    """Acquisition sources as a manager reads them: partners by name, "Organic" for none."""
    names = organization_names(db, [s for s in slugs if s != ORGANIC])

    def label(slug: str) -> str:
        return "Organic" if slug == ORGANIC else names.get(slug, slug)

    return label


def _amount(credit: Credit | None, measure: str) -> float:
    if credit is None:
        return 0.0
    return credit.value / 100 if measure == "value" else credit.conversions


def _experiments_page(
    request: Request, user: User, db: Database, *, status_code: int = 200, **context: object
) -> Response:
    found = experiments.experiments_page(db, user.org_id, window_days=30)
    words = {m.value: m.words for m in ExperimentMetric}
    items = [
        {"experiment": e, "report": report,
         "chart": interval_chart(report.lifts(words)) if report and report.lifts() else None}
        for e, report in found.items
    ]  # fmt: skip
    context = {"error": None, "form": {}, "made": None} | context
    slugs = {*found.partners, *(e.partner for e, _ in found.items if e.partner)}
    return page(request, "measure/experiments.html", user=user, items=items,
                currency=found.currency, partners=found.partners, window_days=30,
                names=organization_names(db, slugs),
                metrics=list(ExperimentMetric),
                metric_words=words,
                status_code=status_code, **context)  # fmt: skip


@pages.get("/experiments")
def experiments_page(request: Request, user: Manager, db: DB) -> Response:
    """Each experiment with its status and dates, its lifts with their intervals and what to
    do; a form to create one and buttons to start, stop and ship."""
    return _experiments_page(request, user, db)


@pages.post("/experiments")
def experiments_create(
    request: Request,
    user: Editor,
    db: DB,
    name: Annotated[str, Form(max_length=200)] = "",
    arms: Annotated[str, Form(max_length=2000)] = "control, partner, brand",
    layer: Annotated[str, Form(max_length=64)] = "default",
    share: Annotated[str, Form(max_length=8)] = "100",
    partner: Annotated[str, Form(max_length=64)] = "",
    metric: Annotated[str, Form(max_length=16)] = "converted",
    start: Annotated[str, Form(max_length=8)] = "",
    csrf: Csrf = "",
) -> Response:
    check_csrf(request, csrf)
    form = {"name": name, "arms": arms, "layer": layer, "share": share, "partner": partner,
            "metric": metric, "start": start}  # fmt: skip
    try:
        made = experiments.create_experiment(
            db, user.org_id, name, experiments.parse_arms(arms), layer=layer.strip(),
            traffic=(0.0, _share(share)), start=bool(start), partner=partner or None,
            metric=metric,
        )  # fmt: skip
    except (InvalidInputError, NotFoundError, ConflictError) as exc:
        return _experiments_page(request, user, db, error=exc.message, form=form,
                                 status_code=exc.http_status)  # fmt: skip
    return _experiments_page(request, user, db, made=made)


def _share(text: str) -> float:
    """The share of the layer's traffic, typed in percent (1-100)."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value <= 100:
        raise InvalidInputError("traffic share: a percentage above 0, at most 100", field="share")
    return value / 100


@pages.post("/experiments/{experiment_id}/status")
def experiments_move(
    request: Request,
    user: Editor,
    db: DB,
    experiment_id: ExperimentId,
    status: Annotated[ExperimentStatus, Form()],
    arm: Annotated[str, Form(max_length=64)] = "",
    csrf: Csrf = "",
) -> Response:
    """Start, stop or ship; a refusal (a clash in the layer) is shown on the page."""
    check_csrf(request, csrf)
    try:
        experiments.move_experiment(db, user.org_id, experiment_id, status, arm or None)
    except (InvalidInputError, ConflictError) as exc:
        return _experiments_page(request, user, db, error=exc.message,
                                 status_code=exc.http_status)  # fmt: skip
    return RedirectResponse(f"/experiments#experiment-{experiment_id}", status_code=303)


@pages.get("/customers")
def customers(request: Request, user: Manager, db: DB) -> Response:
    """Customer value and churn by acquisition source: which partners bring customers worth
    keeping."""
    try:
        found = latest.sources(db, user.org_id)
    except InvalidInputError as exc:
        return page(request, "measure/customers.html", user=user, problem=exc.message)
    value, churn, kpis = found.value.value, found.value.churn, found.value.kpis
    by_source = value.by_source or {}
    means = [(part.value.mean if part.value else 0.0) for part in by_source.values()]
    grid = list(range(0, 541, 15))
    cohorts = churn.cohorts
    label = source_labels(db, [*by_source, *churn.sources, *(k.partner for k in kpis.partners)])
    retained = {f"{label(name)} ({churn.sources[name].customers:,} customers)": shares
                for name, shares in churn.percent_retained(grid).items()}  # fmt: skip
    return page(
        request, "measure/customers.html", user=user, problem=None, value=value, churn=churn,
        latest=found, label=label,
        kpis=kpis, fairness={f.partner: f for f in kpis.fairness},
        model_title=model_words(kpis.channel_model)[0],
        value_chart=bar_chart([label(s) for s in by_source],
                              {"12-month value per customer": means}),
        survival_chart=line_chart([f"day {d}" for d in grid], retained, trim=4, totals=False),
        ratios={r.group: r for r in churn.cox.hazard_ratios},
        cohort_rows=list(zip(cohorts.months, cohorts.sizes, cohorts.retention, strict=True)),
    )  # fmt: skip

"""The dashboard (owners, managers, analysts) and the partner portal (partner users)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from crosspromo.analytics.attribution import Attribution
from crosspromo.analytics.discovery.score import FACTORS, OVERLAP_BAND
from crosspromo.domain import PartnershipStatus, User
from crosspromo.errors import (
    AuthenticationError,
    InvalidInputError,
    NotFoundError,
    TooManyAttemptsError,
)
from crosspromo.services.accounts.overview import organization_overview
from crosspromo.services.accounts.users import authenticate_user
from crosspromo.services.agree.partnerships import list_partnerships, parse_status
from crosspromo.services.discover import ranking as discovery
from crosspromo.services.measure import experiments as registry
from crosspromo.services.measure.attribution import Credited, attribute_tracked
from crosspromo.services.measure.churn import organization_churn
from crosspromo.services.measure.clv import organization_clv
from crosspromo.services.measure.kpis import partner_kpis, source_values
from crosspromo.services.track import stats
from crosspromo.services.track.links import partner_links
from crosspromo.web.charts import BarChart, bar_chart, interval_chart, line_chart, stacked_bars
from crosspromo.web.deps import DB, SESSION_USER, check_csrf, csrf_token, session_user
from crosspromo.web.routes.stats import daily_csv_response

router = APIRouter(include_in_schema=False)


def _home(user: User) -> str:
    return "/portal" if user.role.uses_portal else "/"


def _page(request: Request, name: str, status_code: int = 200, **context: object) -> HTMLResponse:
    templates = request.app.state.templates
    context.setdefault("csrf", csrf_token(request))
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    assert isinstance(response, HTMLResponse)
    return response


@router.get("/login")
def login_form(request: Request, db: DB) -> Response:
    user = session_user(request, db)
    if user is not None:
        return RedirectResponse(_home(user), status_code=303)
    return _page(request, "login.html", email="", error=None)


@router.post("/login")
def login(
    request: Request,
    db: DB,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    check_csrf(request, csrf)
    try:
        user = authenticate_user(db, email, password)
    except (AuthenticationError, TooManyAttemptsError) as exc:
        status = exc.http_status
        return _page(request, "login.html", status_code=status, email=email, error=exc.message)
    request.session.clear()
    request.session[SESSION_USER] = user.id
    return RedirectResponse(_home(user), status_code=303)


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
    check_csrf(request, csrf)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/")
def overview(request: Request, db: DB, status: str | None = None) -> Response:
    user = session_user(request, db)
    if user is None or user.role.uses_portal:
        return RedirectResponse("/login" if user is None else "/portal", status_code=303)
    data = organization_overview(db, user.org_id, parse_status(status))
    return _page(
        request,
        "overview.html",
        user=user,
        data=data,
        statuses=list(PartnershipStatus),
        selected=status,
    )


@router.get("/partials/partnerships")
def partnerships_table(request: Request, db: DB, status: str | None = None) -> Response:
    """The partnership table alone, for HTMX to swap in when a status filter is chosen."""
    user = session_user(request, db)
    if user is None:
        raise AuthenticationError("log in first")
    views = list_partnerships(db, user.org_id, parse_status(status))
    return _page(request, "_partnerships.html", partnerships=views, portal=user.role.uses_portal)


@router.get("/portal")
def portal(request: Request, db: DB) -> Response:
    user = session_user(request, db)
    if user is None or not user.role.uses_portal:
        return RedirectResponse("/login" if user is None else "/", status_code=303)
    data = organization_overview(db, user.org_id)
    shared = partner_links(db, user.org_id)
    return _page(request, "portal.html", user=user, data=data, links=shared)


@router.get("/tracking")
def tracking(
    request: Request, db: DB, start: date | None = Query(None, alias="from"),
    end: date | None = Query(None, alias="to"),
) -> Response:  # fmt: skip
    """Clicks and conversions per day and partner, with the table and a CSV export."""
    user = session_user(request, db)
    if user is None or user.role.uses_portal:
        return RedirectResponse("/login" if user is None else "/portal", status_code=303)
    first, last = stats.date_range(start, end, latest=stats.latest_day(db, user.org_id))
    rows = stats.daily_stats(db, user.org_id, first, last)
    days = [str(first + timedelta(days=i)) for i in range((last - first).days + 1)]
    clicks: dict[str, list[int]] = {}
    conversions: dict[str, list[int]] = {}
    for row in rows:
        index = days.index(row.day)
        clicks.setdefault(row.partner, [0] * len(days))[index] += row.clicks
        conversions.setdefault(row.partner, [0] * len(days))[index] += row.leads + row.sales
    return _page(
        request, "tracking.html", user=user, data=organization_overview(db, user.org_id),
        rows=rows, start=first, end=last, click_chart=line_chart(days, clicks),
        conversion_chart=line_chart(days, conversions),
    )  # fmt: skip


@router.get("/attribution")
def attribution(
    request: Request, db: DB, lookback_days: int = Query(30, ge=1, le=366),
    kind: Literal["sale", "lead"] = "sale",
) -> Response:  # fmt: skip
    """Every attribution model's credit per partner and per channel, side by side."""
    user = session_user(request, db)
    if user is None or user.role.uses_portal:
        return RedirectResponse("/login" if user is None else "/portal", status_code=303)
    result = attribute_tracked(db, user.org_id, lookback_days=lookback_days, kind=kind)
    models = [r.channels.model for r in result.results]

    def table(pick: Callable[[Credited], Attribution]) -> list[tuple[str, list[float]]]:
        credit: dict[str, list[float]] = {}
        for m, credited in enumerate(result.results):
            chosen = pick(credited)
            for name, n in zip(chosen.channels, chosen.conversions, strict=True):
                credit.setdefault(name, [0.0] * len(models))[m] = float(n)
        return sorted(credit.items(), key=lambda item: -item[1][-1])  # by the last model

    def chart(rows: list[tuple[str, list[float]]]) -> BarChart:
        return bar_chart(
            [name for name, _ in rows],
            {m: [values[i] for _, values in rows] for i, m in enumerate(models)},
        )

    partners = table(lambda c: c.partners)
    channels = table(lambda c: c.channels)
    return _page(
        request, "attribution.html", user=user, data=organization_overview(db, user.org_id),
        result=result, models=models, partner_rows=partners, partner_chart=chart(partners),
        channel_chart=chart(channels),
    )  # fmt: skip


@router.get("/experiments")
def experiments(request: Request, db: DB, window_days: int = Query(30, ge=1, le=366)) -> Response:
    """Each experiment's lifts with their intervals, warnings and decision."""
    user = session_user(request, db)
    if user is None or user.role.uses_portal:
        return RedirectResponse("/login" if user is None else "/portal", status_code=303)
    items = []
    for experiment in registry.list_experiments(db, user.org_id):
        _, report = registry.experiment_results(
            db, user.org_id, experiment.id, window_days=window_days
        )
        rows = [
            (f"{arm.arm} · {name}", c.lift_rel, c.ci_rel[0], c.ci_rel[1],
             c.p_adjusted is not None and c.p_adjusted < report.alpha)
            for arm in report.arms[1:]
            for name, m in arm.metrics.items()
            if (c := m.comparison) is not None and c.lift_rel is not None and c.ci_rel
        ]  # fmt: skip
        arms = ", ".join(f"{a.name} {a.weight:g}" for a in experiment.design.arms)
        items.append(
            {"experiment": experiment, "report": report, "chart": interval_chart(rows),
             "arms": arms}
        )  # fmt: skip
    return _page(
        request, "experiments.html", user=user, data=organization_overview(db, user.org_id),
        items=items, window_days=window_days,
    )  # fmt: skip


@router.get("/customers")
def customers(request: Request, db: DB) -> Response:
    """Customer value and churn by acquisition source: which partners bring customers worth
    keeping."""
    user = session_user(request, db)
    if user is None or user.role.uses_portal:
        return RedirectResponse("/login" if user is None else "/portal", status_code=303)
    overview = organization_overview(db, user.org_id)
    try:
        value = organization_clv(db, user.org_id).as_dict()
        survival = organization_churn(db, user.org_id)
        kpis = partner_kpis(db, user.org_id, values=source_values(value)).as_dict()
    except InvalidInputError as exc:
        return _page(request, "customers.html", user=user, data=overview, problem=exc.message)
    sources = list(value["by_source"])
    means = [(value["by_source"][s].get("value") or {"mean": 0.0})["mean"] for s in sources]
    grid = list(range(0, 541, 15))
    curves = {
        name: [round(100 * curve.at(day)) for day in grid]
        for name, curve in survival.curves.items()
    }
    churn = survival.as_dict()
    cohorts = churn["cohorts"]
    return _page(
        request, "customers.html", user=user, data=overview, problem=None, value=value,
        churn=churn, kpis=kpis, fairness={f["partner"]: f for f in kpis["fairness"]},
        value_chart=bar_chart(sources, {"12-month value per customer": means}),
        survival_chart=line_chart([f"day {d}" for d in grid], curves, trim=4),
        ratios={r["group"]: r for r in churn["cox"]["hazard_ratios"]},
        cohort_rows=list(zip(cohorts["months"], cohorts["sizes"], cohorts["retention"],
                             strict=True)),
    )  # fmt: skip


@router.get("/partners")
def partners(request: Request, db: DB) -> Response:
    """Who to partner with next: ranked candidates with each factor's part, the reasons,
    measured overlaps against the target band, and bundles."""
    user = session_user(request, db)
    if user is None or user.role.uses_portal:
        return RedirectResponse("/login" if user is None else "/portal", status_code=303)
    overview = organization_overview(db, user.org_id)
    try:
        ranking = discovery.ranking_dict(discovery.rank(db, user.org_id, top=12))
    except NotFoundError as exc:
        return _page(request, "partners.html", user=user, data=overview, problem=exc.message)
    candidates = ranking["candidates"]
    rows = [
        (c["org"], c["parts"], f"{c['score']:.2f}" + (" competitor" if c["competitor"] else ""),
         c["competitor"])
        for c in candidates
    ]  # fmt: skip
    measured = [c for c in candidates if c["overlap"]]
    low, high = OVERLAP_BAND
    overlap_chart = bar_chart(
        [c["org"].split("-")[0] for c in measured],  # short labels: the slugs' first words
        {"our customers they share (%)": [100 * c["overlap"]["rate_ours"] for c in measured],
         "their customers we share (%)": [100 * c["overlap"]["rate_theirs"] for c in measured]},
        band=(100 * low, 100 * high, f"target {low:.0%}-{high:.0%}"),
    )  # fmt: skip
    return _page(
        request, "partners.html", user=user, data=overview, problem=None, ranking=ranking,
        score_chart=stacked_bars(rows, list(FACTORS)), overlap_chart=overlap_chart,
    )  # fmt: skip


@router.get("/partners/outreach")
def partner_outreach(
    request: Request, db: DB, candidate: str = Query(..., max_length=64, pattern="^[a-z0-9-]+$")
) -> Response:
    """A drafted introduction to one candidate, citing the evidence."""
    user = session_user(request, db)
    if user is None or user.role.uses_portal:
        return RedirectResponse("/login" if user is None else "/portal", status_code=303)
    overview = organization_overview(db, user.org_id)
    text = discovery.outreach_draft(db, user.org_id, candidate)
    return _page(request, "outreach.html", user=user, data=overview, candidate=candidate, text=text)


@router.get("/tracking.csv")
def tracking_csv(
    request: Request, db: DB, start: date | None = Query(None, alias="from"),
    end: date | None = Query(None, alias="to"),
) -> Response:  # fmt: skip
    user = session_user(request, db)
    if user is None or user.role.uses_portal:
        raise AuthenticationError("log in to the dashboard first")
    return daily_csv_response(db, user.org_id, "tracking", start, end)

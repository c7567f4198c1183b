"""``crosspromo experiment``: sample sizes, and the analysis of an experiment's units."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from crosspromo.analytics.experiments.report import ExperimentReport, MetricResult
from crosspromo.cli.main import deferred
from crosspromo.cli.output import FORMAT_OPTION, OutputFormat, console, emit
from crosspromo.domain.experiments import ExperimentStatus
from crosspromo.errors import InvalidInputError
from crosspromo.services.measure.design import bandit_regret, sample_size

if TYPE_CHECKING:
    from crosspromo.cli import context
    from crosspromo.services.measure import analysis, experiments
else:  # the settings, the store and the warehouse: not for designing an experiment
    context = deferred("crosspromo.cli.context")
    analysis = deferred("crosspromo.services.measure.analysis")
    experiments = deferred("crosspromo.services.measure.experiments")

experiment_app = typer.Typer(no_args_is_help=True)


@experiment_app.command("power")
def power_command(
    baseline: float = typer.Option(..., help="control's rate (or mean, with --sd)"),
    mde: float = typer.Option(..., help="smallest relative change worth detecting, e.g. 0.10"),
    alpha: float = typer.Option(0.05, help="significance level (family-wise over the arms)"),
    power: float = typer.Option(0.8, help="chance of detecting the change when it is real"),
    arms: int = typer.Option(2, help="arms including the control"),
    sd: float | None = typer.Option(None, help="for a mean metric: the units' standard deviation"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Units each arm needs to detect a relative change MDE of BASELINE."""
    emit(sample_size(baseline, mde, alpha=alpha, power_level=power, arms=arms, sd=sd), fmt)


@experiment_app.command("analyze")
def analyze_command(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="one row per unit: .csv or .parquet"),
    arm_column: str = typer.Option(..., help="column naming each unit's arm"),
    control: str = typer.Option(..., help="the control arm's name"),
    metric: list[str] = typer.Option(
        ...,
        help="NAME:binary, NAME:mean or NAME:ratio:DENOMINATOR (NAME is the column); "
        "the first is the primary metric",
    ),
    guardrail: list[str] = typer.Option(
        [], help="a metric that must not rise (same form as --metric), e.g. unsubscribed:binary"
    ),
    covariate: list[str] = typer.Option(
        [], help="pre-period column for CUPED: COLUMN for every metric, or METRIC=COLUMN"
    ),
    weight: list[str] = typer.Option(
        [], help="designed share of an arm, ARM=WEIGHT (repeat; equal shares when none given)"
    ),
    segment: str | None = typer.Option(
        None, help="a column to break the results down by (each value analyzed apart)"
    ),
    look_column: str | None = typer.Option(
        None, help="each unit's date of entry: adds always-valid p-values over the daily looks"
    ),
    alpha: float = typer.Option(0.05, help="significance level"),
    planned: int | None = typer.Option(None, help="planned units per arm (keep running below)"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Every arm against the control, per metric, and what to do."""
    specs = [analysis.parse_metric(m) for m in metric] + [
        analysis.parse_metric(g, guardrail=True) for g in guardrail
    ]
    specs = analysis.with_covariates(specs, covariate)
    report = analysis.analyze_file(
        context.settings(ctx), file, arm_column, control, specs, alpha=alpha,
        planned_per_arm=planned, shares=analysis.parse_weights(weight), look_column=look_column,
        segment_column=segment,
    )  # fmt: skip
    _emit_report(report, fmt, sequential=look_column is not None, segment=segment)


def _emit_report(
    report: ExperimentReport, fmt: OutputFormat, *, sequential: bool, segment: str | None = None
) -> None:
    rows = [
        (arm.arm, arm.n, name, *_cells(m, sequential=sequential))
        for arm in report.arms
        for name, m in arm.metrics.items()
    ]
    emit(
        report,
        fmt,
        columns=("arm", "n", "metric", "mean", "lift", "95% interval", "p", "p (Holm)", "P(beat)")
        + (("p (always valid)",) if sequential else ()),
        rows=rows,
    )
    if fmt is OutputFormat.TABLE:
        decision = report.decision
        console.print(f"[bold]decision[/bold]: {decision.action} - {decision.reason}")
        for warning in report.warnings:
            console.print(f"[yellow]warning[/yellow]: {warning}")
        for value, part in report.segments.items():
            decision = part.decision
            console.print(
                f"[bold]{segment} = {value}[/bold]: {decision.action} - {decision.reason}"
            )


def _cells(m: MetricResult, *, sequential: bool) -> tuple[str, ...]:
    def number(value: float | None, form: str) -> str:
        return "" if value is None else format(value, form)

    interval = m.ci_rel
    return (
        number(m.mean, ".6g"),
        number(m.lift_rel, "+.2%"),
        "" if interval is None else f"{interval[0]:+.2%} to {interval[1]:+.2%}",
        number(m.p_value, ".3g"),
        number(m.p_adjusted, ".3g"),
        number(m.prob_beat_control, ".3f"),
    ) + ((number(m.sequential_p_value, ".3g"),) if sequential else ())


@experiment_app.command("uplift")
def uplift_command(
    file: Path = typer.Argument(..., help="one row per unit: .csv or .parquet"),
    arm_column: str = typer.Option(..., help="column naming each unit's arm"),
    control: str = typer.Option(..., help="the control arm"),
    treatment: str = typer.Option(..., help="the arm whose effect to model, e.g. partner"),
    outcome: str = typer.Option(..., help="outcome column (0/1 or a number)"),
    feature: list[str] = typer.Option(..., help="a feature column (repeat)"),
    learner: str = typer.Option("x", help="t (two models) or x (X-learner)"),
    out: Path | None = typer.Option(None, help="write every unit's predicted uplift here"),
    seed: int = typer.Option(0, help="seed of the half used for fitting"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Which units the treatment moves most: fit on half, judge on the other half (Qini)."""
    result = analysis.uplift_file(
        file, arm_column, control, treatment, outcome, feature, learner=learner, out=out,
        seed=seed,
    )  # fmt: skip
    emit(result, fmt)


@experiment_app.command("bandit-simulate")
def bandit_simulate(
    rate: list[float] = typer.Option(..., help="true conversion rate of an arm (repeat)"),
    units: int = typer.Option(20_000, help="units to allocate"),
    batch: int = typer.Option(100, help="units allocated between posterior updates"),
    seed: int = typer.Option(0),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Thompson sampling against uniform allocation on arms with known rates: the regret."""
    result = bandit_regret(rate, units, batch, seed)
    rows = [(a.arm, a.true_rate, a.thompson_units) for a in result.arms]
    emit(result, fmt, columns=("arm", "true rate", "units (Thompson)"), rows=rows)
    if fmt is OutputFormat.TABLE:
        console.print(
            f"regret: Thompson {result.thompson_regret:.1f} vs uniform "
            f"{result.uniform_regret:.1f} conversions lost (ratio {result.regret_ratio or 0:.3f})"
        )


@experiment_app.command("create")
def create_command(
    ctx: typer.Context,
    org: str = typer.Option(..., help="slug of the organization running it"),
    name: str = typer.Option(..., help="what is tested"),
    arm: list[str] = typer.Option(
        [], help="ARM=WEIGHT, control first (repeat); default control, partner, brand"
    ),
    layer: str = typer.Option("default", help="experiments of a layer never share a unit"),
    traffic: str = typer.Option("0,1", help="the layer's slice this experiment takes: START,STOP"),
    holdout: float = typer.Option(0.0, help="the layer's share held out of every experiment"),
    partner: str | None = typer.Option(None, help="slug of the partner it involves, if any"),
    draft: bool = typer.Option(False, help="make it a draft, started later with `start`"),
    metric: str = typer.Option(
        "converted", help="what the decision follows: converted (share who buy) or value"
    ),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Make an experiment, running at once unless --draft; units are assigned by hashing, the
    same on every machine."""
    try:
        start, stop = (float(x) for x in traffic.split(","))
    except ValueError:
        raise InvalidInputError("traffic is START,STOP, e.g. 0,0.5", field="traffic") from None
    weights = analysis.parse_weights(arm)
    arms = list(weights.items()) if weights else None
    created = experiments.create_experiment(
        *context.organization(ctx, org), name, arms, layer=layer, traffic=(start, stop),
        holdout=holdout, start=not draft, partner=partner, metric=metric,
    )  # fmt: skip
    emit(created, fmt)


def _move(ctx: typer.Context, org: str, experiment: int, target: ExperimentStatus,
          arm: str | None, fmt: OutputFormat) -> None:  # fmt: skip
    emit(experiments.move_experiment(*context.organization(ctx, org), experiment, target, arm), fmt)


@experiment_app.command("start")
def start_command(
    ctx: typer.Context,
    org: str = typer.Option(..., help="slug of the organization"),
    experiment: int = typer.Option(..., help="experiment id"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Start a draft: from now on its units get their arms and exposures count."""
    _move(ctx, org, experiment, ExperimentStatus.RUNNING, None, fmt)


@experiment_app.command("stop")
def stop_command(
    ctx: typer.Context,
    org: str = typer.Option(..., help="slug of the organization"),
    experiment: int = typer.Option(..., help="experiment id"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Stop a running experiment: no unit gets an arm any more; its results stay."""
    _move(ctx, org, experiment, ExperimentStatus.STOPPED, None, fmt)


@experiment_app.command("ship")
def ship_command(
    ctx: typer.Context,
    org: str = typer.Option(..., help="slug of the organization"),
    experiment: int = typer.Option(..., help="experiment id"),
    arm: str = typer.Option(..., help="the arm every unit gets from now on"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Ship one arm of a stopped (or running) experiment to every unit."""
    _move(ctx, org, experiment, ExperimentStatus.SHIPPED, arm, fmt)


@experiment_app.command("list")
def list_command(
    ctx: typer.Context,
    org: str = typer.Option(..., help="slug of the organization"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """The organization's experiments."""
    found = experiments.list_experiments(*context.organization(ctx, org))
    rows = [
        (e.id, e.name, e.status, ", ".join(f"{a.name}={a.weight:g}" for a in e.arms), e.layer,
         f"{e.traffic[0]:g}-{e.traffic[1]:g}")
        for e in found
    ]  # fmt: skip
    emit(found, fmt, columns=("id", "name", "status", "arms", "layer", "traffic"), rows=rows)


@experiment_app.command("assign")
def assign_command(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="the audience: .csv or .parquet, one row per unit"),
    org: str = typer.Option(..., help="slug of the organization"),
    experiment: int = typer.Option(..., help="experiment id"),
    unit_column: str = typer.Option(..., help="column holding each unit's id"),
    out: Path = typer.Option(..., help="where to write the audience with an arm column"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Assign a whole audience file: the same arms the API gives, unit by unit."""
    assigned = experiments.assign_file(
        *context.organization(ctx, org), experiment, file, unit_column, out
    )
    emit(assigned, fmt)


@experiment_app.command("expose")
def expose_command(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="who saw their arm: .csv or .parquet, a unit per row"),
    org: str = typer.Option(..., help="slug of the organization"),
    experiment: int = typer.Option(..., help="experiment id"),
    unit_column: str = typer.Option(..., help="column holding each unit's id"),
    time_column: str | None = typer.Option(
        None, help="column with each exposure's time (ISO 8601 with a zone); default: now"
    ),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Log exposures from a file, all or nothing: each unit's first exposure counts, in the
    arm it is assigned (replays add nothing)."""
    db, org_id = context.organization(ctx, org)
    emit(experiments.expose_file(db, org_id, experiment, file, unit_column, time_column), fmt)


@experiment_app.command("results")
def results_command(
    ctx: typer.Context,
    org: str = typer.Option(..., help="slug of the organization"),
    experiment: int = typer.Option(..., help="experiment id"),
    window_days: int = typer.Option(30, help="sales within this many days of exposure count"),
    alpha: float = typer.Option(0.05, help="significance level"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """A stored experiment's results, as GET /api/v1/experiments/{id}/results gives them:
    each exposed unit's sales after exposure, arm against control, with always-valid p-values
    over the days of exposure."""
    _, report = experiments.experiment_results(
        *context.organization(ctx, org), experiment, window_days=window_days, alpha=alpha
    )
    _emit_report(report, fmt, sequential=True)

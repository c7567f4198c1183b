"""Customers by acquisition source: ``crosspromo clv`` (fit the purchase and spend models,
score customers), ``churn`` (survival and cohorts) and ``kpis`` (partnership KPIs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from crosspromo.analytics.survival import HazardRatio
from crosspromo.cli.context import organization, settings
from crosspromo.cli.output import FORMAT_OPTION, OutputFormat, console, emit
from crosspromo.domain.clock import parse_date
from crosspromo.errors import InvalidInputError
from crosspromo.services.measure import clv
from crosspromo.services.measure.attribution import model_words
from crosspromo.services.measure.churn import churn_file, organization_churn
from crosspromo.services.measure.clv import ClvFit, ClvReport, TransactionColumns
from crosspromo.services.measure.kpis import partner_kpis, read_costs

clv_app = typer.Typer(no_args_is_help=True)
churn_app = typer.Typer()
kpis_app = typer.Typer()

FILE = typer.Argument(None, help="transaction log: .csv or .parquet, one row per purchase")
SUMMARY = typer.Option(
    None, help="a ready summary instead: columns frequency, recency, T, monetary_value"
)
CUSTOMER = typer.Option("customer", help="column naming the customer")
DATE = typer.Option("date", help="column with the purchase date")
AMOUNT = typer.Option(None, help="column with the purchase amount (spend model needs it)")
PERIOD = typer.Option("week", help="time unit of the models: day, week or month")
CALIBRATION = typer.Option(None, help="last day fitted (YYYY-MM-DD); default: the last purchase")
HOLDOUT = typer.Option(None, help="last day of the holdout checked against the fit (YYYY-MM-DD)")
PENALIZER = typer.Option(0.0, help="L2 penalty on the parameters (0: plain maximum likelihood)")
ORG = typer.Option(None, help="an organization's own sales instead of a file (by source)")
SOURCE = typer.Option(
    None, help="column naming each customer's acquisition source: fit and value each source"
)


def _fit(
    ctx: typer.Context,
    file: Path | None,
    summary: Path | None,
    customer: str,
    date: str,
    amount: str | None,
    period: str,
    calibration_end: str | None,
    holdout_end: str | None,
    penalizer: float,
    source: str | None = None,
    org: str | None = None,
) -> ClvFit:
    if sum(x is not None for x in (file, summary, org)) != 1:
        raise InvalidInputError(
            "give one of: a transaction FILE, --summary FILE, --org SLUG", field="file"
        )
    if org is not None:
        return clv.organization_clv(
            *organization(ctx, org), period=period, calibration_end=calibration_end,
            holdout_end=holdout_end,
        )  # fmt: skip
    if summary is not None:
        table = clv.read_summary(summary, source)
    else:
        assert file is not None
        columns = TransactionColumns(customer, date, amount, source)
        table = clv.summarize_file(
            settings(ctx), file, columns, period=period,
            calibration_end=calibration_end, holdout_end=holdout_end,
        )  # fmt: skip
    return clv.fit(table, period, penalizer, by_source=source is not None)


@clv_app.command("fit")
def fit_command(
    ctx: typer.Context,
    file: Path | None = FILE,
    summary: Path | None = SUMMARY,
    customer_column: str = CUSTOMER,
    date_column: str = DATE,
    amount_column: str | None = AMOUNT,
    period: str = PERIOD,
    calibration_end: str | None = CALIBRATION,
    holdout_end: str | None = HOLDOUT,
    penalizer: float = PENALIZER,
    source_column: str | None = SOURCE,
    org: str | None = ORG,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Fit BG/NBD (purchases) and Gamma-Gamma (spend per purchase) by maximum likelihood."""
    fitted = _fit(
        ctx, file, summary, customer_column, date_column, amount_column, period,
        calibration_end, holdout_end, penalizer, source_column, org,
    )  # fmt: skip
    report = fitted.report()
    parts: dict[str, ClvReport] = {"all": report, **(report.by_source or {})}
    parameters = {"bgnbd": ("r", "alpha", "a", "b", "log_likelihood"), "gamma_gamma": "pqv"}
    rows = [
        (part, model, k, _number(getattr(getattr(found, model), k)))
        for part, found in parts.items()
        for model, names in parameters.items()
        for k in names
    ]
    rows += [
        (part, "value", f"{found.value.months} months",
         f"{found.value.mean:.2f} ({found.value.lower:.2f} to {found.value.upper:.2f})")
        for part, found in parts.items()
        if found.value
    ]  # fmt: skip
    emit(report, fmt, columns=("customers", "model", "parameter", "value"), rows=rows)
    if fmt is OutputFormat.TABLE:
        console.print(
            f"{report.customers:,} customers, {report.repeat_buyers:,} bought again; "
            f"times in {period}s"
        )
        checks = report.calibration_holdout
        if checks:
            console.print("holdout purchases per customer, by repeat purchases in calibration:")
        for row in checks:
            most = "+" if row is checks[-1] else ""
            console.print(
                f"  {row.frequency}{most}: {row.customers:,} customers, actual "
                f"{row.actual:.3f}, predicted {_number(row.predicted)}"
            )
        for note in report.notes:
            console.print(f"[yellow]note[/yellow]: {note}")


@clv_app.command("predict")
def predict_command(
    ctx: typer.Context,
    file: Path | None = FILE,
    summary: Path | None = SUMMARY,
    customer_column: str = CUSTOMER,
    date_column: str = DATE,
    amount_column: str | None = AMOUNT,
    period: str = PERIOD,
    calibration_end: str | None = CALIBRATION,
    penalizer: float = PENALIZER,
    horizon: float = typer.Option(..., help="periods ahead for expected purchases, e.g. 39"),
    months: int = typer.Option(12, help="months of discounted value"),
    discount: float = typer.Option(0.01, help="monthly discount rate for the value"),
    out: Path = typer.Option(..., help="where to write one row per customer (.csv or .parquet)"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Fit, then write each customer's expected purchases, P(alive), spend and value."""
    fitted = _fit(
        ctx, file, summary, customer_column, date_column, amount_column, period,
        calibration_end, None, penalizer,
    )  # fmt: skip
    emit(clv.predict_file(fitted, horizon, out, months=months, monthly_discount=discount), fmt)


def _number(value: Any) -> str:
    return "" if value is None else f"{value:.6g}"


@churn_app.command()
def churn_command(
    ctx: typer.Context,
    file: Path | None = FILE,
    org: str | None = ORG,
    customer_column: str = CUSTOMER,
    date_column: str = DATE,
    source_column: str | None = typer.Option(
        None, help="column naming each purchase's acquisition source (partner, organic ...)"
    ),
    inactivity_days: int = typer.Option(90, help="days without a purchase that count as churn"),
    end: str | None = typer.Option(None, help="end of the data (YYYY-MM-DD); default: last day"),
    baseline: str | None = typer.Option(
        None, help="source the hazard ratios compare with; default organic, else the largest"
    ),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Survival by acquisition source (Kaplan-Meier, log-rank, Cox) and monthly cohorts."""
    if (file is None) == (org is None):
        raise InvalidInputError("give a transaction FILE or --org SLUG", field="file")
    options: dict[str, Any] = {"inactivity_days": inactivity_days, "end": end, "baseline": baseline}
    if org is not None:
        report = organization_churn(*organization(ctx, org), **options)
    else:
        assert file is not None
        columns = TransactionColumns(customer_column, date_column, source=source_column)
        report = churn_file(settings(ctx), file, columns, **options)
    ratios = {r.group: r for r in report.cox.hazard_ratios}
    rows = [
        (name, s.customers, s.events, _number(s.median), f"{s.retained_90:.3f}",
         f"{s.retained_365:.3f}", _ratio(ratios.get(name)))
        for name, s in report.sources.items()
    ]  # fmt: skip
    columns_shown = ("source", "customers", "churned", "median days", "S(90)", "S(365)",
                     f"hazard vs {report.cox.baseline}")  # fmt: skip
    emit(report, fmt, columns=columns_shown, rows=rows)
    if fmt is OutputFormat.TABLE:
        test = report.log_rank
        if test.p_value is not None and test.statistic is not None:
            console.print(
                f"log-rank: chi2 = {test.statistic:.2f}, df = {test.degrees_of_freedom}, "
                f"p = {test.p_value:.3g}"
            )
        for note in (test.note, report.cox.note):
            if note:
                console.print(f"[yellow]note[/yellow]: {note}")


def _ratio(r: HazardRatio | None) -> str:
    if r is None:
        return ""
    return f"{r.hazard_ratio:.3f} ({r.lower:.3f}-{r.upper:.3f}, p={r.p_value:.2g})"


@kpis_app.command()
def kpis_command(
    ctx: typer.Context,
    org: str = typer.Option(..., help="slug of the organization"),
    start: str | None = typer.Option(None, help="first day (YYYY-MM-DD); default a year back"),
    end: str | None = typer.Option(None, help="last day (YYYY-MM-DD); default the latest event"),
    costs: Path | None = typer.Option(
        None, help="spend per partner and month: .csv or .parquet with partner, month, cost"
    ),
    currency: str | None = typer.Option(None, help="currency of the sales (when several)"),
    imbalance: float = typer.Option(0.7, help="flag a partnership when one side gets more"),
    by_month: bool = typer.Option(False, "--by-month", help="a table row per partner and month"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Partnership KPIs per partner: new customers, leads, sales, revenue, referral conversion,
    with costs CPA, cost per lead, ROI and payback; customer value against organic; fairness."""
    report = partner_kpis(
        *organization(ctx, org), start=parse_date(start, "start"), end=parse_date(end, "end"),
        costs=read_costs(costs) if costs else None, currency=currency, imbalance=imbalance,
    )  # fmt: skip
    shown = report.months if by_month else report.partners
    rows = [
        (k.partner, k.month or "all", k.new_customers, k.leads, k.sales, f"{k.revenue:,.2f}",
         _number(k.referral_conversion_rate), _number(k.cost), _number(k.cpa),
         _number(k.cost_per_lead), _number(k.roi), _number(k.clv_12m), _number(k.payback_months))
        for k in shown
    ]  # fmt: skip
    columns = ("partner", "month", "new customers", "leads", "sales", "revenue",
               "referred leads bought", "cost", "CPA", "cost/lead", "ROI", "12-month value",
               "payback months")  # fmt: skip
    emit(report, fmt, columns=columns, rows=rows)
    if fmt is OutputFormat.TABLE:
        channels = Table(
            "partner or own channel", "credited sales", "credited leads", "revenue", "cost",
            "cost/sale", "cost/lead", "ROI",
            title=f"Partners beside own channels ({model_words(report.channel_model)[0]})",
        )  # fmt: skip
        for c in report.channels:
            channels.add_row(
                c.partner or f"own: {c.channel}", f"{c.sales:,.1f}", f"{c.leads:,.1f}",
                f"{c.revenue:,.2f}", _number(c.cost), _number(c.cost_per_sale),
                _number(c.cost_per_lead), _number(c.roi),
            )  # fmt: skip
        console.print(channels)
        organic = _number(report.organic_clv_12m)
        console.print(
            f"{report.start} to {report.end}, {report.currency or 'no sales'}; "
            f"organic customers' 12-month value {organic}"
        )
        for f in report.fairness:
            flag = " [yellow]imbalanced[/yellow]" if f.imbalanced else ""
            console.print(
                f"  with {f.partner}: received {f.received:,.2f}, delivered "
                f"{f.delivered:,.2f}{flag}"
            )

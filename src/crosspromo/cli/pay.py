"""Pay: commissions computed from the agreed rules, fraud holds, payouts, the ledger."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from crosspromo.cli.context import organization
from crosspromo.cli.output import FORMAT_OPTION, OutputFormat, emit
from crosspromo.domain.clock import parse_date
from crosspromo.errors import InvalidInputError
from crosspromo.services.pay import costs, details, earnings, fraud, holds, ledger, payouts
from crosspromo.services.pay.commissions import compute

ORG = typer.Option(..., help="slug of the organization")
AS_OF = typer.Option(None, "--as-of", help="judge as of this day, YYYY-MM-DD (default: today)")
BY = "command line"

ledger_app = typer.Typer(no_args_is_help=True)
commissions_app = typer.Typer(no_args_is_help=True)
payouts_app = typer.Typer(no_args_is_help=True)


@ledger_app.command("trial-balance")
def ledger_trial_balance(
    ctx: typer.Context, org: str = ORG, fmt: OutputFormat = FORMAT_OPTION
) -> None:
    """Debits and credits per currency of the organization's ledger (equal when it holds)."""
    db, org_id = organization(ctx, org)
    found = ledger.trial_balance(db, org_id)
    rows = [(c.currency, c.debits_minor, c.credits_minor) for c in found.currencies]
    emit(
        found,
        fmt,
        columns=("currency", "debits_minor", "credits_minor"),
        rows=rows,
        title=f"Trial balance of {org}",
    )


@commissions_app.command("compute")
def commissions_compute(
    ctx: typer.Context, org: str = ORG, as_of: str = AS_OF, fmt: OutputFormat = FORMAT_OPTION
) -> None:
    """Compute the brand's commissions from the agreed rules (again: nothing changes)."""
    db, org_id = organization(ctx, org)
    emit(compute(db, org_id, parse_date(as_of, "as_of")), fmt)


@commissions_app.command("summary")
def commissions_summary(
    ctx: typer.Context, org: str = ORG, as_of: str = AS_OF, fmt: OutputFormat = FORMAT_OPTION
) -> None:
    """Pending, approved, paid, held and reversed commissions per partner and currency."""
    db, org_id = organization(ctx, org)
    found = earnings.summary(db, org_id, parse_date(as_of, "as_of"))
    emit(
        found,
        fmt,
        columns=_EARNINGS,
        title=f"Commissions of {org}",
        rows=[[getattr(p, c) for c in _EARNINGS] for p in found.partners],
    )


_EARNINGS = (
    "partner",
    "currency",
    "pending_minor",
    "approved_minor",
    "paid_minor",
    "held_minor",
    "reversed_minor",
)


@commissions_app.command("holds")
def commissions_holds(
    ctx: typer.Context,
    org: str = ORG,
    status: str = typer.Option("open", help="open, approved, rejected or all"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Conversions held for review by the fraud checks, with their reasons."""
    db, org_id = organization(ctx, org)
    found = holds.holds(db, org_id, status=None if status == "all" else status)
    emit(found, fmt, fields=("id", "partner", "conversion_id", "check", "reason", "status", "note"))


@commissions_app.command("decide")
def commissions_decide(
    ctx: typer.Context,
    org: str = ORG,
    hold: int = typer.Option(..., "--hold", help="the hold's id"),
    decision: str = typer.Option(..., help="approve or reject"),
    note: str = typer.Option("", help="why, kept with the decision"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Approve or reject a held conversion's commission."""
    db, org_id = organization(ctx, org)
    emit(holds.decide(db, org_id, hold, decision, note, BY), fmt)


@commissions_app.command("fraud-settings")
def commissions_fraud_settings(
    ctx: typer.Context,
    org: str = ORG,
    set_: list[str] = typer.Option([], "--set", help="NAME=VALUE (a JSON value), repeatable"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Show the organization's fraud thresholds, or change some with --set."""
    db, org_id = organization(ctx, org)
    changes = {}
    for item in set_:
        name, sep, raw = item.partition("=")
        if not sep:
            raise InvalidInputError(f"--set {item!r} is not NAME=VALUE", field="set")
        try:
            changes[name.strip()] = json.loads(raw)
        except ValueError:
            changes[name.strip()] = raw
    emit(fraud.save_settings(db, org_id, changes), fmt)


@payouts_app.command("run")
def payouts_run(
    ctx: typer.Context, org: str = ORG, as_of: str = AS_OF, fmt: OutputFormat = FORMAT_OPTION
) -> None:
    """Gather approved, unpaid commissions into one payout per partner and currency."""
    db, org_id = organization(ctx, org)
    found = payouts.run(db, org_id, parse_date(as_of, "as_of"))
    rows = [(p.id, p.partner, p.currency, p.amount_minor, p.lines) for p in found.payouts]
    emit(
        found,
        fmt,
        columns=("id", "partner", "currency", "amount_minor", "lines"),
        title="Payouts made",
        rows=rows,
    )


@payouts_app.command("list")
def payouts_list(ctx: typer.Context, org: str = ORG, fmt: OutputFormat = FORMAT_OPTION) -> None:
    """The brand's payouts, newest first."""
    db, org_id = organization(ctx, org)
    emit(payouts.payouts(db, org_id), fmt)


@payouts_app.command("mark-paid")
def payouts_mark_paid(
    ctx: typer.Context,
    org: str = ORG,
    payout: int = typer.Option(..., "--payout", help="the payout's id"),
    reference: str = typer.Option(..., help="the bank's reference of the transfer"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Mark a payout paid: its lines are paid and the ledger settles them."""
    db, org_id = organization(ctx, org)
    emit(payouts.mark_paid(db, org_id, payout, reference), fmt)


@payouts_app.command("cancel")
def payouts_cancel(
    ctx: typer.Context,
    org: str = ORG,
    payout: int = typer.Option(..., "--payout", help="the payout's id"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Cancel an open payout: its lines go into the next run."""
    db, org_id = organization(ctx, org)
    emit(payouts.cancel(db, org_id, payout), fmt)


@payouts_app.command("export")
def payouts_export(
    ctx: typer.Context,
    org: str = ORG,
    payout: int = typer.Option(..., "--payout", help="the payout's id"),
    fmt: str = typer.Option("csv", "--format", help="csv, or sepa (pain.001, EUR)"),
    out: Path = typer.Option(..., "--out", help="file to write"),
) -> None:
    """Write a payout as CSV or as a SEPA credit-transfer file for the bank."""
    db, org_id = organization(ctx, org)
    data = payouts.export(db, org_id, payout, fmt)
    out.write_bytes(data)
    typer.echo(f"wrote {out} ({len(data)} bytes)")


@payouts_app.command("details")
def payouts_details(
    ctx: typer.Context,
    org: str = ORG,
    holder: str = typer.Option(..., help="the account holder's name"),
    iban: str = typer.Option(..., help="the account's IBAN"),
    bic: str = typer.Option(None, help="the bank's BIC (optional within SEPA)"),
    threshold_minor: int = typer.Option(0, help="the least a payout to it may be"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Set where the organization is paid (and, as a brand, pays from); sealed at rest."""
    db, org_id = organization(ctx, org)
    emit(details.save(db, org_id, holder, iban, bic, threshold_minor), fmt)


costs_app = typer.Typer(no_args_is_help=True)


@costs_app.command("import")
def costs_import(
    ctx: typer.Context,
    file: Path = typer.Argument(
        ..., help="CSV or Parquet: partner, channel, month, kind, amount_minor, currency[, note]"
    ),
    org: str = ORG,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Import spend per partnership, channel and month (all or nothing; again: nothing new)."""
    db, org_id = organization(ctx, org)
    emit(costs.import_costs(db, org_id, file), fmt)

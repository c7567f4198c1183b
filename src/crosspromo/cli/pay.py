"""Pay: the ledger (and, as they come, commissions and payouts)."""

from __future__ import annotations

import typer

from crosspromo.cli.context import organization
from crosspromo.cli.output import FORMAT_OPTION, OutputFormat, emit
from crosspromo.services.pay import ledger

ledger_app = typer.Typer(no_args_is_help=True)


@ledger_app.command("trial-balance")
def ledger_trial_balance(
    ctx: typer.Context,
    org: str = typer.Option(..., help="slug of the organization"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Debits and credits per currency of the organization's ledger (equal when it holds)."""
    db, org_id = organization(ctx, org)
    found = ledger.trial_balance(db, org_id)
    rows = [(c.currency, c.debits_minor, c.credits_minor) for c in found.currencies]
    emit(found, fmt, columns=("currency", "debits_minor", "credits_minor"), rows=rows,
         title=f"Trial balance of {org}")  # fmt: skip

"""The `crosspromo` command, and the one place where the command line loads lazily: the
subcommands are listed in ``COMMANDS`` and each one's module is imported only when that
subcommand runs (``load``), so ``--help``, ``--version`` and every command start without the
stack the others need; a command that needs a heavy module on one path only names it at its
top with ``deferred``. Errors become one line on stderr and a documented exit code here, and
nowhere else."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import typer
from typer import _click as click  # Typer's own copy of click, which its groups are made of
from typer.core import TyperCommand, TyperGroup

from crosspromo import __version__
from crosspromo.errors import CrossPromoError


@dataclass(frozen=True)
class Entry:
    """A subcommand: the Typer app ``app`` of ``module``, as a group of commands or (``group``
    false) as the one command it holds, with the line shown in the command list."""

    module: str
    app: str
    help: str
    group: bool = True


_CLI = "crosspromo.cli"
COMMANDS: dict[str, Entry] = {
    "db": Entry(f"{_CLI}.admin", "db_app", "Database schema (Alembic migrations)."),
    "orgs": Entry(
        f"{_CLI}.accounts", "orgs_app", "Organizations: the brands and partner businesses."
    ),
    "users": Entry(f"{_CLI}.accounts", "users_app", "Dashboard and portal users."),
    "keys": Entry(f"{_CLI}.accounts", "keys_app", "API keys, each scoped to one organization."),
    "partnerships": Entry(
        f"{_CLI}.agree", "partnerships_app", "Partnerships between organizations."
    ),
    "agreements": Entry(
        f"{_CLI}.agree", "agreements_app", "Agreements: terms, and the record both sides sign."
    ),
    "strategies": Entry(
        f"{_CLI}.plan", "strategies_app", "Cross-promotion strategies, ranked for a goal."
    ),
    "campaigns": Entry(
        f"{_CLI}.plan", "campaigns_app", "Campaigns with partners, and their plans."
    ),
    "calendar": Entry(
        f"{_CLI}.plan", "calendar_app", "The shared calendar: items, conflicts, blackouts, feeds."
    ),
    "assets": Entry(
        f"{_CLI}.plan_assets", "assets_app", "Co-branded assets, their reviews; guidelines."
    ),
    "offers": Entry(f"{_CLI}.plan_assets", "offers_app", "Joint offers and bundles."),
    "landing": Entry(
        f"{_CLI}.plan_assets", "landing_app", "Co-branded landing pages served at /l/SLUG."
    ),
    "ledger": Entry(f"{_CLI}.pay", "ledger_app", "The double-entry ledger of commissions."),
    "commissions": Entry(
        f"{_CLI}.pay", "commissions_app", "Commissions from the agreed rules; fraud holds."
    ),
    "payouts": Entry(f"{_CLI}.pay", "payouts_app", "Payouts to partners: runs, files, payment."),
    "costs": Entry(f"{_CLI}.pay", "costs_app", "What partnerships cost, per channel and month."),
    "partners": Entry(
        f"{_CLI}.discover", "partners_app", "Partner discovery: profiles, ranking, outreach."
    ),
    "overlap": Entry(
        f"{_CLI}.discover", "overlap_app", "Private audience overlap between organizations."
    ),
    "links": Entry(f"{_CLI}.track", "links_app", "Tracking links for partners to share."),
    "conversions": Entry(
        f"{_CLI}.track", "conversions_app", "Conversions: leads, sales and refunds."
    ),
    "touchpoints": Entry(
        f"{_CLI}.track", "touchpoints_app", "Touchpoints from other systems, for attribution."
    ),
    "webhooks": Entry(
        f"{_CLI}.track", "webhooks_app", "Signed webhooks (Standard Webhooks scheme)."
    ),
    "attribution": Entry(
        f"{_CLI}.measure.attribution", "attribution_app", "Multi-touch attribution."
    ),
    "experiment": Entry(f"{_CLI}.measure.experiments", "experiment_app", "Controlled experiments."),
    "clv": Entry(
        f"{_CLI}.measure.customers", "clv_app", "Customer lifetime value (BG/NBD, Gamma-Gamma)."
    ),
    "churn": Entry(
        f"{_CLI}.measure.customers",
        "churn_app",
        "Survival and cohorts by acquisition source.",
        group=False,
    ),
    "kpis": Entry(
        f"{_CLI}.measure.customers",
        "kpis_app",
        "Partnership KPIs per partner and month.",
        group=False,
    ),
    "sample": Entry(
        f"{_CLI}.admin", "sample_app", "Build the sample partner ecosystem.", group=False
    ),
    "serve": Entry(
        f"{_CLI}.admin", "serve_app", "Run the web server: dashboard, portal, API.", group=False
    ),
    "demo": Entry(
        f"{_CLI}.admin", "demo_app", "Build the sample, create demo logins, serve.", group=False
    ),
}


class LazyGroup(TyperGroup):
    """The root group: lists ``COMMANDS`` from their entries and imports a subcommand's module
    when the subcommand is resolved to run (or to print its own help)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *COMMANDS]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return super().get_command(ctx, cmd_name)
        return TyperCommand(cmd_name, help=entry.help)  # for listings: nothing imported

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if name in COMMANDS:
            command = load(name)
        return name, command, rest


def deferred(name: str) -> ModuleType:
    """The module ``name``, executed when one of its attributes is first used: for what only
    some paths of a command need (the store and the warehouse behind ``attribution run --org``,
    which ``--paths`` never touches)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    assert spec is not None, name
    assert spec.loader is not None, name
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


def load(name: str) -> click.Command:
    """The subcommand ``name`` with its module imported."""
    entry = COMMANDS[name]
    typer_app = getattr(importlib.import_module(entry.module), entry.app)
    if entry.group:
        command: click.Command = typer.main.get_group(typer_app)
    else:
        command = typer.main.get_command(typer_app)
    command.name = name
    command.help = command.help or entry.help
    return command


app = typer.Typer(
    name="crosspromo",
    help="Cross-promotion between businesses: partners, terms, campaigns, tracking, measurement.",
    cls=LazyGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        print(f"crosspromo {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    database_url: str = typer.Option(
        None,
        "--database-url",
        help="overrides CROSSPROMO_DATABASE_URL (default sqlite:///./crosspromo.db)",
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="print the version"
    ),
) -> None:
    """Settings come from CROSSPROMO_* environment variables; see the README."""
    overrides: dict[str, Any] = {}
    if database_url is not None:
        overrides["database_url"] = database_url
    ctx.obj = overrides


def run(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    try:
        app(args=argv)  # usage errors: Typer prints them and exits 2
    except CrossPromoError as exc:
        print(f"error: {' '.join(exc.message.split())} [{exc.code}]", file=sys.stderr)
        sys.exit(exc.exit_code)

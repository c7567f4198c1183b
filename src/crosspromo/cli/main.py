"""The `crosspromo` command. Errors become one line on stderr and a documented exit code
here, and nowhere else."""

from __future__ import annotations

import sys

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from crosspromo import __version__
from crosspromo.cli.attribution import attribution_app
from crosspromo.cli.clv import churn_command, clv_app, kpis_command
from crosspromo.cli.commands import db_app, keys_app, orgs_app, partnerships_app, users_app
from crosspromo.cli.context import FORMAT_OPTION, CliState, OutputFormat, state
from crosspromo.cli.experiments import experiment_app
from crosspromo.cli.output import console, emit, err_console
from crosspromo.cli.overlap import overlap_app
from crosspromo.cli.partners import partners_app
from crosspromo.cli.serve import serve as run_server
from crosspromo.cli.tracking import (
    conversions_app,
    domains_app,
    links_app,
    touchpoints_app,
    webhooks_app,
)
from crosspromo.errors import CrossPromoError
from crosspromo.services.sample.build import Progress as ProgressFn
from crosspromo.services.sample.build import build_sample
from crosspromo.services.sample.demo import prepare_demo

app = typer.Typer(
    name="crosspromo",
    help="Cross-promotion between businesses: partners, terms, campaigns, tracking, measurement.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db_app, name="db")
app.add_typer(orgs_app, name="orgs")
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")
app.add_typer(partnerships_app, name="partnerships")
app.add_typer(links_app, name="links")
app.add_typer(conversions_app, name="conversions")
app.add_typer(touchpoints_app, name="touchpoints")
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(attribution_app, name="attribution")
app.add_typer(experiment_app, name="experiment")
app.add_typer(clv_app, name="clv")
app.add_typer(overlap_app, name="overlap")
app.add_typer(partners_app, name="partners")
app.command("churn")(churn_command)
app.command("kpis")(kpis_command)
orgs_app.add_typer(domains_app, name="domains")


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
    overrides: dict[str, object] = {}
    if database_url is not None:
        overrides["database_url"] = database_url
    ctx.obj = CliState(overrides)


class _Bar:
    """A Rich progress bar fed by a service's progress(done, total) callback."""

    def __init__(self, label: str) -> None:
        self.progress = Progress(
            TextColumn(label),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
        )
        self.task = self.progress.add_task(label, total=None)

    def __enter__(self) -> ProgressFn:
        self.progress.start()

        def update(done: int, total: int) -> None:
            self.progress.update(self.task, completed=done, total=total)

        return update

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


@app.command()
def sample(
    ctx: typer.Context,
    seed: int = typer.Option(42, help="random seed; the same seed always gives the same ecosystem"),
    scale: int = typer.Option(
        100, help="size in percent of the full sample (100: ~69,000 customers)"
    ),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Build the sample partner ecosystem (reused when it exists), with its ground truth."""
    db = state(ctx).database()
    with _Bar("customers") as progress:
        summary = build_sample(db, seed=seed, scale=scale, progress=progress)
    emit(
        {
            "seed": summary.seed,
            "scale": summary.scale,
            "organizations": summary.organizations,
            "customers": summary.customers,
            "partnerships": summary.partnerships,
            "reused": summary.reused,
        },
        fmt,
    )


@app.command()
def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", help="interface to listen on"),
    port: int = typer.Option(8000, min=1, max=65535, help="TCP port"),
    workers: int = typer.Option(1, min=1, max=64, help="worker processes"),
    access_log: bool = typer.Option(False, "--access-log", help="log every request"),
) -> None:
    """Run the web server: dashboard, partner portal and REST API (/docs)."""
    run_server(state(ctx).settings(), host, port, workers, access_log=access_log)


@app.command()
def demo(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", help="interface to listen on"),
    port: int = typer.Option(8000, min=1, max=65535, help="TCP port"),
    seed: int = typer.Option(42, help="seed of the sample ecosystem"),
    password: str = typer.Option(None, help="demo password (default: a new random one each run)"),
    no_serve: bool = typer.Option(
        False, "--no-serve", help="prepare everything, do not start the server"
    ),
) -> None:
    """Migrate, build the sample ecosystem, create demo logins and serve on HOST:PORT."""
    settings = state(ctx).settings()
    with _Bar("sample customers") as progress:
        setup = prepare_demo(settings, seed=seed, password=password, progress=progress)
    s = setup.sample
    verb = "reused" if s.reused else "built"
    console.print(
        f"sample ecosystem {verb}: {s.organizations} organizations, {s.customers:,} customers, "
        f"{s.partnerships} partnerships (seed {s.seed})"
    )
    url = f"http://{host}:{port}"
    console.print(f"\n[bold]crosspromo demo[/bold] on {url}   (API docs: {url}/docs)")
    for login in setup.logins:
        where = "partner portal" if login.role.uses_portal else "dashboard"
        console.print(
            f"  {where:<14} log in as {login.email}  password {login.password}"
            f"  ({login.organization})"
        )
    console.print("  stop with Ctrl+C\n")
    if not no_serve:
        run_server(settings, host, port, workers=1)


def run(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    try:
        app(args=argv)  # usage errors: Typer prints them and exits 2
    except CrossPromoError as exc:
        print(f"error: {' '.join(exc.message.split())} [{exc.code}]", file=sys.stderr)
        sys.exit(exc.exit_code)

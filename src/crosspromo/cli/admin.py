"""Running crosspromo: the database schema, the sample ecosystem, the server and the demo."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
from collections.abc import Iterator

import typer
import uvicorn
from pydantic import SecretStr
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from crosspromo.cli.context import settings
from crosspromo.cli.output import FORMAT_OPTION, OutputFormat, console, emit, err_console
from crosspromo.config import Settings
from crosspromo.errors import ConfigError
from crosspromo.services.admin.database import open_database, upgrade_database
from crosspromo.services.sample.build import Progress as ProgressFn
from crosspromo.services.sample.build import build_sample
from crosspromo.services.sample.demo import LOCAL_SECRET_FILE, local_secret, prepare_demo
from crosspromo.tracking.mover import Helper
from crosspromo.web.server import (
    ACCESS_LOG_ENV,
    CLICK_MOVER_ENV,
    HEADER_TIMEOUT_ENV,
    HeaderDeadlineProtocol,
)

db_app = typer.Typer(no_args_is_help=True)
sample_app = typer.Typer()
serve_app = typer.Typer()
demo_app = typer.Typer()
APP_FACTORY = "crosspromo.web.app:app_from_environment"
HOST = typer.Option("127.0.0.1", help="interface to listen on")
PORT = typer.Option(8000, min=1, max=65535, help="TCP port")


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context, fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Create or migrate the schema to the newest revision (safe to repeat)."""
    result = upgrade_database(settings(ctx))
    if fmt is OutputFormat.JSON:
        emit(result, fmt)
    elif result.changed:
        console.print(f"database upgraded: {result.before or 'empty'} -> {result.after}")
    else:
        console.print(f"database already at {result.after}")


class _Bar:
    """A Rich progress bar fed by a service's progress(done, total) callback."""

    def __init__(self, label: str) -> None:
        self.progress = Progress(
            TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=err_console, transient=True,
        )  # fmt: skip
        self.task = self.progress.add_task(label, total=None)

    def __enter__(self) -> ProgressFn:
        self.progress.start()

        def update(done: int, total: int) -> None:
            self.progress.update(self.task, completed=done, total=total)

        return update

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


@sample_app.command()
def sample(
    ctx: typer.Context,
    seed: int = typer.Option(42, help="random seed; the same seed always gives the same ecosystem"),
    scale: int = typer.Option(
        100, help="size in percent of the full sample (100: ~69,000 customers)"
    ),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Build the sample partner ecosystem (reused when it exists), with its ground truth."""
    db = open_database(settings(ctx))
    with _Bar("customers") as progress:
        summary = build_sample(db, seed=seed, scale=scale, progress=progress)
    emit(summary, fmt)


@serve_app.command()
def serve(
    ctx: typer.Context,
    host: str = HOST,
    port: int = PORT,
    workers: int = typer.Option(1, min=1, max=64, help="worker processes"),
    access_log: bool = typer.Option(False, "--access-log", help="log every request"),
) -> None:
    """Run the web server: dashboard, partner portal and REST API (/docs)."""
    run_server(settings(ctx), host, port, workers, access_log=access_log)


@demo_app.command()
def demo(
    ctx: typer.Context,
    host: str = HOST,
    port: int = PORT,
    seed: int = typer.Option(42, help="seed of the sample ecosystem"),
    password: str = typer.Option(None, help="demo password (default: a new random one each run)"),
    no_serve: bool = typer.Option(
        False, "--no-serve", help="prepare everything, do not start the server"
    ),
) -> None:
    """Migrate, build the sample ecosystem, create demo logins and serve on HOST:PORT.

    Without CROSSPROMO_SECRET_KEY the key is a random one kept in ./.crosspromo-secret."""
    chosen = settings(ctx)
    if "CROSSPROMO_SECRET_KEY" not in os.environ:
        key = local_secret()
        chosen = chosen.model_copy(update={"secret_key": SecretStr(key)})
        console.print(f"secret key: the random one in {LOCAL_SECRET_FILE} (made once, git-ignored)")
    with _Bar("sample customers") as progress:
        setup = prepare_demo(chosen, seed=seed, password=password, progress=progress)
    s = setup.sample
    verb = "reused" if s.reused else "built"
    console.print(
        f"sample ecosystem {verb}: {s.organizations} organizations, {s.customers:,} customers, "
        f"{s.partnerships} partnerships (seed {s.seed})"
    )
    url = bound_url(host, port)
    console.print(f"\n[bold]crosspromo demo[/bold] on {url}   (API docs: {url}/docs)")
    for login in setup.logins:
        where = "partner portal" if login.role.uses_portal else "dashboard"
        console.print(
            f"  {where:<14} log in as {login.email}  password {login.password}"
            f"  ({login.organization})"
        )
    console.print("  stop with Ctrl+C\n")
    if not no_serve:
        run_server(chosen, host, port, workers=1)


def bound_url(host: str, port: int) -> str:
    """The address a browser on this machine reaches the server at, bound to ``host``."""
    if host in {"0.0.0.0", "::", ""}:  # noqa: S104 - naming the wildcard, not binding it
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def run_server(
    chosen: Settings, host: str, port: int, workers: int, *, access_log: bool = False
) -> None:
    """Check the schema and the port, then run uvicorn; workers read the same settings."""
    if workers < 1:
        raise ConfigError("--workers must be at least 1")
    open_database(chosen).dispose()
    check_port_free(host, port)
    os.environ["CROSSPROMO_DATABASE_URL"] = chosen.database_url
    os.environ["CROSSPROMO_SECRET_KEY"] = chosen.secret_key.get_secret_value()
    os.environ[HEADER_TIMEOUT_ENV] = str(chosen.header_timeout_seconds)
    os.environ[ACCESS_LOG_ENV] = "1" if access_log else "0"
    if "public_url" not in chosen.model_fields_set and "CROSSPROMO_PUBLIC_URL" not in os.environ:
        os.environ["CROSSPROMO_PUBLIC_URL"] = bound_url(host, port)  # short links that work
    # the clicks' journal: one folder for the workers and the click mover serve starts
    os.environ["CROSSPROMO_CLICK_JOURNAL_DIR"] = str(chosen.click_journal())
    os.environ[CLICK_MOVER_ENV] = "1"
    mover = Helper("crosspromo.tracking.mover", dict(os.environ))
    mover.start()
    with _signals_held():
        try:
            _uvicorn(host, port, workers)
        finally:
            mover.stop()  # after the workers: it moves what they journalled last


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """SIGTERM and SIGINT end what runs inside as an exception (``_Stopped``), so that its
    ``finally`` runs, and are raised again once it has ended, for the exit they ask for.
    uvicorn raises the signal that stopped its server again when the server is done, to the
    handler there was before it: SIGTERM's default ended the process there and then, without
    stopping the click mover, which went on finishing the journals after its server was gone
    (the clean stop's test found them there, 1 run in 6)."""
    before = {signum: signal.signal(signum, _stopped) for signum in _HELD}
    stopped_by = None
    try:
        yield
    except _Stopped as stopped:
        stopped_by = stopped.signum
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)
    if stopped_by is not None:
        signal.raise_signal(stopped_by)


class _Stopped(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _stopped(signum: int, _: object) -> None:
    raise _Stopped(signum)


_HELD = (signal.SIGTERM, signal.SIGINT)


def _uvicorn(host: str, port: int, workers: int) -> None:
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=False,  # ours (crosspromo.access) when asked: no raw addresses or queries
        proxy_headers=True,
        server_header=False,
        http=HeaderDeadlineProtocol,  # a request's headers must arrive in time
    )

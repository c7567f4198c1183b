"""Helpers shared by the benchmark scripts: temporary databases and a running server."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

import httpx2 as httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

SECRET = "benchmark-secret-0123456789"  # noqa: S105 - a throwaway database's key
POSTGRES = os.environ.get(
    "CROSSPROMO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def ensure_debian_packages(*names: str) -> None:
    missing = [
        n for n in names if shutil.which(n) is None and shutil.which(f"/usr/sbin/{n}") is None
    ]
    if not missing:
        return
    if os.geteuid() != 0:
        sys.exit(f"needs {' '.join(missing)}: apt-get install {' '.join(missing)}")
    subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="crosspromo-bench-") as folder:
        yield f"sqlite:///{Path(folder) / 'bench.db'}"


@contextmanager
def postgres_url() -> Iterator[str | None]:
    """A throwaway PostgreSQL database, or None when no server answers."""
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    name = f"crosspromo_bench_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception:  # no server: the caller skips that line
        admin.dispose()
        yield None
        return
    try:
        yield make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Server(NamedTuple):
    url: str  # http://127.0.0.1:PORT
    group: int  # the process group of serve, its workers and its click mover


@contextmanager
def crosspromo_server(database_url: str, workers: int = 1) -> Iterator[Server]:
    """``crosspromo serve`` on a free port, in a session (and process group) of its own."""
    port = free_port()
    env = {**os.environ, "CROSSPROMO_DATABASE_URL": database_url, "CROSSPROMO_SECRET_KEY": SECRET}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "crosspromo",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:  # up, and done computing the dashboards' first results in the background
                health = httpx.get(f"{url}/healthz", timeout=1)
                if health.status_code == 200 and health.json()["results"] == "ready":
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("crosspromo serve did not start")
            time.sleep(0.2)
        yield Server(url, process.pid)  # a new session's leader: its group's id is its pid
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)


def peak_mb() -> float:
    """This process's peak resident memory (VmHWM) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak() -> None:
    """Start the peak over from the current size (Linux: clear_refs 5)."""
    Path("/proc/self/clear_refs").write_text("5")


def anchor_python(name: str, requirements: Path) -> Path:
    """The Python of ``benchmarks/.venv-NAME``, made on first use from pinned ``requirements``:
    an anchor package lives apart from crosspromo's own dependencies."""
    env = Path(__file__).parent / f".venv-{name}"
    python = env / "bin" / "python"
    if not python.exists():
        print(f"creating {env} from {requirements.name} (once)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
        pip = [str(env / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "-r", str(requirements)], check=True)
    return python


@dataclass(frozen=True)
class Load:
    rps: float
    p99_ms: float
    non_3xx: int  # answers other than 2xx or 3xx
    requests: int  # answered
    socket_errors: int  # connect, read, write errors and timeouts
    cpu: tuple[float, float] = (0.0, 0.0)  # seconds the server spent meanwhile: all, its mover


def wrk(url: str, duration: int, connections: int, script: Path | None = None) -> Load:
    """``wrk -t1`` against ``url`` (with a Lua ``script`` when given): what it measured."""
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency",
         "-H", "User-Agent: Mozilla/5.0 (benchmark)", *(["-s", str(script)] if script else []),
         url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    answered = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    broken = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return Load(rps, p99, int(errors.group(1)) if errors else 0, answered,
                sum(int(n) for n in broken.groups()) if broken else 0)  # fmt: skip


def combined(loads: list[Load], seconds: float) -> Load:
    """Several runs of ``wrk`` as one: requests over the whole time, the worst p99."""
    requests = sum(load.requests for load in loads)
    return Load(
        requests / seconds,
        max(load.p99_ms for load in loads),
        sum(load.non_3xx for load in loads),
        requests,
        sum(load.socket_errors for load in loads),
        (sum(load.cpu[0] for load in loads), sum(load.cpu[1] for load in loads)),
    )


def interleaved(
    targets: dict[str, tuple[str, Path | None]],
    duration: int,
    connections: int,
    rounds: int,
    cpu: dict[str, Callable[[], tuple[float, float]]] | None = None,
) -> dict[str, Load]:
    """``wrk`` against each target (name: url, script) in turn, ``rounds`` times, each run
    ``duration / rounds`` seconds: a slow minute of a noisy machine falls on every target
    alike, not on whichever ran then. ``cpu``: for a target, its CPU seconds so far (as
    ``serve_cpu``), read around each of its own runs (and the quarter second after, while its
    mover stores the last clicks) into its ``Load.cpu``."""
    share = max(1, round(duration / rounds))
    runs: dict[str, list[Load]] = {name: [] for name in targets}
    spent = cpu or {}
    for _ in range(rounds):
        for name, (url, script) in targets.items():
            before = spent[name]() if name in spent else None
            load = wrk(url, share, connections, script)
            if before is not None:
                time.sleep(0.25)
                after = spent[name]()
                load = replace(load, cpu=(after[0] - before[0], after[1] - before[1]))
            runs[name].append(load)
    return {name: combined(loads, share * rounds) for name, loads in runs.items()}


def serve_cpu(group: int) -> Callable[[], tuple[float, float]]:
    """For the ``crosspromo serve`` whose process group is ``group`` (``Server.group``): a
    function giving the CPU seconds (user and system, every thread) spent so far by its
    processes (serve, its workers, its click mover) and by its click mover alone. Linux: read
    from /proc."""
    tick = os.sysconf("SC_CLK_TCK")

    def spent() -> tuple[float, float]:
        whole = mover = 0.0
        for entry in Path("/proc").iterdir():
            try:
                if not entry.name.isdigit():
                    continue
                # the fields after the command's name: state, parent, group, ...
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[2]) != group:
                    continue
                seconds = (int(fields[11]) + int(fields[12])) / tick
                whole += seconds
                if b"crosspromo.tracking.mover" in (entry / "cmdline").read_bytes():
                    mover += seconds
            except OSError:  # gone meanwhile
                continue
        return whole, mover

    return spent


def brand_with_partner(db: Any) -> int:
    """A brand ("brand") and its partner ("partner") under terms both accepted, as links and
    codes need; the brand's id."""
    from crosspromo.domain import OrgKind
    from crosspromo.services.accounts.organizations import create_organization
    from crosspromo.services.agree.agreements import accept, propose
    from crosspromo.services.agree.terms import parse_terms, template

    brand = create_organization(db, "brand", "Brand", OrgKind.BRAND)
    partner = create_organization(db, "partner", "Partner", OrgKind.PARTNER)
    made = propose(db, brand.id, "partner", parse_terms(template("brand", "partner").document()))
    accept(db, partner.id, made.partnership_id, made.version or 1)
    return brand.id

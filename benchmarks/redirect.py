"""Redirect throughput with durable click logging, as a ratio to nginx on the same machine.

    .venv/bin/python benchmarks/redirect.py [--duration 12] [--connections 32] [--rounds 3]

nginx (worker_processes 1) answers a static `return 302`; crosspromo (one worker, and two on
SQLite, each with the click mover `serve` starts) looks the link up, syncs the click to its
journal, then answers 302; the clicks stored are counted once the mover has caught up. All get
the same `wrk -t1 -c32` load, taking turns (``--rounds``, so that a slow spell of a noisy
machine falls on all alike); the script prints requests/s, p99 (the worst round's), the ratio,
errors, the clicks stored (SQLite, and PostgreSQL when one answers at
CROSSPROMO_TEST_POSTGRES_URL), and the CPU the server's processes spent a redirect during its
own turns: serve, its workers and its click mover together, and the mover alone (PostgreSQL's
own processes, which serve does not start, are not counted).
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from _common import (
    SECRET,
    brand_with_partner,
    crosspromo_server,
    ensure_debian_packages,
    free_port,
    interleaved,
    postgres_url,
    serve_cpu,
    sqlite_url,
    wrk,
)

from crosspromo.config import load_settings
from crosspromo.services.admin.database import open_database, upgrade_database
from crosspromo.services.track.links import add_domain, create_link
from crosspromo.store.repositories import ClickRepository, LinkRepository

NGINX = "nginx return 302"
NGINX_CONF = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir};
    proxy_temp_path {dir};
    fastcgi_temp_path {dir};
    uwsgi_temp_path {dir};
    scgi_temp_path {dir};
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 302 https://brand.example/?cp_click=0123456789abcdefghij; }}
    }}
}}
"""


@contextmanager
def nginx() -> Iterator[str]:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-nginx-") as folder:
        conf = Path(folder) / "nginx.conf"
        conf.write_text(NGINX_CONF.format(dir=folder, port=port))
        process = subprocess.Popen(["nginx", "-c", str(conf), "-p", folder])
        time.sleep(0.5)
        try:
            yield f"http://127.0.0.1:{port}/r/x"
        finally:
            process.terminate()
            process.wait(timeout=10)


def prepare(database_url: str) -> str:
    settings = load_settings(database_url=database_url, secret_key=SECRET)
    upgrade_database(settings)
    db = open_database(settings)
    brand = brand_with_partner(db)
    add_domain(db, brand, "brand.example")
    code = create_link(db, brand, "partner", "https://brand.example/").code
    db.dispose()
    return code


def stored_clicks(database_url: str, code: str) -> int:
    db = open_database(load_settings(database_url=database_url, secret_key=SECRET))
    with db.transaction() as session:
        link = LinkRepository(session).by_code(code)
        assert link is not None
        human, _, bots = ClickRepository(session).link_counts(link.id)
    db.dispose()
    return human + bots


def moved(database_url: str, code: str) -> int:
    """The clicks stored once the click mover has caught up with the journals (the count
    stops rising for a second)."""
    count, deadline = stored_clicks(database_url, code), time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = stored_clicks(database_url, code)
        if now == count:
            break
        count = now
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=12, help="seconds of load per target")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="turns the targets take")
    args = parser.parse_args()
    ensure_debian_packages("nginx", "wrk")
    with ExitStack() as stack:
        targets: dict[str, tuple[str, Path | None]] = {NGINX: (stack.enter_context(nginx()), None)}
        links: dict[str, tuple[str, str]] = {}
        cpu = {}
        for name, context, workers in (
            ("crosspromo + SQLite", sqlite_url, 1),
            ("crosspromo + PostgreSQL", postgres_url, 1),
            ("crosspromo + SQLite, 2 workers", sqlite_url, 2),
        ):
            database_url = stack.enter_context(context())
            if database_url is None:
                print(f"{name}: PostgreSQL not reachable, line skipped")
                continue
            code = prepare(database_url)
            server = stack.enter_context(crosspromo_server(database_url, workers))
            targets[name] = (f"{server.url}/r/{code}", None)
            links[name] = (database_url, code)
            cpu[name] = serve_cpu(server.group)
        for url, _ in targets.values():
            wrk(url, 2, args.connections)  # warm-up
        before = {name: stored_clicks(*link) for name, link in links.items()}
        loads = interleaved(targets, args.duration, args.connections, args.rounds, cpu)
        stored = {name: moved(*link) - before[name] for name, link in links.items()}
    anchor = loads[NGINX]
    print(f"{NGINX:<31} {anchor.rps:7.0f} req/s   p99 {anchor.p99_ms:6.2f} ms   anchor")
    for name, load in loads.items():
        if name != NGINX:
            errors = load.non_3xx + load.socket_errors
            whole, mover = (1e6 * seconds / max(load.requests, 1) for seconds in load.cpu)
            print(
                f"{name:<31} {load.rps:7.0f} req/s   p99 {load.p99_ms:6.2f} ms   "
                f"ratio {load.rps / anchor.rps:5.3f}x nginx   errors {errors}   "
                f"clicks stored {stored[name]} / 302 answers {load.requests - load.non_3xx}   "
                f"CPU a redirect {whole:.1f} us (click mover {mover:.1f})"
            )


if __name__ == "__main__":
    main()

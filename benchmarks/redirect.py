"""Redirect throughput with durable click logging, as a ratio to nginx on the same machine.

    .venv/bin/python benchmarks/redirect.py [--duration 10] [--connections 32]

nginx (worker_processes 1) answers a static `return 302`; crosspromo (one worker) looks the
link up, commits the click, then answers 302. Both get the same `wrk -t1 -c32` load; the
script prints requests/s and p99 for each and the ratios (SQLite, and PostgreSQL when one
answers at CROSSPROMO_TEST_POSTGRES_URL).
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from _common import (
    SECRET,
    Load,
    brand_with_partner,
    crosspromo_server,
    ensure_debian_packages,
    free_port,
    postgres_url,
    sqlite_url,
    wrk,
)

from crosspromo.config import load_settings
from crosspromo.services.database import open_database, upgrade_database
from crosspromo.services.track.links import add_domain, create_link
from crosspromo.store.repositories import ClickRepository, LinkRepository

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


def run_crosspromo(database_url: str, duration: int, connections: int) -> tuple[Load, int]:
    code = prepare(database_url)
    with crosspromo_server(database_url) as base:
        wrk(f"{base}/r/{code}", 2, connections)  # warm-up
        load = wrk(f"{base}/r/{code}", duration, connections)
    return load, stored_clicks(database_url, code)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    ensure_debian_packages("nginx", "wrk")
    with nginx() as url:
        wrk(url, 2, args.connections)
        anchor = wrk(url, args.duration, args.connections)
    print(f"nginx return 302        {anchor.rps:10.0f} req/s   p99 {anchor.p99_ms:7.2f} ms")
    lines = []
    with sqlite_url() as url:
        lines.append(("crosspromo + SQLite", *run_crosspromo(url, args.duration, args.connections)))
    with postgres_url() as pg:
        if pg is None:
            print("PostgreSQL: not reachable, line skipped")
        else:
            lines.append(
                ("crosspromo + PostgreSQL", *run_crosspromo(pg, args.duration, args.connections))
            )
    for name, load, stored in lines:
        print(
            f"{name:<23} {load.rps:10.0f} req/s   p99 {load.p99_ms:7.2f} ms   "
            f"ratio {load.rps / anchor.rps:5.3f}x nginx   errors {load.non_3xx}   "
            f"clicks stored {stored}"
        )


if __name__ == "__main__":
    main()

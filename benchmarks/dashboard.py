"""Every dashboard page of the demo brand and every portal page, timed against the 1-second goal.

    .venv/bin/python benchmarks/dashboard.py [--scale 100] [--runs 3] [--database PATH]

Builds the demo (the sample ecosystem at ``--scale``, as `make demo` does) in a temporary SQLite
file, unless ``--database`` names one already built, starts `crosspromo serve` on it, logs in as
the demo brand's owner and as the partner, and fetches each page ``--runs`` times. It prints the
first view of each page (after the server's start) and the median of the later ones, each as a
ratio to the 1 s goal, and the machine's load average before and after. The goal is met when every
median ratio is below 1.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx2 as httpx
from _common import SECRET, crosspromo_server

from crosspromo.config import load_settings
from crosspromo.services.sample.demo import DEMO_OWNER_EMAIL, DEMO_PARTNER_EMAIL, prepare_demo

GOAL_SECONDS = 1.0
PASSWORD = "benchmark-password-1"  # noqa: S105 - a throwaway demo's login

# The brand's pages; {partnership} and {candidate} are filled from the demo's own data.
BRAND_PAGES = (
    "/", "/partnerships/{partnership}", "/partners", "/partners/outreach?candidate={candidate}",
    "/links", "/tracking", "/attribution", "/experiments", "/customers", "/settings/keys",
    "/settings/domains", "/settings/sharing", "/settings/webhooks", "/settings/team",
    "/settings/profile", "/account",
)  # fmt: skip
PORTAL_PAGES = ("/portal", "/portal/partnerships/{partnership}", "/account")


def login(client: httpx.Client, email: str) -> None:
    form = client.get("/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', form)
    assert token, "the login form carries no form token"
    answer = client.post("/login", data={"email": email, "password": PASSWORD,
                                         "csrf": token.group(1)})  # fmt: skip
    assert answer.status_code == 303, f"login as {email} failed: {answer.status_code}"


def time_pages(client: httpx.Client, paths: list[str], runs: int) -> list[tuple[str, float, float]]:
    """Each page's first view (all pages in turn, while the server may still be warming up),
    then the median of ``runs`` more views, taken in rounds over all pages."""
    times: dict[str, list[float]] = {path: [] for path in paths}
    for _ in range(runs + 1):
        for path in paths:
            began = time.perf_counter()
            answer = client.get(path)
            times[path].append(time.perf_counter() - began)
            assert answer.status_code == 200, f"{path}: HTTP {answer.status_code}"
    return [(p, t[0], statistics.median(t[1:])) for p, t in times.items()]


def first_link(html: str, pattern: str) -> str:
    found = re.search(pattern, html)
    assert found, f"no {pattern!r} on the page"
    return found.group(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database", type=Path, help="an SQLite file the demo is built in")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="crosspromo-dash-") as folder:
        path = args.database or Path(folder) / "demo.db"
        url = f"sqlite:///{path}"
        os.environ.update(CROSSPROMO_DATABASE_URL=url, CROSSPROMO_SECRET_KEY=SECRET)
        began = time.perf_counter()
        prepare_demo(load_settings(), seed=42, scale=args.scale, password=PASSWORD)
        print(f"demo at scale {args.scale} ready in {time.perf_counter() - began:.1f} s")
        load_before = os.getloadavg()
        rows: list[tuple[str, float, float]] = []
        with crosspromo_server(url) as server:
            with httpx.Client(base_url=server, timeout=120) as brand:
                login(brand, DEMO_OWNER_EMAIL)
                home = brand.get("/").text
                partnership = first_link(home, r'href="/partnerships/(\d+)"')
                candidate = first_link(brand.get("/partners").text, r"candidate=([a-z0-9-]+)")
                fill = {"partnership": partnership, "candidate": candidate}
                rows += time_pages(brand, [p.format(**fill) for p in BRAND_PAGES], args.runs)
            with httpx.Client(base_url=server, timeout=120) as partner:
                login(partner, DEMO_PARTNER_EMAIL)
                own = first_link(partner.get("/portal").text, r'href="/portal/partnerships/(\d+)"')
                portal = [p.format(partnership=own) for p in PORTAL_PAGES]
                rows += [
                    (f"portal {p}", f, m) for p, f, m in time_pages(partner, portal, args.runs)
                ]
        load_after = os.getloadavg()
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} "
          f"({os.cpu_count()} cores)")  # fmt: skip
    print(f"{'page':<48} {'first s':>8} {'median s':>9} {'ratio to 1 s':>13}")
    for path, first, median in rows:
        print(f"{path:<48} {first:8.3f} {median:9.3f} {median / GOAL_SECONDS:12.2f}x")
    worst = max(rows, key=lambda r: r[2])
    verdict = "met" if worst[2] < GOAL_SECONDS else "NOT met"
    print(f"slowest median: {worst[0]} {worst[2]:.3f} s; goal {verdict}")
    sys.exit(0 if worst[2] < GOAL_SECONDS else 1)


if __name__ == "__main__":
    main()

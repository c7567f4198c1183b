"""Every dashboard page of the demo brand and every portal page, timed against the 1-second goal.

    .venv/bin/python benchmarks/dashboard.py [--scale 100] [--runs 3] [--database PATH]

Builds the demo (the sample ecosystem at ``--scale``, as `make demo` does) in a temporary SQLite
file, unless ``--database`` names one already built, starts `crosspromo serve` on it, logs in as
the demo brand's owner and as the partner, and fetches each page ``--runs`` times. It prints the
first view of each page (after the server's start: the time to its first answer, which may be
the page's progress while its result is first computed, and the time until the page itself is
shown, following the progress as a browser does) and the median of the later views, as a ratio
to the 1 s goal, and the machine's load average before and after. The goal is met when every
median ratio and every first answer is below 1.
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


Row = tuple[str, float, float, float]  # page, first answer, first shown, median of the rest


def shown(client: httpx.Client, path: str) -> tuple[float, float, str]:
    """The seconds to the page's first answer and until the page itself is shown (a progress
    page, 202, is asked again after its Retry-After, as the browser reloads it), and the page."""
    began = time.perf_counter()
    answer = client.get(path)
    first = time.perf_counter() - began
    while answer.status_code == 202:
        time.sleep(float(answer.headers.get("retry-after", "1")))
        answer = client.get(path)
    assert answer.status_code == 200, f"{path}: HTTP {answer.status_code}"
    return first, time.perf_counter() - began, answer.text


def time_pages(client: httpx.Client, paths: list[str], runs: int) -> list[Row]:
    """Each page's first view (all pages in turn, while the server may still be warming up),
    then the median of ``runs`` more views, taken in rounds over all pages."""
    firsts = {path: shown(client, path)[:2] for path in paths}
    times: dict[str, list[float]] = {path: [] for path in paths}
    for _ in range(runs):
        for path in paths:
            began = time.perf_counter()
            answer = client.get(path)
            times[path].append(time.perf_counter() - began)
            assert answer.status_code == 200, f"{path}: HTTP {answer.status_code}"
    return [(p, *firsts[p], statistics.median(t)) for p, t in times.items()]


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
        rows: list[Row] = []
        with crosspromo_server(url) as server:
            with httpx.Client(base_url=server.url, timeout=120) as brand:
                login(brand, DEMO_OWNER_EMAIL)
                home = brand.get("/").text
                partnership = first_link(home, r'href="/partnerships/(\d+)"')
                ranked = shown(brand, "/partners")[2]
                candidate = first_link(ranked, r"candidate=([a-z0-9-]+)")
                fill = {"partnership": partnership, "candidate": candidate}
                rows += time_pages(brand, [p.format(**fill) for p in BRAND_PAGES], args.runs)
            with httpx.Client(base_url=server.url, timeout=120) as partner:
                login(partner, DEMO_PARTNER_EMAIL)
                own = first_link(partner.get("/portal").text, r'href="/portal/partnerships/(\d+)"')
                portal = [p.format(partnership=own) for p in PORTAL_PAGES]
                for p, answer, whole, median in time_pages(partner, portal, args.runs):
                    rows.append((f"portal {p}", answer, whole, median))
        load_after = os.getloadavg()
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} "
          f"({os.cpu_count()} cores)")  # fmt: skip
    print(f"{'page':<44} {'first answer s':>14} {'shown s':>8} {'median s':>9} {'ratio':>7}")
    for path, answer, whole, median in rows:
        print(f"{path:<44} {answer:14.3f} {whole:8.3f} {median:9.3f} "
              f"{median / GOAL_SECONDS:6.2f}x")  # fmt: skip
    worst = max(rows, key=lambda r: r[3])
    slowest_answer = max(rows, key=lambda r: r[1])
    met = worst[3] < GOAL_SECONDS and slowest_answer[1] < GOAL_SECONDS
    print(
        f"slowest median: {worst[0]} {worst[3]:.3f} s; slowest first answer: "
        f"{slowest_answer[0]} {slowest_answer[1]:.3f} s; goal {'met' if met else 'NOT met'}"
    )
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()

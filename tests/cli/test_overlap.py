"""`crosspromo overlap local` as a user runs it: two files in, the issue's JSON out."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tests.cli.test_cli import cli, cli_here


def write(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def test_overlap_local_prints_sizes_intersection_and_rates(tmp_path: Path) -> None:
    a = write(tmp_path / "a.csv", "email", [f" User{i}@Shop.com " for i in range(100)])
    b = tmp_path / "b.parquet"
    pq.write_table(pa.table({"email": [f"user{i}@shop.com" for i in range(60, 180)]}), b)
    run = cli("overlap", "local", str(a), str(b), "--format", "json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {
        "size_a": 100,
        "size_b": 120,
        "intersection": 40,
        "overlap_rate_a": 0.4,
        "overlap_rate_b": 40 / 120,
    }
    sketch = json.loads(
        cli("overlap", "local", str(a), str(b), "--sketch", "--format", "json").stdout
    )
    assert set(sketch) == {
        "size_a", "size_b", "intersection", "overlap_rate_a", "overlap_rate_b", "error_bound",
        "sample_rate",
    }  # fmt: skip
    assert sketch["intersection"] == 40
    assert sketch["error_bound"] == 0.0


def test_only_consenting_rows_take_part_and_segments_are_counted(tmp_path: Path) -> None:
    a = write(
        tmp_path / "a.csv",
        "phone,ok,tier",
        ["(415) 555-0100,true,gold", "415 555 0101,false,gold", "+1 415 555 0102,yes,silver"],
    )
    b = write(
        tmp_path / "b.csv",
        "phone,ok,tier",
        ["+14155550100,1,x", "+14155550101,1,x", "4155550102,1,y", "4155550199,0,y"],
    )
    run = cli(
        "overlap", "local", str(a), str(b), "--column", "phone", "--kind", "phone",
        "--consent-column", "ok", "--segment-column", "tier", "--format", "json",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert (out["size_a"], out["size_b"], out["intersection"]) == (2, 3, 2)
    pairs = {(s["segment_a"], s["segment_b"]): s["intersection"] for s in out["segments"]}
    assert pairs == {("gold", "x"): 1, ("gold", "y"): 0, ("silver", "x"): 0, ("silver", "y"): 1}


def test_bad_input_is_named(tmp_path: Path) -> None:
    a = write(tmp_path / "a.csv", "email", ["a@x.com", "oops", "b@x.com"])
    b = write(tmp_path / "b.csv", "mail", ["a@x.com"])
    run = cli("overlap", "local", str(a), str(a), "--format", "json")
    assert run.returncode == 5
    assert "a.csv: 1 row(s) hold no valid email (data rows 2)" in run.stderr
    skipped = cli("overlap", "local", str(a), str(a), "--skip-invalid", "--format", "json")
    assert json.loads(skipped.stdout)["intersection"] == 2
    missing = cli("overlap", "local", str(a), str(b), "--skip-invalid")
    assert missing.returncode == 5
    assert "b.csv: no column(s) email; it has mail" in missing.stderr
    consent = write(tmp_path / "c.csv", "email,ok", ["a@x.com,maybe"])
    bad = cli("overlap", "local", str(consent), str(consent), "--consent-column", "ok")
    assert "c.csv, data row 1, column ok: consent must be true or false" in bad.stderr


SECRET_B = "server-b-secret-0123456789"


def _org_with_customers(url: str, secret: str, slug: str, ids: range, level: str) -> None:
    from crosspromo.config import Settings
    from crosspromo.domain import ConsentPurpose, OrgKind
    from crosspromo.services.accounts.customers import record_customer
    from crosspromo.services.accounts.organizations import create_organization
    from crosspromo.services.admin.database import open_database, upgrade_database
    from crosspromo.services.discover.sessions import set_sharing

    settings = Settings(database_url=url, secret_key=secret, environment="test")  # type: ignore[arg-type]
    upgrade_database(settings)
    db = open_database(settings)
    org = create_organization(db, slug, slug.title(), OrgKind.BRAND).id
    share = frozenset({ConsentPurpose.PARTNER_SHARING})
    for i in ids:  # every third customer has not consented to partner sharing
        record_customer(db, org, f"p{i}@example.com", frozenset() if i % 3 == 0 else share)
    set_sharing(db, org, level)
    db.dispose()


def test_two_servers_run_the_protocol_over_http(tmp_path: Path) -> None:
    """Server B offers; A's CLI, on A's own database and secret, answers over HTTP; B keeps
    the counts. Each side's consents apply; the token is the only thing handed over. B's
    server is a real process; the commands run in this process (what they compute and send is
    the subject; the command-line process itself is tested with real processes elsewhere)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import httpx2 as httpx

    from tests.browser.conftest import free_port
    from tests.conftest import TEST_SECRET

    url_a, url_b = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    _org_with_customers(url_a, TEST_SECRET, "alpha", range(0, 300), "counts")
    _org_with_customers(url_b, SECRET_B, "beta", range(200, 500), "counts")
    list_a = write(tmp_path / "a.csv", "email", [f"p{i}@example.com" for i in range(0, 300)])
    list_b = write(tmp_path / "b.csv", "email", [f"P{i}@EXAMPLE.com" for i in range(200, 500)])
    offer = cli_here("overlap", "offer", str(list_b), "--org", "beta", "--format", "json",
                db_url=url_b, CROSSPROMO_SECRET_KEY=SECRET_B)  # fmt: skip
    assert offer.returncode == 0, offer.stderr
    made = json.loads(offer.stdout)
    assert (made["size"], made["not_sharing"]) == (200, 100)
    port = free_port()
    env = {**os.environ, "CROSSPROMO_SECRET_KEY": SECRET_B, "CROSSPROMO_DATABASE_URL": url_b}
    server = subprocess.Popen(
        [sys.executable, "-m", "crosspromo", "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        args = ["overlap", "request", str(list_a), "--url", f"http://127.0.0.1:{port}",
                "--session", made["session"], "--org", "alpha", "--format", "json"]  # fmt: skip
        wrong = cli_here(*args, "--token", "A" * 43, db_url=url_a)
        assert wrong.returncode == 9, wrong.stderr
        assert "does not verify" in wrong.stderr
        answered = cli_here(*args, "--token", made["token"], db_url=url_a)
        assert answered.returncode == 0, answered.stderr
        # both consent: 200..299 without multiples of 3 on either side
        expected = sum(1 for i in range(200, 300) if i % 3)
        result = json.loads(answered.stdout)
        sizes = (result["size_requester"], result["size_responder"], result["intersection"])
        assert sizes == (200, 200, expected)
        replay = cli_here(*args, "--token", made["token"], db_url=url_a)
        assert replay.returncode == 9
        assert "already answered" in replay.stderr
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    kept = cli_here("overlap", "sessions", "--org", "beta", "--format", "json",
               db_url=url_b, CROSSPROMO_SECRET_KEY=SECRET_B)  # fmt: skip
    stored = json.loads(kept.stdout)[0]
    assert (stored["status"], stored["intersection"], stored["partner"]) == ("done", expected, None)


def test_partners_commands_on_the_sample(tmp_path: Path) -> None:
    """Profile, rank (JSON), graph and outreach from the command line on a built sample (run in
    this process: the subject is what the commands compute; the process around them is tested
    with real processes elsewhere)."""
    url = f"sqlite:///{tmp_path / 's.db'}"
    assert cli_here("db", "upgrade", db_url=url).returncode == 0
    assert cli_here("sample", "--scale", "5", "--format", "json", db_url=url).returncode == 0
    ranked = cli_here("partners", "rank", "--org", "trailhead-outfitters", "--top", "3",
                 "--format", "json", db_url=url)  # fmt: skip
    assert ranked.returncode == 0, ranked.stderr
    data = json.loads(ranked.stdout)
    assert len(data["candidates"]) == 3
    first = data["candidates"][0]
    assert abs(sum(first["parts"].values()) - first["score"]) < 1e-9
    assert first["reasons"]
    out = tmp_path / "eco.graphml"
    assert cli_here("partners", "graph", "--org", "trailhead-outfitters", "--out", str(out),
               db_url=url).returncode == 0  # fmt: skip
    assert "<graphml" in out.read_text()
    draft = cli_here("partners", "outreach", "--org", "trailhead-outfitters", "--candidate",
                "peak-fitness", db_url=url)  # fmt: skip
    assert "Trailhead Outfitters x Peak Fitness" in draft.stdout
    gone = cli_here("partners", "profile", "delete", "--org", "peak-fitness", db_url=url)
    assert "removed the profile of peak-fitness" in gone.stdout
    missing = cli_here("partners", "profile", "show", "--org", "peak-fitness", db_url=url)
    assert missing.returncode == 4

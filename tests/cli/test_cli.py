"""The command line as a user runs it: a real process, real exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from crosspromo.config import Settings
from crosspromo.errors import ConfigError, InvalidInputError, NotFoundError
from crosspromo.store.migrate import head_revision
from crosspromo.web.app import create_app
from tests.conftest import TEST_SECRET


def cli(*args: str, db_url: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "CROSSPROMO_SECRET_KEY": TEST_SECRET, **env}
    for terminal in ("COLUMNS", "LINES"):  # xdist workers set 80 x 24; a pipe gets its own width
        environ.pop(terminal, None)
    if db_url is not None:
        environ["CROSSPROMO_DATABASE_URL"] = db_url
    return subprocess.run(
        [sys.executable, "-m", "crosspromo", *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=120,
        check=False,
    )


def cli_here(*args: str, db_url: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """The command run in this process through its entry point (``run``: the same parsing,
    output and one-line errors with exit codes), with the environment ``cli`` gives it. For
    tests whose subject is what a command computes, not the process around it (which the
    tests here keep running for real): a call costs no interpreter start (3-5 s on 2 cores)."""
    from click.testing import CliRunner

    from crosspromo.cli import output
    from crosspromo.cli.main import run

    environ: dict[str, str | None] = {"CROSSPROMO_SECRET_KEY": TEST_SECRET, "COLUMNS": None,
                                      "LINES": None, **env}  # fmt: skip
    if db_url is not None:
        environ["CROSSPROMO_DATABASE_URL"] = db_url
    code: int = 0
    kept_width = output.console._width  # decided at import; a process on a pipe gets 160
    output.console.width = 160
    with CliRunner().isolation(env=environ) as (stdout, stderr, _):
        try:
            run(list(args))
        except SystemExit as exc:  # Click exits when a command is done, as the process does
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        finally:
            output.console._width = kept_width
        sys.stdout.flush()  # the isolated streams are buffered text over these bytes
        sys.stderr.flush()
        out, err = stdout.getvalue().decode(), stderr.getvalue().decode()
    return subprocess.CompletedProcess(list(args), code, out, err)


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'cli.db'}"
    assert cli("db", "upgrade", db_url=url).returncode == 0
    built = cli("sample", "--seed", "42", "--scale", "5", "--format", "json", db_url=url)
    assert built.returncode == 0, built.stderr
    assert json.loads(built.stdout)["organizations"] == 12
    return url


def test_orgs_list_json(sample_db: str) -> None:
    r = cli("orgs", "list", "--format", "json", db_url=sample_db)
    assert r.returncode == 0
    orgs = json.loads(r.stdout)
    assert len(orgs) == 12
    assert set(orgs[0]) == {"slug", "name", "kind"}
    assert {"slug": "summit-coffee", "name": "Summit Coffee Roasters", "kind": "partner"} in orgs


def test_key_from_cli_is_accepted_by_api(sample_db: str) -> None:
    r = cli("keys", "create", "--org", "trailhead-outfitters", "--format", "json", db_url=sample_db)
    assert r.returncode == 0, r.stderr
    key = json.loads(r.stdout)["key"]
    other = json.loads(
        cli("keys", "create", "--org", "pixel-pets", "--format", "json", db_url=sample_db).stdout
    )["key"]
    settings = Settings(database_url=sample_db, secret_key=TEST_SECRET)  # type: ignore[arg-type]
    with TestClient(create_app(settings)) as client:
        mine = client.get("/api/v1/partnerships", headers={"Authorization": f"Bearer {key}"})
        assert mine.status_code == 200
        ids = {p["id"] for p in mine.json()["items"]}
        assert len(ids) == 7  # the cast's six and the sample plan's second roaster
        theirs = client.get("/api/v1/partnerships", headers={"Authorization": f"Bearer {other}"})
        assert theirs.status_code == 200
        assert ids.isdisjoint(
            p["id"]
            for p in theirs.json()["items"]
            if p["partner"]["slug"] != "trailhead-outfitters"
        )
        for pid in ids - {p["id"] for p in theirs.json()["items"]}:
            r = client.get(
                f"/api/v1/partnerships/{pid}", headers={"Authorization": f"Bearer {other}"}
            )
            assert r.status_code == 404


def test_unknown_org_is_one_line_and_exit_4(sample_db: str) -> None:
    r = cli("keys", "create", "--org", "no-such-org", "--format", "json", db_url=sample_db)
    assert r.returncode == NotFoundError.exit_code == 4
    assert r.stdout == ""
    assert r.stderr.strip() == "error: no organization with slug 'no-such-org' [not_found]"


def test_malformed_database_url_is_one_line_and_exit_3() -> None:
    r = cli("orgs", "list", db_url="postgres:/nonsense")
    assert r.returncode == ConfigError.exit_code == 3
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0] == (
        "error: invalid configuration: CROSSPROMO_DATABASE_URL: not a database URL: "
        "'postgres:/nonsense' (expected e.g. sqlite:///./crosspromo.db) [config_error]"
    )


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    r = cli("orgs", "list", db_url=f"sqlite:///{tmp_path}/missing/dir/x.db")
    assert r.returncode == 3
    assert "does not exist" in r.stderr
    r = cli("orgs", "list", db_url=f"sqlite:///{tmp_path}/empty.db")
    assert r.returncode == 3
    assert "run `crosspromo db upgrade`" in r.stderr


def test_invalid_input_exit_5(sample_db: str) -> None:
    r = cli("orgs", "create", "--slug", "Bad Slug", "--name", "x", db_url=sample_db)
    assert r.returncode == InvalidInputError.exit_code == 5
    assert "organization slug 'Bad Slug' is invalid" in r.stderr


def test_users_create_and_sample_reuse(sample_db: str) -> None:
    r = cli(
        "users",
        "create",
        "--org",
        "summit-coffee",
        "--email",
        "p@example.com",
        "--role",
        "partner",
        "--format",
        "json",
        db_url=sample_db,
        CROSSPROMO_NEW_PASSWORD="long-enough-pw",
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {
        "email": "p@example.com",
        "organization": "summit-coffee",
        "role": "partner",
    }
    again = cli("sample", "--seed", "42", "--scale", "5", "--format", "json", db_url=sample_db)
    assert json.loads(again.stdout)["reused"] is True


def _command_paths() -> list[list[str]]:
    """Every command and group of the CLI, found by walking it (none can be forgotten): the
    root's subcommands are loaded as the root loads them when they run."""
    from crosspromo.cli.main import COMMANDS, load

    paths: list[list[str]] = [[]]

    def walk(command: Any, path: list[str]) -> None:
        paths.append(path)
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    for name in COMMANDS:
        walk(load(name), [name])
    return paths


@pytest.mark.parametrize("command", _command_paths(), ids=lambda p: " ".join(p) or "root")
def test_every_command_has_help(command: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process (the real-process tests are above): help works even with a broken setting."""
    from typer.testing import CliRunner

    from crosspromo.cli.main import app

    monkeypatch.setenv("CROSSPROMO_DATABASE_URL", "bad://")
    r = CliRunner().invoke(app, [*command, "--help"])
    assert r.exit_code == 0, r.output
    assert "Usage" in r.output
    assert "--help" in r.output
    assert len(r.output.split("Usage", 1)[1].strip()) > 40, "the help says too little"


def test_usage_error_exit_2() -> None:
    r = cli("orgs", "list", "--format", "xml")
    assert r.returncode == 2
    assert "xml" in r.stderr


def test_db_upgrade_json(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'u.db'}"
    first = json.loads(cli("db", "upgrade", "--format", "json", db_url=url).stdout)
    assert first == {"before": None, "after": head_revision(), "changed": True}
    second = json.loads(cli("db", "upgrade", "--format", "json", db_url=url).stdout)
    assert second["changed"] is False


def test_serve_with_two_workers(sample_db: str) -> None:
    """`serve` hands its settings to every worker process; both answer with the same data."""
    import signal
    import time

    import httpx2 as httpx

    from tests.browser.conftest import free_port

    port = free_port()
    key = json.loads(
        cli("keys", "create", "--org", "ridge-bikes", "--format", "json", db_url=sample_db).stdout
    )["key"]
    env = {**os.environ, "CROSSPROMO_SECRET_KEY": TEST_SECRET}
    process = subprocess.Popen(
        [sys.executable, "-m", "crosspromo", "--database-url", sample_db, "serve",
         "--port", str(port), "--workers", "2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        counts = set()
        while time.monotonic() < deadline and len(counts) == 0:
            try:
                r = httpx.get(
                    f"http://127.0.0.1:{port}/api/v1/partnerships",
                    headers={"Authorization": f"Bearer {key}"},
                    timeout=2,
                )
                counts.add(r.json()["count"])
            except httpx.TransportError:
                time.sleep(0.25)
        for _ in range(20):
            with httpx.Client() as fresh:  # a new connection each time, spread over workers
                r = fresh.get(
                    f"http://127.0.0.1:{port}/api/v1/partnerships",
                    headers={"Authorization": f"Bearer {key}"},
                )
                counts.add(r.json()["count"])
        assert counts == {2}
        busy = cli("serve", "--port", str(port), db_url=sample_db)
        assert busy.returncode == 3
        assert f"cannot listen on 127.0.0.1:{port}" in busy.stderr
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        output = process.communicate(timeout=30)[0]
    assert output.count("Started server process") >= 2, output


def test_links_domains_and_conversion_import(sample_db: str, tmp_path: Path) -> None:
    """What the commands compute and refuse, run in this process (the process around them is
    tested for real above)."""
    org = "--org", "wanderlust-travel"
    added = cli_here(
        "orgs", "domains", "add", *org, "Trips.Example", "--format", "json", db_url=sample_db
    )
    assert json.loads(added.stdout) == {"domain": "trips.example", "added": True}
    made = cli_here(
        "links", "create", *org, "--partner", "nomad-insurance", "--campaign", "summer",
        "--destination", "https://book.trips.example/?lang=en", "--format", "json",
        db_url=sample_db,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    link = json.loads(made.stdout)
    assert link["destination"] == (
        "https://book.trips.example/?lang=en&utm_source=nomad-insurance&utm_medium=partner"
        "&utm_campaign=summer"
    )
    refused = cli_here(
        "links", "create", *org, "--partner", "nomad-insurance", "--destination", "https://x.test/",
        db_url=sample_db,
    )  # fmt: skip
    assert refused.returncode == 5
    assert "not on this organization's allow-list" in refused.stderr
    csv_file = tmp_path / "c.csv"
    csv_file.write_text(
        "type,occurred_at,amount_minor,currency\nsale,2026-01-01T00:00:00Z,100,EUR\n"
    )
    imported = cli_here(
        "conversions", "import", str(csv_file), *org, "--format", "json", db_url=sample_db
    )
    assert json.loads(imported.stdout)["imported"] == 1
    csv_file.write_text("type,occurred_at,amount_minor,currency\nsale,2026-01-01T00:00:00Z,1,eur\n")
    bad = cli_here("conversions", "import", str(csv_file), *org, db_url=sample_db)
    assert bad.returncode == 5
    assert bad.stderr.startswith("error: line 2, column currency: currency 'eur'")

"""Experiments over the API and the CLI: stable assignment, exposures logged once, layers kept
apart, and the audience file assigned exactly as the API assigns."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from click.testing import Result

from crosspromo.domain.experiments import Design
from crosspromo.errors import InvalidTransitionError
from tests.cli.test_cli import cli_here
from tests.conftest import TEST_SECRET
from tests.web.conftest import World


def test_create_assign_and_expose(world: World) -> None:
    auth = world.auth("acme")
    created = world.client.post(
        "/api/v1/experiments",
        json={"name": "Newsletter offer", "arms": [{"name": "control", "weight": 2},
                                                    {"name": "partner"}], "layer": "mail"},
        headers=auth,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    experiment = created.json()
    assert (experiment["control"], experiment["status"]) == ("control", "running")
    path = f"/api/v1/experiments/{experiment['id']}"
    arms = {}
    for unit in ("Ann@Example.com", "ann@example.com ", "bob", "cyd"):
        response = world.client.get(f"{path}/assignment", params={"unit": unit}, headers=auth)
        assert response.status_code == 200, response.text
        arms[unit] = response.json()["arm"]
    assert arms["Ann@Example.com"] == arms["ann@example.com "]  # the same customer
    again = world.client.get(f"{path}/assignment", params={"unit": "bob"}, headers=auth)
    assert again.json()["arm"] == arms["bob"]
    items = [{"unit": u} for u in ("bob", "cyd", "bob", "Ann@Example.com")]
    logged = world.client.post(f"{path}/exposures", json={"items": items}, headers=auth).json()
    assert (logged["recorded"], logged["already_recorded"]) == (3, 1)
    replay = world.client.post(f"{path}/exposures", json={"items": items}, headers=auth).json()
    assert (replay["recorded"], replay["already_recorded"]) == (0, 4)
    assert sum(replay["by_arm"].values()) == 4


def test_layers_keep_experiments_apart(world: World) -> None:
    auth = world.auth("acme")
    first = {"name": "a", "layer": "home", "traffic": [0, 0.5], "holdout": 0.1}
    assert world.client.post("/api/v1/experiments", json=first, headers=auth).status_code == 201
    overlap = first | {"name": "b", "traffic": [0.4, 1]}
    clash = world.client.post("/api/v1/experiments", json=overlap, headers=auth)
    assert clash.status_code == 409
    assert "overlap in layer 'home'" in clash.json()["detail"]
    other_holdout = first | {"name": "c", "traffic": [0.5, 1], "holdout": 0.2}
    clash = world.client.post("/api/v1/experiments", json=other_holdout, headers=auth)
    assert clash.status_code == 409
    assert "disagree on its holdout" in clash.json()["detail"]
    fine = first | {"name": "d", "traffic": [0.5, 1]}
    assert world.client.post("/api/v1/experiments", json=fine, headers=auth).status_code == 201
    bad = world.client.post(
        "/api/v1/experiments", json={"name": "e", "traffic": [0.7, 0.2]}, headers=auth
    )
    assert bad.status_code == 422
    assert "traffic" in bad.text


def test_audience_file_matches_the_api(world: World, tmp_path: Path) -> None:
    experiment_id = world.experiment_ids["acme"]
    units = [f"customer-{i}@example.com" for i in range(300)]
    audience = tmp_path / "audience.parquet"
    pq.write_table(pa.table({"email": units}), audience)
    out = tmp_path / "assigned.csv"
    done = cli_here(
        "experiment", "assign", str(audience), "--org", "acme", "--experiment",
        str(experiment_id), "--unit-column", "email", "--out", str(out), "--format", "json",
        db_url=world.settings.database_url,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout)
    assert sum(counts["by_arm"][arm] for arm in ("control", "partner", "brand")) == 300
    lines = out.read_text().splitlines()[1:]
    auth = world.auth("acme")
    for line in lines[:25]:
        unit, arm = (v.strip('"') for v in line.split(","))
        api = world.client.get(
            f"/api/v1/experiments/{experiment_id}/assignment", params={"unit": unit}, headers=auth
        )
        assert api.json()["arm"] == arm
    listed = cli_here("experiment", "list", "--org", "acme", "--format", "json",
                 db_url=world.settings.database_url)  # fmt: skip
    salt = json.loads(listed.stdout)[0]["salt"]
    assert Design(salt).assign(units[0]) == lines[0].split(",")[1].strip('"')


def test_results_join_sales_after_exposure(world: World) -> None:
    auth = world.auth("acme")
    experiment_id = world.experiment_ids["acme"]
    path = f"/api/v1/experiments/{experiment_id}"
    units = [f"buyer{i}@example.com" for i in range(60)]
    exposed = [  # two days of exposure: two looks for the always-valid p-values
        {"unit": u, "exposed_at": f"2026-03-0{1 + i % 2}T00:00:00Z"} for i, u in enumerate(units)
    ]
    assert world.client.post(f"{path}/exposures", json={"items": exposed}, headers=auth).is_success
    sales = [
        {"type": "sale", "occurred_at": when, "amount_minor": 1000, "currency": "EUR",
         "order_id": f"o{i}-{when[:10]}", "customer_external_id": units[i]}
        for i in range(0, 60, 3)
        for when in ("2026-03-05T00:00:00Z", "2026-02-20T00:00:00Z")  # after; before exposure
    ] + [  # 45 days after exposure: outside the default 30-day window, inside a 60-day one
        {"type": "sale", "occurred_at": "2026-04-15T12:00:00Z", "amount_minor": 500,
         "currency": "EUR", "order_id": f"late{i}", "customer_external_id": units[i]}
        for i in range(1, 60, 3)
    ]  # fmt: skip
    recorded = world.client.post(
        "/api/v1/conversions/batch", json={"conversions": sales}, headers=auth
    )
    assert recorded.status_code in (200, 201), recorded.text
    results = world.client.get(f"{path}/results", headers=auth)
    assert results.status_code == 200, results.text
    body = results.json()
    arms = {a["arm"]: a for a in body["arms"]}
    assert sum(a["n"] for a in arms.values()) == 60
    assignment = {
        u: world.client.get(f"{path}/assignment", params={"unit": u}, headers=auth).json()["arm"]
        for u in units
    }
    for arm, result in arms.items():
        mine = [i for i, u in enumerate(units) if assignment[u] == arm]
        buyers = [i for i in mine if i % 3 == 0]
        assert result["n"] == len(mine)
        assert result["metrics"]["converted"]["mean"] == len(buyers) / len(mine)
        assert result["metrics"]["value"]["mean"] == 1000 * len(buyers) / len(mine)
        if arm != body["control"]:
            sequential = result["metrics"]["converted"]["sequential_p_value"]
            # the always-valid p-value is the least over the looks (two days here), so it may
            # fall below the last look's fixed-horizon p-value: a share, nothing more, is sure
            assert sequential is not None
            assert 0 < sequential <= 1
    # 60 units over three arms: the figures are shown, no decision is drawn from them
    assert body["decision"]["action"] == "collecting_data"
    assert "100 per arm are needed" in body["decision"]["reason"]
    longer = world.client.get(f"{path}/results", params={"window_days": 60}, headers=auth).json()
    for result in longer["arms"]:
        mine = [i for i, u in enumerate(units) if assignment[u] == result["arm"]]
        late = [i for i in mine if i % 3 == 1]
        buyers = [i for i in mine if i % 3 == 0]
        assert result["metrics"]["converted"]["mean"] == (len(buyers) + len(late)) / len(mine)
        expected = (1000 * len(buyers) + 500 * len(late)) / len(mine)
        assert result["metrics"]["value"]["mean"] == expected


def test_exposure_file_and_results_from_the_cli(world: World, tmp_path: Path) -> None:
    experiment_id = world.experiment_ids["acme"]
    units = [f"reader{i}@example.com" for i in range(200)]
    times = [f"2026-05-0{1 + i % 3}T09:00:00+02:00" for i in range(200)]
    bad = tmp_path / "bad.csv"
    rows = [f"{u},{t}\n" for u, t in zip(units, times, strict=True)]
    bad.write_text("email,seen\n" + "".join(rows) + "late@example.com,2026-05-04T09:00:00\n")
    args = ("--org", "acme", "--experiment", str(experiment_id), "--unit-column", "email",
            "--time-column", "seen", "--format", "json")  # fmt: skip
    failed = cli_here("experiment", "expose", str(bad), *args, db_url=world.settings.database_url)
    assert failed.returncode != 0
    assert "bad.csv, row 201, column seen: needs a time zone" in failed.stderr
    auth = world.auth("acme")
    path = f"/api/v1/experiments/{experiment_id}"
    assert (
        sum(a["n"] for a in world.client.get(f"{path}/results", headers=auth).json()["arms"]) == 0
    )

    good = tmp_path / "seen.parquet"
    pq.write_table(pa.table({"email": units, "seen": times}), good)
    done = cli_here("experiment", "expose", str(good), *args, db_url=world.settings.database_url)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["recorded"] == 200
    again = cli_here("experiment", "expose", str(good), *args, db_url=world.settings.database_url)
    assert json.loads(again.stdout) | {"by_arm": None} == {
        "recorded": 0, "already_recorded": 200, "not_in_experiment": 0, "by_arm": None,
    }  # fmt: skip
    sales = [
        {"type": "sale", "occurred_at": "2026-05-10T00:00:00Z", "amount_minor": 700,
         "currency": "EUR", "order_id": f"r{i}", "customer_external_id": units[i]}
        for i in range(0, 200, 4)
    ]  # fmt: skip
    assert world.client.post(
        "/api/v1/conversions/batch", json={"conversions": sales}, headers=auth
    ).is_success
    api = world.client.get(f"{path}/results", headers=auth).json()
    shown = cli_here("experiment", "results", "--org", "acme", "--experiment", str(experiment_id),
                "--format", "json", db_url=world.settings.database_url)  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == api
    assert sum(a["n"] for a in api["arms"]) == 200
    assert all(
        a["metrics"]["converted"]["sequential_p_value"] is not None
        for a in api["arms"] if a["arm"] != api["control"]
    )  # fmt: skip
    table = cli_here("experiment", "results", "--org", "acme", "--experiment", str(experiment_id),
                db_url=world.settings.database_url)  # fmt: skip
    assert "always valid" in table.stdout
    assert "decision" in table.stdout


def test_an_experiment_is_started_stopped_and_shipped(world: World) -> None:
    """draft → running → stopped → shipped: a draft takes no units and may overlap running
    experiments until it starts; a stopped one logs no exposures; a shipped arm goes to all."""
    auth = world.auth("acme")
    running = {"name": "a", "layer": "home", "traffic": [0, 0.6]}
    assert world.client.post("/api/v1/experiments", json=running, headers=auth).status_code == 201
    draft = world.client.post(
        "/api/v1/experiments", headers=auth,
        json={"name": "b", "layer": "home", "traffic": [0.5, 1], "start": False,
              "partner": "beans"},
    ).json()  # fmt: skip
    assert (draft["status"], draft["started_at"], draft["partner"]) == ("draft", None, "beans")
    path = f"/api/v1/experiments/{draft['id']}"
    assert world.client.get(f"{path}/assignment?unit=u1", headers=auth).json()["arm"] is None
    clash = world.client.post(f"{path}/status", json={"status": "running"}, headers=auth)
    assert clash.status_code == 409
    assert "overlap in layer 'home'" in clash.json()["detail"]
    assert world.client.get(path, headers=auth).json()["status"] == "draft"  # nothing changed
    other = world.client.post(
        "/api/v1/experiments", headers=auth, json={"name": "c", "layer": "checkout", "start": False}
    ).json()
    other_path = f"/api/v1/experiments/{other['id']}"
    started = world.client.post(f"{other_path}/status", json={"status": "running"}, headers=auth)
    assert started.json()["status"] == "running"
    assert started.json()["started_at"]
    exposed = {"items": [{"unit": "u1"}]}
    logged = world.client.post(f"{other_path}/exposures", json=exposed, headers=auth)
    assert logged.status_code == 200
    stopped = world.client.post(f"{other_path}/status", json={"status": "stopped"}, headers=auth)
    assert stopped.json()["stopped_at"]
    late = world.client.post(f"{other_path}/exposures", json=exposed, headers=auth)
    assert late.status_code == 409
    assert "only while it runs" in late.json()["detail"]
    wrong = world.client.post(
        f"{other_path}/status", json={"status": "shipped", "arm": "nobody"}, headers=auth
    )
    assert wrong.status_code == 422
    assert "control, partner, brand" in wrong.json()["detail"]
    shipped = world.client.post(
        f"{other_path}/status", json={"status": "shipped", "arm": "partner"}, headers=auth
    ).json()
    assert (shipped["status"], shipped["shipped_arm"]) == ("shipped", "partner")
    for unit in ("u1", "u2", "someone@example.com"):
        got = world.client.get(f"{other_path}/assignment?unit={unit}", headers=auth).json()
        assert got["arm"] == "partner"
    back = world.client.post(f"{other_path}/status", json={"status": "running"}, headers=auth)
    assert back.status_code == 409
    assert back.json()["code"] == "invalid_transition"
    stranger = world.client.post(
        "/api/v1/experiments", headers=auth, json={"name": "d", "partner": "other"}
    )
    assert stranger.status_code == 422
    assert "no open partnership" in stranger.json()["detail"]


def test_the_cli_drafts_starts_stops_and_ships(world: World) -> None:
    """The lifecycle the dashboard's buttons move, from the command line (run in this process:
    the commands, not the interpreter's start, are what is tested here); a step out of order
    is refused with the statuses it could take."""
    from typer.testing import CliRunner

    from crosspromo.cli.main import app

    env = {"CROSSPROMO_DATABASE_URL": world.settings.database_url,
           "CROSSPROMO_SECRET_KEY": TEST_SECRET}  # fmt: skip

    def run(*args: str, ok: bool = True) -> Result:
        done = CliRunner().invoke(app, ["experiment", *args, "--org", "acme"], env=env)
        assert (done.exit_code == 0) is ok, done.output
        return done

    def step(*args: str) -> dict[str, object]:
        found = json.loads(run(*args, "--format", "json").stdout)
        assert isinstance(found, dict)
        return found

    made = step("create", "--name", "cli lifecycle", "--layer", "cli", "--draft",
                "--partner", "beans")  # fmt: skip
    assert (made["status"], made["partner"], made["started_at"]) == ("draft", "beans", None)
    number = str(made["id"])
    assert step("start", "--experiment", number)["status"] == "running"
    assert step("stop", "--experiment", number)["status"] == "stopped"
    shipped = step("ship", "--experiment", number, "--arm", "partner")
    assert (shipped["status"], shipped["shipped_arm"]) == ("shipped", "partner")
    again = run("start", "--experiment", number, ok=False)  # the entry point prints it
    assert isinstance(again.exception, InvalidTransitionError)
    assert "is shipped: it cannot become running" in str(again.exception)


def test_the_decision_follows_the_chosen_metric(world: World) -> None:
    """The same data read by two experiments: the partner arm's buyers spend five times as
    much while exactly half of each arm buys. Decided on sales per customer, ship the partner
    arm; decided on the share who buy, keep the control. Both report both measures."""
    auth = world.auth("acme")
    decisions = {}
    for metric in ("value", "converted"):
        made = world.client.post(
            "/api/v1/experiments", headers=auth,
            json={"name": f"on {metric}", "layer": f"metric-{metric}", "metric": metric,
                  "arms": [{"name": "control"}, {"name": "partner"}]},
        )  # fmt: skip
        assert made.status_code == 201, made.text
        assert made.json()["metric"] == metric
        path = f"/api/v1/experiments/{made.json()['id']}"
        units = [f"{metric}-{i}@example.com" for i in range(400)]
        world.client.post(
            f"{path}/exposures", headers=auth,
            json={"items": [{"unit": u, "exposed_at": "2026-03-01T00:00:00Z"} for u in units]},
        ).raise_for_status()  # fmt: skip
        by_arm: dict[str, list[str]] = {"control": [], "partner": []}
        for u in units:
            arm = world.client.get(f"{path}/assignment", params={"unit": u}, headers=auth)
            by_arm[arm.json()["arm"]].append(u)
        sales = [
            {"type": "sale", "occurred_at": "2026-03-05T00:00:00Z", "currency": "EUR",
             "amount_minor": (5000 if arm == "partner" else 1000) + 10 * (i % 7),
             "order_id": f"{u}-order", "customer_external_id": u}
            for arm, members in by_arm.items()
            for i, u in enumerate(members) if i % 2 == 0
        ]  # fmt: skip
        world.client.post(
            "/api/v1/conversions/batch", json={"conversions": sales}, headers=auth
        ).raise_for_status()
        body = world.client.get(f"{path}/results", headers=auth).json()
        assert [set(a["metrics"]) for a in body["arms"]] == [{"converted", "value"}] * 2
        decisions[metric] = (body["decision"]["action"], body["decision"]["arm"])
    assert decisions == {"value": ("ship", "partner"), "converted": ("keep_control", None)}
    bad = world.client.post(
        "/api/v1/experiments", headers=auth, json={"name": "x", "metric": "clicks"}
    )
    assert bad.status_code == 422
    assert "metric" in bad.text

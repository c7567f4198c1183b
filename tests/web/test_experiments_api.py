"""Experiments over the API and the CLI: stable assignment, exposures logged once, layers kept
apart, and the audience file assigned exactly as the API assigns."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from crosspromo.config import Settings
from crosspromo.domain.experiments import Design
from tests.cli.test_cli import cli
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


def test_audience_file_matches_the_api(world: World, settings: Settings, tmp_path: Path) -> None:
    experiment_id = world.experiment_ids["acme"]
    units = [f"customer-{i}@example.com" for i in range(300)]
    audience = tmp_path / "audience.parquet"
    pq.write_table(pa.table({"email": units}), audience)
    out = tmp_path / "assigned.csv"
    done = cli(
        "experiment", "assign", str(audience), "--org", "acme", "--experiment",
        str(experiment_id), "--unit-column", "email", "--out", str(out), "--format", "json",
        db_url=settings.database_url,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout)
    assert counts["control"] + counts["partner"] + counts["brand"] == 300
    lines = out.read_text().splitlines()[1:]
    auth = world.auth("acme")
    for line in lines[:25]:
        unit, arm = (v.strip('"') for v in line.split(","))
        api = world.client.get(
            f"/api/v1/experiments/{experiment_id}/assignment", params={"unit": unit}, headers=auth
        )
        assert api.json()["arm"] == arm
    listed = cli("experiment", "list", "--org", "acme", "--format", "json",
                 db_url=settings.database_url)  # fmt: skip
    salt = json.loads(listed.stdout)[0]["salt"]
    assert Design(salt).assign(units[0]) == lines[0].split(",")[1].strip('"')

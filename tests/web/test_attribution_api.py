"""GET /api/v1/attribution gives what `crosspromo attribution run --org` gives, and refuses bad
parameters with a problem naming them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from crosspromo.config import Settings
from crosspromo.services.admin.database import open_database
from crosspromo.store import tables as t
from crosspromo.store.repositories import OrganizationRepository
from crosspromo.web.app import create_server
from tests.cli.test_cli import cli_here
from tests.conftest import Snapshot, sample_with_keys

BRAND = "trailhead-outfitters"


@pytest.fixture
def sampled(snapshot: Snapshot[dict[str, str]]) -> tuple[TestClient, str, Settings]:
    """The sample (seed 5, scale 5) with a key of the brand's, copied for this test."""
    settings, keys = snapshot(*sample_with_keys(5, 5))
    return TestClient(create_server(settings)), keys[BRAND], settings


def test_api_matches_the_cli(sampled: tuple[TestClient, str, Settings]) -> None:
    client, key, settings = sampled
    with client:
        response = client.get(
            "/api/v1/attribution",
            params={"model": "all", "lookback_days": 21},
            headers={"Authorization": f"Bearer {key}"},
        )
    assert response.status_code == 200, response.text
    body = response.json()
    done = cli_here(
        "attribution", "run", "--org", BRAND, "--lookback-days", "21", "--format", "json",
        db_url=settings.database_url,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == body
    assert [m["model"] for m in body["models"]] == [
        "first", "last", "last_non_direct", "linear", "time_decay", "position", "markov_1",
        "shapley",
    ]  # fmt: skip
    assert body["currency"] == "EUR"
    for model in body["models"]:
        for label in ("channels", "partners"):
            credited = sum(e["conversions"] for e in model[label])
            assert credited + body["untouched_conversions"] == pytest.approx(body["conversions"])


def test_api_intervals(sampled: tuple[TestClient, str, Settings]) -> None:
    client, key, _ = sampled
    with client:
        response = client.get(
            "/api/v1/attribution",
            params={"model": "markov", "bootstrap": 20},
            headers={"Authorization": f"Bearer {key}"},
        )
    assert response.status_code == 200, response.text
    (markov,) = response.json()["models"]
    for entry in markov["channels"]:
        low, high = entry["conversions_interval"]
        assert low <= high


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"model": "magic"}, "model"),
        ({"order": 4}, "order"),
        ({"lookback_days": 0}, "lookback_days"),
        ({"first_share": 0.7, "last_share": 0.7}, "position"),
        ({"bootstrap": 1}, "bootstrap"),
        ({"kind": "refund"}, "kind"),
    ],
)
def test_bad_parameters(
    sampled: tuple[TestClient, str, Settings], params: dict[str, object], field: str, tmp_path: Path
) -> None:
    client, key, _ = sampled
    with client:
        response = client.get(
            "/api/v1/attribution", params=params, headers={"Authorization": f"Bearer {key}"}
        )
    assert response.status_code in (400, 422), response.text
    assert field in response.text


def test_cli_table_shows_intervals(sampled: tuple[TestClient, str, Settings]) -> None:
    _, _, settings = sampled
    done = cli_here(
        "attribution", "run", "--org", BRAND, "--model", "last", "--bootstrap", "5",
        "--format", "csv", db_url=settings.database_url,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "model,by,name,conversions,value,conversions 95%,value 95%"
    assert any(line.startswith("last,partner,own,") and " to " in line for line in lines)
    neither = cli_here("attribution", "run", db_url=settings.database_url)
    assert neither.returncode != 0
    assert "give either --paths FILE or --org SLUG" in neither.stderr


def test_a_range_of_days_credits_only_its_conversions(
    sampled: tuple[TestClient, str, Settings],
) -> None:
    client, key, settings = sampled
    auth = {"Authorization": f"Bearer {key}"}
    db = open_database(settings)
    with db.transaction() as session:
        org_id = OrganizationRepository(session).by_slug(BRAND).id
        v = t.conversions.c
        in_range = session.execute(
            select(func.count()).where(
                v.org_id == org_id, v.kind == "sale", v.currency == "EUR",
                v.occurred_at >= datetime(2026, 10, 1, tzinfo=UTC),
                v.occurred_at < datetime(2026, 11, 1, tzinfo=UTC),
            )
        ).scalar_one()  # fmt: skip
    db.dispose()
    with client:
        whole = client.get("/api/v1/attribution", headers=auth).json()
        october = client.get(
            "/api/v1/attribution", params={"from": "2026-10-01", "to": "2026-10-31"}, headers=auth
        ).json()
        reversed_days = client.get(
            "/api/v1/attribution", params={"from": "2026-10-31", "to": "2026-10-01"}, headers=auth
        )
        out_of_bounds = [  # the look-back before the first day, the day after the last
            client.get("/api/v1/attribution", params={edge: day}, headers=auth)
            for edge, day in (("from", "0001-01-05"), ("to", "9999-12-31"))
        ]
    assert (whole["start"], whole["end"]) == (None, None)
    assert (october["start"], october["end"]) == ("2026-10-01", "2026-10-31")
    assert 0 < october["conversions"] == in_range < whole["conversions"]
    for model in october["models"]:
        credited = sum(e["conversions"] for e in model["partners"])
        assert credited + october["untouched_conversions"] == pytest.approx(in_range)
    assert reversed_days.status_code == 422
    assert "is after" in reversed_days.json()["detail"]
    for refused, edge in zip(out_of_bounds, ("from", "to"), strict=True):
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"].startswith(f"{edge} (")

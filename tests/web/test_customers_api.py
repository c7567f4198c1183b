"""GET /api/v1/clv and /api/v1/churn give what `crosspromo clv fit --org` and `crosspromo churn
--org` give on the sample, and refuse bad parameters with a problem naming them."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from crosspromo.config import Settings
from crosspromo.web.app import create_server
from tests.cli.test_cli import cli_here
from tests.compare import close
from tests.conftest import Snapshot, sample_with_keys

BRAND = "trailhead-outfitters"  # the sample's brand with purchases of known parameters


@pytest.fixture
def sampled(snapshot: Snapshot[dict[str, str]]) -> tuple[TestClient, dict[str, str], Settings]:
    """The sample (seed 5, scale 10) with keys of two of its organizations, copied for this
    test."""
    settings, keys = snapshot(*sample_with_keys(5, 10))
    return TestClient(create_server(settings)), keys, settings


def test_api_matches_the_cli(
    sampled: tuple[TestClient, dict[str, str], Settings],
) -> None:
    client, keys, settings = sampled
    auth = {"Authorization": f"Bearer {keys[BRAND]}"}
    with client:
        clv = client.get("/api/v1/clv", params={"period": "week"}, headers=auth)
        churn = client.get("/api/v1/churn", params={"inactivity_days": 60}, headers=auth)
    assert clv.status_code == 200, clv.text
    assert churn.status_code == 200, churn.text
    fitted = cli_here(
        "clv", "fit", "--org", BRAND, "--format", "json", db_url=settings.database_url
    )
    assert fitted.returncode == 0, fitted.stderr
    assert close(json.loads(fitted.stdout), clv.json(), rel=1e-5)  # DuckDB sums in any order
    survival = cli_here("churn", "--org", BRAND, "--inactivity-days", "60", "--format", "json",
                   db_url=settings.database_url)  # fmt: skip
    assert survival.returncode == 0, survival.stderr
    assert close(json.loads(survival.stdout), churn.json(), rel=1e-5)
    body = clv.json()
    assert set(body["by_source"]) == {"organic", "summit-coffee", "ridge-bikes"}
    assert sum(s["customers"] for s in body["by_source"].values()) == body["customers"]
    assert set(churn.json()["sources"]) == set(body["by_source"])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "fortnight"}, "period"),
        ({"calibration_end": "2025-13-45"}, "calibration_end"),
        ({"currency": "euro"}, "currency"),
    ],
)
def test_bad_parameters_are_named(
    sampled: tuple[TestClient, dict[str, str], Settings], params: dict[str, str], field: str
) -> None:
    client, keys, _ = sampled
    with client:
        response = client.get(
            "/api/v1/clv", params=params, headers={"Authorization": f"Bearer {keys[BRAND]}"}
        )
    assert response.status_code == 422, response.text
    assert field in response.text


def test_an_organization_without_customer_sales_is_told(
    sampled: tuple[TestClient, dict[str, str], Settings],
) -> None:
    client, keys, _ = sampled
    with client:
        response = client.get(
            "/api/v1/churn", headers={"Authorization": f"Bearer {keys['pixel-pets']}"}
        )
    assert response.status_code == 422
    assert "no sales by known customers" in response.text

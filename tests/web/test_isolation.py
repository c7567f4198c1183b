"""Every /api/v1 route keeps each organization's data to itself."""

from __future__ import annotations

import pytest

from tests.web.conftest import World
from tests.web.isolation import CASES


def _api_routes(world: World) -> set[tuple[str, str]]:
    """Every (method, path) the API publishes, read from its OpenAPI schema."""
    paths = world.client.get("/openapi.json").json()["paths"]
    return {
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith("/api/")
        for method in operations
    }


def test_every_api_route_has_an_isolation_case(world: World) -> None:
    assert _api_routes(world) == set(CASES)


@pytest.mark.parametrize("route", sorted(CASES), ids=lambda r: f"{r[0]} {r[1]}")
def test_other_organization_gets_nothing(world: World, route: tuple[str, str]) -> None:
    case = CASES[route]
    intruder = case.send(world, case.intruder)
    if case.leaks is None:
        assert intruder.status_code == 404, intruder.text
        assert intruder.headers["content-type"] == "application/problem+json"
        assert intruder.json()["code"] == "not_found"
    else:
        assert intruder.status_code < 500, intruder.text
        if intruder.status_code < 300:
            is_json = intruder.headers.get("content-type", "").startswith("application/json")
            seen = intruder.json() if is_json else intruder.text
            assert not case.leaks(world, seen)
    owner = case.send(world, case.owner)
    assert owner.status_code in (case.owner_status, 200, 201), owner.text


@pytest.mark.parametrize("route", sorted(CASES), ids=lambda r: f"{r[0]} {r[1]}")
def test_no_key_no_access(shared_world: World, route: tuple[str, str]) -> None:
    response = CASES[route].send(shared_world, None)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["code"] == "unauthenticated"

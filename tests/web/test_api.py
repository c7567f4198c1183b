"""REST API behaviour and its errors (application/problem+json)."""

from __future__ import annotations

from collections.abc import Iterator

from tests.web.conftest import World

PROBLEM = "application/problem+json"


def test_health_and_docs(world: World) -> None:
    assert world.client.get("/healthz").json()["status"] == "ok"
    assert world.client.get("/docs").status_code == 200
    schema = world.client.get("/openapi.json").json()
    assert "/api/v1/partnerships" in schema["paths"]


def test_list_and_filter_partnerships(world: World) -> None:
    body = world.client.get("/api/v1/partnerships", headers=world.auth("beans")).json()
    assert body["count"] == 2
    assert {p["partner"]["slug"] for p in body["items"]} == {"acme", "other"}
    assert {p["role"] for p in body["items"]} == {"partner"}
    filtered = world.client.get(
        "/api/v1/partnerships?status=active", headers=world.auth("beans")
    ).json()
    assert [p["name"] for p in filtered["items"]] == ["Acme x Beans"]
    bad = world.client.get("/api/v1/partnerships?status=open", headers=world.auth("beans"))
    assert bad.status_code == 422
    assert "status 'open'" in bad.json()["detail"]


def test_create_and_move_partnership(world: World) -> None:
    created = world.client.post(
        "/api/v1/partnerships", json={"partner": "other", "name": "New"}, headers=world.auth("acme")
    )
    assert created.status_code == 201
    pid = created.json()["id"]
    moved = world.client.post(
        f"/api/v1/partnerships/{pid}/status",
        json={"status": "negotiating"},
        headers=world.auth("other"),
    )
    assert moved.json()["status"] == "negotiating"
    illegal = world.client.post(
        f"/api/v1/partnerships/{pid}/status", json={"status": "paused"}, headers=world.auth("acme")
    )
    assert illegal.status_code == 409
    assert illegal.json()["code"] == "invalid_transition"


def test_unknown_partner_slug_is_404_problem(world: World) -> None:
    r = world.client.post(
        "/api/v1/partnerships", json={"partner": "ghost", "name": "x"}, headers=world.auth("acme")
    )
    assert r.status_code == 404
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["detail"] == "no organization with slug 'ghost'"


def test_invalid_json_body_is_400_problem(world: World) -> None:
    r = world.client.post(
        "/api/v1/partnerships",
        content=b'{"partner": "beans", "name": ',
        headers={**world.auth("acme"), "content-type": "application/json"},
    )
    assert r.status_code == 400
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["code"] == "malformed_body"
    assert body["detail"] == "the request body is not valid JSON: Expecting value (offset 29)"
    assert body["status"] == 400


def test_validation_error_names_the_field(world: World) -> None:
    r = world.client.post(
        "/api/v1/partnerships", json={"partner": "beans", "nam": "x"}, headers=world.auth("acme")
    )
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "invalid_input"
    assert {e["field"] for e in body["errors"]} == {"name", "nam"}


def test_oversized_body_is_413_problem(world: World) -> None:
    big = b'{"external_id": "' + b"x" * 2_000_000 + b'"}'
    r = world.client.post(
        "/api/v1/customers",
        content=big,
        headers={**world.auth("acme"), "content-type": "application/json"},
    )
    assert r.status_code == 413
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["code"] == "payload_too_large"


def test_oversized_streamed_body_without_length_is_413(world: World) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"external_id": "'
        for _ in range(40):
            yield b"y" * 65536
        yield b'"}'

    r = world.client.post(
        "/api/v1/customers",
        content=chunks(),
        headers={**world.auth("acme"), "content-type": "application/json"},
    )
    assert r.status_code == 413
    assert r.json()["code"] == "payload_too_large"


def test_bad_keys(world: World) -> None:
    for header in ["Bearer nonsense", "Basic abc", "Bearer " + world.keys["acme"][:-1] + "?"]:
        r = world.client.get("/api/v1/partnerships", headers={"Authorization": header})
        assert r.status_code == 401
        assert r.headers["content-type"] == PROBLEM


def test_customer_upsert(world: World) -> None:
    payload = {"external_id": "New@Example.com", "consents": ["partner_sharing"], "segment": "vip"}
    first = world.client.post("/api/v1/customers", json=payload, headers=world.auth("acme"))
    assert first.status_code == 201
    assert first.json()["consents"] == ["partner_sharing"]
    assert "external_id" not in first.json()
    payload["consents"] = []
    second = world.client.post("/api/v1/customers", json=payload, headers=world.auth("acme"))
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    bad = world.client.post(
        "/api/v1/customers",
        json={"external_id": "x", "consents": ["sms"]},
        headers=world.auth("acme"),
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "consents.0"


def test_unknown_route_is_problem(world: World) -> None:
    r = world.client.get("/api/v1/nothing-here", headers=world.auth("acme"))
    assert r.status_code == 404
    assert r.headers["content-type"] == PROBLEM


def test_openapi_declares_bearer_on_every_api_route(world: World) -> None:
    schema = world.client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["ApiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An organization's API key, from `crosspromo keys create --org SLUG`.",
    }
    for path, operations in schema["paths"].items():
        if path.startswith("/api/"):
            for operation in operations.values():
                assert operation["security"] == [{"ApiKey": []}]

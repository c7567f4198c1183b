"""Finding 10's smaller holes: HSTS, security headers on redirects, the access log."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from crosspromo.web.app import create_server
from tests.web.conftest import World


def test_redirects_carry_the_security_headers(world: World) -> None:
    """/r/ skipped every middleware, the security headers' included."""
    hop = world.client.get(f"/r/{world.link_codes['acme']}", follow_redirects=False)
    assert hop.status_code == 302
    assert hop.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in hop.headers["content-security-policy"]
    missing = world.client.get("/r/nosuchcode", follow_redirects=False)
    assert missing.headers["x-frame-options"] == "DENY"


def test_hsts_in_production_over_https_only(world: World) -> None:
    assert "strict-transport-security" not in world.client.get("/healthz").headers
    production = world.settings.model_copy(update={"environment": "production"})
    with TestClient(create_server(production), base_url="https://crosspromo.test") as https:
        for path in ("/healthz", f"/r/{world.link_codes['acme']}"):
            got = https.get(path, follow_redirects=False).headers["strict-transport-security"]
            assert got == "max-age=31536000; includeSubDomains"
    with TestClient(create_server(production), base_url="http://crosspromo.test") as http:
        assert "strict-transport-security" not in http.get("/healthz").headers
    off = production.model_copy(update={"hsts_max_age_seconds": 0})
    with TestClient(create_server(off), base_url="https://crosspromo.test") as https:
        assert "strict-transport-security" not in https.get("/healthz").headers


def test_the_access_log_keeps_no_address_or_query(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """The opt-in access log kept raw client addresses and full query strings."""
    caplog.set_level(logging.INFO, logger="crosspromo.access")
    with TestClient(create_server(world.settings, access_log=True)) as client:
        client.get("/healthz?token=s3cret&email=ann@example.com")
        client.get(f"/r/{world.link_codes['acme']}?cp=1", follow_redirects=False)
    lines = [r.getMessage() for r in caplog.records if r.name == "crosspromo.access"]
    assert len(lines) == 2, lines
    assert " GET /healthz 200 " in lines[0]
    assert f" GET /r/{world.link_codes['acme']} 302 " in lines[1]
    for line in lines:
        assert "testclient" not in line  # TestClient's client address
        assert "s3cret" not in line
        assert "ann@example.com" not in line

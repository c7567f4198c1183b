"""Links over the API, and the redirect that records clicks."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import parse_qs, urlsplit

from crosspromo.domain.links import CLICK_ID_LENGTH
from crosspromo.store.repositories import ClickRepository, LinkRepository
from tests.web.conftest import World

HUMAN = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126 Safari/537.36"


def _counts(world: World, code: str) -> tuple[int, int, int]:
    db = world.client.app.state.db  # type: ignore[attr-defined]
    with db.transaction() as s:
        link = LinkRepository(s).by_code(code)
        assert link is not None
        return ClickRepository(s).link_counts(link.id)


def test_create_link_and_redirect(world: World) -> None:
    r = world.client.post(
        "/api/v1/links",
        json={
            "partner": "beans",
            "destination": "https://acme.example/tent?size=2",
            "campaign": "spring",
        },
        headers=world.auth("acme"),
    )
    assert r.status_code == 201, r.text
    link = r.json()
    assert link["short_url"].endswith(f"/r/{link['code']}")
    query = parse_qs(urlsplit(link["destination"]).query)
    assert query == {
        "size": ["2"],
        "utm_source": ["beans"],
        "utm_medium": ["partner"],
        "utm_campaign": ["spring"],
    }
    hop = world.client.get(
        f"/r/{link['code']}", headers={"user-agent": HUMAN}, follow_redirects=False
    )
    assert hop.status_code == 302
    assert hop.headers["cache-control"] == "no-store"
    location = urlsplit(hop.headers["location"])
    assert location.netloc == "acme.example"
    click_id = parse_qs(location.query)["cp_click"][0]
    assert len(click_id) == CLICK_ID_LENGTH
    db = world.client.app.state.db  # type: ignore[attr-defined]
    with db.transaction() as s:
        assert ClickRepository(s).count_by_click_ids([click_id]) == {click_id: 1}


def test_unique_and_bot_clicks(world: World) -> None:
    code = world.link_codes["acme"]
    for agent in [HUMAN, HUMAN, HUMAN + " other", "facebookexternalhit/1.1"]:
        world.client.get(f"/r/{code}", headers={"user-agent": agent}, follow_redirects=False)
    world.client.head(f"/r/{code}", headers={"user-agent": HUMAN})
    assert _counts(world, code) == (4, 3, 2)  # the world starts with one human click


def test_unknown_code_leaks_nothing(world: World) -> None:
    r = world.client.get("/r/doesnotexist", follow_redirects=False)
    assert r.status_code == 404
    assert "Link not found" in r.text
    assert "doesnotexist" not in r.text
    assert world.client.post(f"/r/{world.link_codes['acme']}").status_code == 405


def test_link_errors(world: World) -> None:
    def post(body: dict[str, str]) -> tuple[int, str]:
        r = world.client.post("/api/v1/links", json=body, headers=world.auth("acme"))
        return r.status_code, r.json().get("detail", "")

    status, detail = post({"partner": "beans", "destination": "https://evil.test/"})
    assert (status, "allow-list" in detail) == (422, True)
    status, detail = post({"partner": "other", "destination": "https://acme.example/"})
    assert (status, "no active partnership with 'other'" in detail) == (404, True)
    assert (
        post({"partner": "beans", "destination": "https://acme.example/", "slug": "spring"})[0]
        == 201
    )
    status, detail = post(
        {"partner": "beans", "destination": "https://acme.example/", "slug": "spring"}
    )
    assert (status, detail) == (409, "the code 'spring' is already taken")


def test_qr_codes(world: World) -> None:
    code = world.link_codes["acme"]
    svg = world.client.get(f"/api/v1/links/{code}/qr.svg", headers=world.auth("acme"))
    assert svg.headers["content-type"] == "image/svg+xml"
    assert ET.fromstring(svg.content).tag.endswith("svg")
    png = world.client.get(f"/api/v1/links/{code}/qr.png", headers=world.auth("acme"))
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")


def test_domains_api(world: World) -> None:
    auth = world.auth("acme")
    added = world.client.post("/api/v1/domains", json={"domain": "Blog.Acme.Example"}, headers=auth)
    assert added.json() == {"domain": "blog.acme.example", "added": True}
    again = world.client.post("/api/v1/domains", json={"domain": "blog.acme.example"}, headers=auth)
    assert again.json()["added"] is False
    listed = world.client.get("/api/v1/domains", headers=auth).json()["domains"]
    assert listed == ["acme.example", "blog.acme.example"]
    assert world.client.delete("/api/v1/domains/blog.acme.example", headers=auth).status_code == 204
    bad = world.client.post("/api/v1/domains", json={"domain": "https://x"}, headers=auth)
    assert bad.status_code == 422


def test_a_paused_link_and_a_stopped_code_credit_no_one(world: World) -> None:
    """A paused link answers 404 at once (the redirect's cache is told) and records no click;
    resumed, it redirects again. A new sale quoting a stopped code is refused, naming the code
    as stopped (an unknown code is named unknown); restarted, the code credits again. What
    came before is kept."""
    auth, code = world.auth("acme"), world.link_codes["acme"]
    before = _counts(world, code)
    first = world.client.get(f"/r/{code}", headers={"user-agent": HUMAN}, follow_redirects=False)
    assert first.status_code == 302  # and kept in the redirect's cache as active
    paused = world.client.patch(f"/api/v1/links/{code}", json={"active": False}, headers=auth)
    assert paused.status_code == 200, paused.text
    assert paused.json()["active"] is False
    hop = world.client.get(f"/r/{code}", headers={"user-agent": HUMAN}, follow_redirects=False)
    assert hop.status_code == 404
    assert _counts(world, code)[0] == before[0] + 1  # the click before the pause only
    resumed = world.client.patch(f"/api/v1/links/{code}", json={"active": True}, headers=auth)
    assert resumed.json()["active"] is True
    again = world.client.get(f"/r/{code}", headers={"user-agent": HUMAN}, follow_redirects=False)
    assert again.status_code == 302

    def sale(order: str, code: str = "BEANS10") -> Any:
        return world.client.post("/api/v1/conversions", headers=auth, json={
            "type": "sale", "occurred_at": "2026-02-01T10:00:00Z", "amount_minor": 1000,
            "currency": "EUR", "order_id": order, "referral_code": code})  # fmt: skip

    before_stop = sale("before-stop").json()
    assert before_stop["partner"] == "beans"
    stopped = world.client.patch("/api/v1/codes/BEANS10", json={"active": False}, headers=auth)
    assert stopped.json()["active"] is False
    refused = sale("while-stopped")
    assert refused.status_code == 422
    assert refused.json()["field"] == "referral_code"
    assert "referral code 'BEANS10' is stopped" in refused.json()["detail"]
    assert "unknown referral code" in sale("typo", "BEANS11").json()["detail"]
    world.client.patch("/api/v1/codes/BEANS10", json={"active": True}, headers=auth)
    assert sale("after-restart").json()["partner"] == "beans"
    kept = world.client.get(f"/api/v1/conversions/{before_stop['id']}", headers=auth)
    assert kept.json()["partner"] == "beans"
    missing = world.client.patch("/api/v1/codes/NOSUCH", json={"active": False}, headers=auth)
    assert missing.status_code == 404
    loose = world.client.patch(f"/api/v1/links/{code}", json={"active": "maybe"}, headers=auth)
    assert loose.status_code == 422

"""Assets, offers and landing pages over HTTP: an upload streamed in and held to the limit
(and to nothing before the caller is known), a version offered for download only once both
sides approved it, HTML served so it never runs as our site, and a landing page whose view
becomes a touch of the journey that its link's click leads to."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient

from crosspromo.web.app import create_server
from tests.web.conftest import PNG, World

BROWSER = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120"}


def _assets(world: World) -> str:
    return f"/api/v1/campaigns/{world.campaign_ids['acme']}/assets"


def test_upload_review_and_download_over_http(world: World) -> None:
    acme, beans = world.auth("acme"), world.auth("beans")
    html = b"<!doctype html><script>alert(1)</script><form action=/x></form>"
    raw = acme | {"content-type": "application/octet-stream"}
    made = world.client.post(f"{_assets(world)}?filename=teaser.txt&name=Teaser", content=html,
                             headers=raw)  # fmt: skip
    assert made.status_code == 201, made.text
    asset = made.json()
    assert (asset["state"], asset["usable"]) == ("in_review", None)
    assert asset["versions"][0]["content_type"] == "text/html"
    base = f"{_assets(world)}/{asset['id']}/versions/1/content"
    preview = world.client.get(base, headers=beans)
    assert preview.status_code == 200
    assert preview.content == html
    assert preview.headers["content-type"].startswith("text/html")
    assert preview.headers["content-security-policy"].startswith("sandbox;")  # never our origin
    assert preview.headers["content-disposition"].startswith('inline; filename="teaser.html"')
    refused = world.client.get(f"{base}?download=true", headers=beans)
    assert refused.status_code == 409
    assert "waiting on acme, beans" in refused.json()["detail"]
    for auth in (acme, beans):
        said = world.client.post(f"{_assets(world)}/{asset['id']}/reviews", headers=auth,
                                 json={"version": 1, "decision": "approved"})  # fmt: skip
        assert said.status_code == 200, said.text
    assert said.json()["usable"] == 1
    got = world.client.get(f"{base}?download=true", headers=beans)
    assert got.status_code == 200
    assert got.headers["content-disposition"].startswith("attachment")
    offered = world.client.get("/api/v1/assets/offered", headers=beans).json()
    assert {o["asset"]["id"] for o in offered} >= {asset["id"]}
    assert world.client.get(f"{_assets(world)}/{asset['id']}", headers=acme).json()[
        "versions"][0]["downloads"] == 1  # fmt: skip
    # a new version: nothing offered until both approve it again
    again = world.client.post(f"{_assets(world)}/{asset['id']}/versions?filename=v2.png",
                              content=PNG, headers=beans)  # fmt: skip
    assert again.status_code == 201
    assert again.json()["usable"] is None
    assert world.client.get(f"{base}?download=true", headers=beans).status_code == 409
    outsider = world.client.get(base, headers=world.auth("other"))
    assert outsider.status_code == 404


def test_an_upload_is_held_to_the_limit_and_refused_by_its_content(world: World) -> None:
    small = world.settings.model_copy(update={"asset_max_bytes": 4096})
    acme = world.auth("acme") | {"content-type": "application/octet-stream"}
    with TestClient(create_server(small)) as client:
        url = f"{_assets(world)}?filename=big.png"

        def chunks() -> object:  # no Content-Length: counted as it arrives
            yield PNG
            for _ in range(64):
                yield b"\x00" * 1024

        over = client.post(url, content=chunks(), headers=acme)  # type: ignore[arg-type]
        assert over.status_code == 413, over.text
        declared = client.post(url, content=PNG + b"\x00" * 200_000, headers=acme)
        assert declared.status_code == 413
        # before the caller is known, a body gets no more than the small default allowance
        anonymous = client.post(url, content=b"\x00" * 2_000_000,
                                headers={"content-type": "application/octet-stream"})  # fmt: skip
        assert anonymous.status_code in (401, 413)
        # the schema fuzzer's find: a NUL in the file's name (PostgreSQL cannot store it)
        nul = client.post(f"{_assets(world)}?filename=%00", content=PNG, headers=acme)
        assert nul.status_code == 422, nul.text
        assert "filename" in nul.json()["detail"]
        text = client.post(url, content=b"plain text pretending", headers=acme)
        assert text.status_code == 422
        assert "whatever its name" in text.json()["detail"]
        listed = client.get(_assets(world), headers=world.auth("acme")).json()
    assert [a["id"] for a in listed] == [world.asset_ids["acme"]]  # nothing else was kept


def test_the_landing_page_view_is_a_touch_before_the_click(world: World) -> None:
    acme, code = world.auth("acme"), world.link_codes["acme"]
    campaign = world.campaign_ids["acme"]
    put = world.client.post(f"/api/v1/campaigns/{campaign}/attachments", headers=acme,
                            json={"kind": "link", "key": code})  # fmt: skip
    assert put.status_code == 200, put.text
    path = f"/l/{world.landing_slugs['acme']}"
    page = world.client.get(path, headers=BROWSER)
    assert page.status_code == 200, page.text
    for shown in ("Gear and coffee for spring", "CAMP-BREAKFAST", "Acme", "Beans",
                  f'href="/r/{code}"', "€99.00"):  # fmt: skip
        assert shown in page.text, shown
    assert world.client.get("/l/no-such-page").status_code == 404
    hop = world.client.get(f"/r/{code}", headers=BROWSER, follow_redirects=False)
    click = parse_qs(urlsplit(hop.headers["location"]).query)["cp_click"][0]
    sale = {"type": "sale", "occurred_at": datetime.now(UTC).isoformat(), "amount_minor": 9900,
            "currency": "EUR", "order_id": "L-1", "click_id": click,
            "customer_external_id": "lena@example.com"}  # fmt: skip
    assert world.client.post("/api/v1/conversions", json=sale, headers=acme).status_code == 201
    report = world.client.get("/api/v1/attribution?model=first", headers=acme).json()
    credit = {c["channel"]: c["conversions"] for c in report["models"][0]["channels"]}
    # the view came before the link's click: first touch credits the page; the click is now
    # credited to the planned campaign its link is in (a campaign is read as a channel)
    assert (credit["landing page"], credit["Acme x Beans spring"]) == (1.0, 0.0)
    assert "launch" not in credit  # the link's own label gives way to its campaign
    last = world.client.get("/api/v1/attribution?model=last", headers=acme).json()
    assert {c["channel"]: c["conversions"] for c in last["models"][0]["channels"]}[
        "Acme x Beans spring"] == 1.0  # fmt: skip
    pages = world.client.get(f"/api/v1/campaigns/{campaign}/landing-pages", headers=acme).json()
    assert pages[0]["views"] == 1
    off = world.client.post(f"/api/v1/campaigns/{campaign}/landing-pages/{pages[0]['id']}/publish",
                            json={"published": False}, headers=acme)  # fmt: skip
    assert off.json()["published"] is False
    assert world.client.get(path).status_code == 404

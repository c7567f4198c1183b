"""Log in to the demo in Chromium, see the sample partnerships, and keep screenshots."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from playwright.sync_api import expect

from crosspromo.domain import PartnershipStatus
from crosspromo.services.agree.partnerships import list_partnerships
from crosspromo.services.sample.demo import DEMO_BRAND, DEMO_OWNER_EMAIL, DEMO_PARTNER_EMAIL
from crosspromo.store.database import Database
from crosspromo.store.repositories import OrganizationRepository
from tests.browser.conftest import ARTIFACTS, DemoServer, settle

pytestmark = pytest.mark.browser


def _login(browser: Any, server: DemoServer, email: str) -> Any:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{server.url}/")
    assert page.url.endswith("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", server.password)
    page.click("button[type=submit]")
    settle(page)
    return page


def test_demo_prints_url_and_logins(demo_server: DemoServer) -> None:
    text = demo_server.output.read_text()
    assert demo_server.url in text
    assert f"log in as {DEMO_OWNER_EMAIL}  password {demo_server.password}" in text
    assert "12 organizations" in text


def test_owner_sees_sample_partnerships(
    browser: Any, demo_server: DemoServer, store: Database
) -> None:
    page = _login(browser, demo_server, DEMO_OWNER_EMAIL)
    assert page.locator("h1").inner_text() == "Partnerships of Trailhead Outfitters"
    rows = page.locator("[data-testid=partnerships] tbody tr")
    with store.transaction() as session:  # the sample's six, and any an action test proposed
        brand = OrganizationRepository(session).by_slug(DEMO_BRAND).id
    assert rows.count() == len(list_partnerships(store, brand)) >= 6
    names = rows.locator("td:first-child").all_inner_texts()
    assert "Trail & Brew bundle" in names
    active = sum(p.status is PartnershipStatus.ACTIVE for p in list_partnerships(store, brand))
    assert active >= 2  # the sample's two, and one an agreement test brought to active
    assert page.locator("[data-testid=count-active]").inner_text() == str(active)
    page.screenshot(path=str(ARTIFACTS / "overview.png"), full_page=True)

    page.select_option("[data-testid=status-filter]", "paused")
    expect(rows).to_have_count(1)  # HTMX swapped the table in, under our CSP
    assert rows.first.locator("td").first.inner_text() == "Campfire stories newsletter swap"
    page.screenshot(path=str(ARTIFACTS / "overview-paused.png"), full_page=True)
    page.close()


def test_partner_portal_shows_only_own_data(browser: Any, demo_server: DemoServer) -> None:
    page = _login(browser, demo_server, DEMO_PARTNER_EMAIL)
    assert page.url.endswith("/portal")
    names = page.locator("[data-testid=partnerships] tbody tr td:first-child").all_inner_texts()
    assert sorted(names) == ["Books & beans event", "Trail & Brew bundle"]
    shared = page.locator("[data-testid=links] tbody tr td:first-child").all_inner_texts()
    assert shared
    assert set(shared) == {"Trailhead Outfitters"}, "only links issued to this partner, by name"
    page.screenshot(path=str(ARTIFACTS / "portal.png"), full_page=True)
    page.close()


def test_wrong_password_stays_on_login(browser: Any, demo_server: DemoServer) -> None:
    page = browser.new_page()
    page.goto(f"{demo_server.url}/login")
    page.fill("input[name=email]", DEMO_OWNER_EMAIL)
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    assert page.locator("[role=alert]").inner_text() == "wrong e-mail or password"
    page.screenshot(path=str(ARTIFACTS / "login-error.png"))
    page.close()


def test_api_docs_render_without_any_cdn(browser: Any, demo_server: DemoServer) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    outside: list[str] = []
    page.on(
        "request",
        lambda r: None if r.url.startswith(demo_server.url) else outside.append(r.url),
    )
    page.goto(f"{demo_server.url}/docs")
    page.wait_for_selector(".opblock-summary-path[data-path='/api/v1/partnerships']")
    assert outside == []
    page.screenshot(path=str(ARTIFACTS / "docs.png"))
    page.close()


def test_tracking_chart(browser: Any, demo_server: DemoServer) -> None:
    page = _login(browser, demo_server, DEMO_OWNER_EMAIL)
    page.click("text=Tracking")
    settle(page)
    assert page.locator("h1").inner_text() == "Clicks and conversions by partner"
    expect(page.locator("figure.chart")).to_have_count(3)  # clicks, leads and sales apart
    page.click("text=12 months")
    settle(page)
    expect(page.locator("[data-testid=range] a.preset.on")).to_have_text("12 months")
    assert page.locator("figure.chart").first.locator("polyline").count() >= 2
    page.click("[data-view=days]")
    settle(page)
    expect(page.locator("[data-testid=table] tbody tr")).to_have_count(25)
    expect(page.locator("[data-testid=pager]")).to_contain_text("page 1 of")
    page.click("[data-sort=sales]")  # the largest first
    settle(page)
    sales = page.locator("[data-testid=table] tbody tr td:nth-child(7)").all_inner_texts()
    assert [int(s.replace(",", "")) for s in sales] == sorted(
        (int(s.replace(",", "")) for s in sales), reverse=True
    )
    page.click("a[rel=next]")
    settle(page)
    expect(page.locator("[data-testid=pager]")).to_contain_text("page 2 of")
    with page.expect_download() as download:
        page.click("[data-testid=csv]")
    lines = Path(download.value.path()).read_text().splitlines()
    assert lines[0].startswith("day,partner,campaign,partner_name")
    assert len(lines) > 26, "the CSV has every page of the table"
    page.screenshot(path=str(ARTIFACTS / "tracking.png"), full_page=False)
    page.close()


def test_attribution_compares_models_per_partner(browser: Any, demo_server: DemoServer) -> None:
    page = _login(browser, demo_server, DEMO_OWNER_EMAIL)
    page.click("nav.tabs >> text=Attribution")
    settle(page)
    assert page.locator("h1").inner_text().startswith("Who earned the sales")
    partners = page.locator("[data-testid=partners] tbody tr td:first-child").all_inner_texts()
    assert {"Summit Coffee Roasters", "Ridge Bikes", "Your own channels"} <= set(partners)
    header = page.locator("[data-testid=partners] thead th").all_inner_texts()
    assert header[1:] == [
        "First touch", "Last touch", "Last non-direct touch", "Equal shares", "Time decay",
        "First and last", "Data-driven: removal effect", "Data-driven: fair share",
    ]  # fmt: skip
    first_cell = page.locator("[data-testid=partners] tbody tr td:nth-child(2)").first
    assert re.fullmatch(r"[\d,]+\.\d\s*[\d,]+\.\d \u2013 [\d,]+\.\d", first_cell.inner_text()), (
        "a credit with its 95% interval"
    )
    expect(page.locator("[data-testid=untouched]")).to_contain_text("had no touch")
    expect(page.locator("[data-testid=models] dt")).to_have_count(8)
    bars = page.locator("figure.chart").first.locator("rect")
    expect(bars).to_have_count(len(partners) * 8)
    page.screenshot(path=str(ARTIFACTS / "attribution.png"), full_page=True)
    page.fill("input[type=number][name=lookback_days]", "7")
    page.select_option("select[name=measure]", "value")
    page.click("form:has(input[type=number][name=lookback_days]) button")
    settle(page)
    assert "lookback_days=7" in page.url
    assert "€" in page.locator("[data-testid=partners] tbody").inner_text(), "revenue in money"
    page.click("[data-testid=range] >> text=90 days")  # a new range: computed for the first time
    computing = page.locator("[data-testid=computing]")
    expect(computing).to_contain_text("Computing the attribution models")
    expect(page.locator("nav.tabs a.on")).to_have_text("Attribution")
    page.screenshot(path=str(ARTIFACTS / "computing-1366.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(ARTIFACTS / "computing-390.png"))
    assert _fits(page)
    settle(page)  # it reloads itself until the result is there
    expect(page.locator("[data-testid=summary]")).to_contain_text(" to ")
    page.close()


def test_experiments_show_lifts_and_decisions(browser: Any, demo_server: DemoServer) -> None:
    page = _login(browser, demo_server, DEMO_OWNER_EMAIL)
    page.click("nav.tabs >> text=Experiments")
    settle(page)
    assert page.locator("h1").inner_text().startswith("Experiments")
    card = page.locator("[data-testid=experiment]", has_text="Partner offer").first
    assert "Partner offer" in card.locator("h2").inner_text()
    arms = card.locator("[data-testid=arms] tbody tr td:first-child").all_inner_texts()
    assert set(arms) == {"control", "partner", "brand"}
    expect(card.locator("svg circle")).to_have_count(4)  # two arms x two metrics
    assert card.locator("[data-testid=decision]").inner_text().strip() != ""
    card.locator("details summary").click()  # the p-values sit behind "Statistical details"
    sequential = card.locator("[data-testid=sequential]").all_inner_texts()
    assert sum(float(p) <= 1 for p in sequential if p != "—") == 4  # every arm's comparison
    page.screenshot(path=str(ARTIFACTS / "experiments.png"), full_page=True)
    page.close()


def test_customers_show_value_and_churn_by_source(browser: Any, demo_server: DemoServer) -> None:
    page = _login(browser, demo_server, DEMO_OWNER_EMAIL)
    page.click("nav.tabs >> text=Customers")
    settle(page)
    assert page.locator("h1").inner_text().startswith("Customers")
    sources = page.locator("[data-testid=value] tbody tr td:first-child").all_inner_texts()
    assert set(sources) == {"Organic", "Summit Coffee Roasters", "Ridge Bikes"}
    values = page.locator("[data-testid=value] tbody tr td:nth-child(4)").all_inner_texts()
    assert all(re.fullmatch(r"€[\d,]+\.\d\d", v) for v in values), values
    expect(page.locator("[data-testid=parameters]")).not_to_have_attribute("open", "")
    assert not page.locator("[data-testid=parameters] table").is_visible(), "behind details"
    page.click("[data-testid=parameters] summary")
    expect(page.locator("[data-testid=parameters] table")).to_be_visible()
    legend = page.locator("ul.legend li").all_inner_texts()
    assert any(re.fullmatch(r"Organic \([\d,]+ customers\)", item) for item in legend), legend
    assert "crosspromo kpis" not in page.content(), "no command line for a manager"
    churned = page.locator("[data-testid=churn] tbody tr td:first-child").all_inner_texts()
    assert set(churned) == set(sources)
    expect(page.locator("figure.chart polyline")).to_have_count(3)  # a survival curve each
    expect(page.locator("figure.chart rect")).to_have_count(3)  # a value bar each
    assert page.locator("[data-testid=cohorts] tbody tr").count() >= 9  # 39 weeks of joining
    partners = page.locator("[data-testid=kpis] tbody tr td:first-child").all_inner_texts()
    assert {"Summit Coffee Roasters", "Ridge Bikes"} <= set(partners)
    costs = page.locator("[data-testid=kpis] tbody tr td:nth-child(8)").all_inner_texts()
    assert all(re.fullmatch(r"€[\d,]+\.\d\d", c) for c in costs), costs  # fees, commissions
    sources = page.locator("[data-testid=channels] tbody tr td:first-child").all_inner_texts()
    assert {"search own channel", "brand email own channel", "display own channel"} <= set(
        sources
    ), sources
    assert "Summit Coffee Roasters partner" in sources
    search = page.locator("[data-testid=channels] tbody tr", has_text="search own channel")
    assert search.locator("td:nth-child(5)").inner_text() == "€1,800.00"  # two months' spend
    assert re.fullmatch(r"-?[\d,]+%", search.locator("td:nth-child(8)").inner_text())
    page.screenshot(path=str(ARTIFACTS / "customers.png"), full_page=True)
    page.close()


def test_discover_ranks_candidates_with_reasons(browser: Any, demo_server: DemoServer) -> None:
    page = _login(browser, demo_server, DEMO_OWNER_EMAIL)
    page.click("nav.tabs >> text=Discover")
    settle(page)
    assert page.locator("h1").inner_text().startswith("Who should we partner with")
    rows = page.locator("[data-testid=candidates] tbody tr")
    assert rows.count() == 11  # every other organization of the sample has a profile
    competitor = page.locator("[data-candidate=alpine-gear-co] .flag")
    expect(competitor).to_have_text("competitor")
    last = rows.nth(10).get_attribute("data-candidate")
    assert last == "alpine-gear-co"  # the one competitor is listed last
    first_reasons = rows.nth(0).locator("ul.reasons li").all_inner_texts()
    assert any("of our consenting customers are theirs too" in r for r in first_reasons)
    expect(page.locator("figure.chart").first.locator("rect")).to_have_count(11 * 5)
    assert page.locator("figure.chart rect.band").count() == 1  # the overlap target band
    assert page.locator("[data-testid=bundles] li").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "partners.png"), full_page=True)
    page.click("[data-candidate=peak-fitness] >> text=Draft intro")
    settle(page)
    draft = page.locator("[data-testid=draft]").input_value()
    assert "Trailhead Outfitters x Peak Fitness" in draft
    page.close()


def test_account_lists_logins_and_signs_out_everywhere(
    browser: Any, demo_server: DemoServer
) -> None:
    first = _login(browser, demo_server, DEMO_OWNER_EMAIL)
    second = _login(browser, demo_server, DEMO_OWNER_EMAIL)  # another browser context
    second.click("a.who")
    settle(second)
    assert second.url.endswith("/account")
    rows = second.locator("[data-testid=sessions] tbody tr")
    assert rows.count() >= 2
    assert "(this one)" in second.locator("[data-testid=sessions]").inner_text()
    second.screenshot(path=str(ARTIFACTS / "account.png"), full_page=True)
    second.click("text=Sign out everywhere")
    settle(second)
    assert second.url.endswith("/login")
    first.goto(f"{demo_server.url}/")
    assert first.url.endswith("/login"), "the other login ended too"
    first.close()
    second.close()


def _fits(page: Any) -> bool:
    """No sideways scrolling of the page itself (tables may scroll inside their cards)."""
    width: int = page.evaluate("document.documentElement.scrollWidth")
    return width <= page.viewport_size["width"]


@pytest.mark.parametrize("width", [1366, 390])
def test_api_keys_made_and_revoked_in_the_browser(
    browser: Any, demo_server: DemoServer, width: int
) -> None:
    page = _login(browser, demo_server, DEMO_OWNER_EMAIL)
    page.set_viewport_size({"width": width, "height": 900})
    page.click("nav.tabs >> text=Settings")
    settle(page)
    assert page.url.endswith("/settings/keys")
    page.fill("input[name=name]", f"browser key {width}")
    page.click("text=Make key")
    settle(page)
    key = page.locator("[data-testid=issued-key]").inner_text()
    assert key.startswith("cp_")
    assert _fits(page), f"the page is wider than {width} px"
    page.screenshot(path=str(ARTIFACTS / f"keys-{width}.png"), full_page=True)
    prefix = key.split("_")[1]
    row = page.locator(f"tr[data-prefix='{prefix}']")
    row.locator("text=Revoke").click()
    settle(page)
    expect(page.locator(f"tr[data-prefix='{prefix}'] td").nth(3)).to_contain_text("revoked")
    page.goto(f"{demo_server.url}/no-such-page")
    assert page.locator("nav.tabs").count() == 1, "the 404 page keeps the navigation"
    assert _fits(page)
    page.screenshot(path=str(ARTIFACTS / f"not-found-{width}.png"), full_page=True)
    page.close()


@pytest.mark.parametrize("width", [1366, 390])
def test_a_link_issued_in_the_browser_and_followed(
    browser: Any, demo_server: DemoServer, width: int
) -> None:
    page = _login(browser, demo_server, DEMO_OWNER_EMAIL)
    page.set_viewport_size({"width": width, "height": 900})
    page.click("nav.tabs >> text=Links")
    settle(page)
    allowed = page.locator("form[action='/links'] p.muted").inner_text()
    domain = allowed.removeprefix("Allowed: ").split(",")[0].strip()
    page.fill("input[name=destination]", f"https://{domain}/spring?ref=ui")
    page.fill("input[name=campaign]", f"spring {width}")
    page.click("text=Issue link")
    settle(page)
    short = page.locator("[data-testid=made-url]").inner_text()
    assert short.startswith(f"{demo_server.url}/r/"), "the short link points at this server"
    assert page.locator("[data-testid=made] img").evaluate("i => i.naturalWidth") > 0, "QR shown"
    assert _fits(page), f"the page is wider than {width} px"
    page.screenshot(path=str(ARTIFACTS / f"links-{width}.png"), full_page=True)
    hop = httpx.get(short, follow_redirects=False, headers={"user-agent": "Mozilla/5.0 test"})
    assert hop.status_code == 302
    assert hop.headers["location"].startswith(f"https://{domain}/spring?ref=ui")
    code = short.rsplit("/", 1)[1]
    row = page.locator(f"tr#link-{code}")
    row.locator("button:has-text('Pause')").click()  # paused: the short link stops at once
    settle(page)
    expect(row.locator("[data-testid=status]")).to_have_text("paused")
    assert httpx.get(short, follow_redirects=False).status_code == 404
    row.locator("button:has-text('Resume')").click()
    settle(page)
    expect(row.locator("[data-testid=status]")).to_have_text("active")
    assert httpx.get(short, follow_redirects=False).status_code == 302
    page.close()


@pytest.mark.parametrize("width", [1366, 390])
def test_a_link_domain_allowed_in_the_browser(
    browser: Any, demo_server: DemoServer, width: int
) -> None:
    page = _login(browser, demo_server, DEMO_OWNER_EMAIL)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{demo_server.url}/settings/keys")
    page.click("nav.subtabs >> text=Link domains")
    settle(page)
    page.fill("form[action='/settings/domains'] input[name=domain]", f"shop{width}.example.com")
    page.click("form[action='/settings/domains'] button")
    settle(page)
    expect(page.locator(f"tr[data-domain='shop{width}.example.com']")).to_have_count(1)
    assert _fits(page), f"the page is wider than {width} px"
    page.screenshot(path=str(ARTIFACTS / f"domains-{width}.png"), full_page=True)
    page.close()


def test_audience_sharing_chosen_in_the_browser(browser: Any, demo_server: DemoServer) -> None:
    page = _login(browser, demo_server, DEMO_OWNER_EMAIL)
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(f"{demo_server.url}/settings/sharing")
    page.select_option("select[name=level]", "counts")
    page.click("form[action='/settings/sharing'] button")
    settle(page)
    assert page.locator("[data-testid=level]").inner_text() == "counts"
    assert _fits(page)
    page.screenshot(path=str(ARTIFACTS / "sharing-390.png"), full_page=True)
    page.close()

"""Plan in Chromium: the brand ranks the strategies for a goal, plans a campaign with the
recommended one, adds a calendar item and sees its conflict before saving it; the partner
finds the campaign and its calendar in the portal, adds an item of its own and ticks a step."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from playwright.sync_api import expect

from crosspromo.domain import Role
from crosspromo.services.accounts.users import create_user
from crosspromo.services.agree.partnerships import list_partnerships
from crosspromo.services.sample.demo import DEMO_BRAND, DEMO_OWNER_EMAIL
from crosspromo.store.database import Database
from crosspromo.store.repositories import OrganizationRepository
from tests.browser.conftest import ARTIFACTS, DemoServer, settle
from tests.browser.test_dashboard import _login

pytestmark = pytest.mark.browser
PARTNER_USER = "planner@plan-partner.example"


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_plan_a_campaign_and_catch_a_conflict_before_saving(
    browser: Any, demo_server: DemoServer, store: Database
) -> None:
    with store.transaction() as session:
        brand = OrganizationRepository(session).by_slug(DEMO_BRAND).id
    chosen = next(
        p for p in list_partnerships(store, brand)
        if p.status == "active" and p.partner.slug != "summit-coffee"
    )  # fmt: skip
    create_user(store, chosen.partner.slug, PARTNER_USER, demo_server.password, Role.PARTNER)

    page = _login(browser, demo_server, DEMO_OWNER_EMAIL)
    page.click("nav.tabs >> text=Campaigns")
    settle(page)
    page.select_option("[data-testid=recommend] select[name=goal]", "leads")
    page.fill("[data-testid=recommend] input[name=budget]", "300")
    page.fill("[data-testid=recommend] input[name=weeks]", "2")
    page.click("[data-testid=recommend] button")
    settle(page)
    first = page.locator("[data-testid=strategies] > li").first
    expect(first).to_have_attribute("data-strategy", "email_swap")
    expect(first).to_contain_text("within your 2 weeks")
    # the form below takes the recommended strategy
    expect(page.locator("[data-testid=create] select[name=strategy]")).to_have_value("email_swap")
    _shot(page, "plan-recommend-1366")
    form = page.locator("[data-testid=create]")
    form.locator("input[name=name]").fill("Winter swap")
    form.locator("input[type=checkbox]").first.uncheck()
    form.locator(f"input[name=partnership][value='{chosen.id}']").check()
    form.locator("input[name=start]").fill("2027-01-04")
    form.locator("input[name=end]").fill("2027-01-31")
    form.locator("input[name=segments]").fill("loyal")
    form.locator("button").click()
    settle(page)
    expect(page.locator("h1")).to_contain_text("Winter swap")
    expect(page.locator("[data-testid=status]")).to_have_text("draft")
    expect(page.locator("[data-testid=checklist] li")).to_have_count(8)

    item = page.locator("[data-testid=item-form]")

    def fill(at: str, title: str) -> None:
        item.locator("input[name=at]").fill(at)
        item.locator("input[name=channel]").fill("newsletter")
        item.locator("input[name=audience]").fill("loyal")
        item.locator("input[name=title]").fill(title)

    fill("2027-01-05T09:00", "First mail")
    page.click("[data-testid=save]")
    settle(page)
    expect(page.locator("[data-testid=items] tbody tr")).to_have_count(1)
    fill("2027-01-06T18:00", "Second mail")  # a day and a half later: inside the 3-day gap
    page.click("[data-testid=check]")
    settle(page)
    warning = page.locator("[data-testid=checked]")
    expect(warning).to_contain_text("1 conflict if you save it")
    expect(warning.locator("[data-kind=same_audience_channel]")).to_contain_text(
        "at least 3 days are kept between them"
    )
    expect(page.locator("[data-testid=items] tbody tr")).to_have_count(1)  # not saved
    expect(item.locator("input[name=title]")).to_have_value("Second mail")  # kept
    _shot(page, "plan-conflict-1366")
    item.locator("input[name=at]").fill("2027-01-08T09:00")  # three days on: no conflict
    page.click("[data-testid=check]")
    settle(page)
    expect(page.locator("[data-testid=checked]")).to_contain_text("No conflict")
    page.click("[data-testid=save]")
    settle(page)
    expect(page.locator("[data-testid=items] tbody tr")).to_have_count(2)
    page.click("[data-testid=status-form] button[value=scheduled]")
    settle(page)
    expect(page.locator("[data-testid=status]")).to_have_text("scheduled")
    page.goto(f"{demo_server.url}/calendar?month=2027-01")
    settle(page)
    expect(page.locator("[data-day='2027-01-05'] a.item")).to_contain_text("First mail")
    _shot(page, "plan-calendar-1366")

    portal = _login(browser, demo_server, PARTNER_USER)
    portal.set_viewport_size({"width": 390, "height": 844})
    portal.click("[data-testid=campaigns-link]")
    settle(portal)
    portal.click("text=Winter swap")
    settle(portal)
    expect(portal.locator("[data-testid=items] tbody tr")).to_have_count(2)
    theirs = portal.locator("[data-testid=item-form]")
    theirs.locator("input[name=at]").fill("2027-01-12T10:00")
    theirs.locator("input[name=channel]").fill("social")
    theirs.locator("input[name=audience]").fill("loyal")
    theirs.locator("input[name=title]").fill("Our post")
    portal.click("[data-testid=save]")
    settle(portal)
    expect(portal.locator("[data-testid=items] tbody tr")).to_have_count(3)
    step = portal.locator("[data-testid=checklist] li form button").first
    step.click()
    settle(portal)
    expect(portal.locator("[data-testid=checklist] li.done")).to_have_count(1)
    _shot(portal, "plan-portal-390")
    portal.goto(f"{demo_server.url}/portal/calendar?month=2027-01")
    settle(portal)
    expect(portal.locator("[data-day='2027-01-12'] a.item")).to_contain_text("Our post")
    _shot(portal, "plan-portal-calendar-390")
    page.close()
    portal.close()


def _png(path: Any, colour: tuple[int, int, int]) -> Any:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (600, 240), colour)
    ImageDraw.Draw(image).rectangle((40, 40, 560, 200), outline=(255, 255, 255), width=8)
    image.save(path)
    return path


def test_an_asset_approved_by_both_sides_and_the_landing_page(
    browser: Any, demo_server: DemoServer, store: Database, tmp_path: Any
) -> None:
    from crosspromo.services.plan import campaigns
    from crosspromo.services.track.links import add_domain, create_link

    with store.transaction() as session:
        brand = OrganizationRepository(session).by_slug(DEMO_BRAND).id
    chosen = next(p for p in list_partnerships(store, brand) if p.status == "active")
    partner_user = "assets@plan-partner.example"
    create_user(store, chosen.partner.slug, partner_user, demo_server.password, Role.PARTNER)
    made = campaigns.create_campaign(store, brand, campaigns.CampaignInput(
        "Spring bundle", "bundle", date(2027, 3, 1), date(2027, 3, 31), [chosen.id]))  # fmt: skip
    add_domain(store, brand, "shop.trailhead.example")
    link = create_link(store, brand, chosen.partner.slug, "https://shop.trailhead.example/spring")
    campaigns.attach(store, brand, made.id, "link", link.code)

    page = _login(browser, demo_server, DEMO_OWNER_EMAIL)
    page.goto(f"{demo_server.url}/campaigns/{made.id}")
    settle(page)
    upload = page.locator("[data-testid=asset-form]")
    upload.locator("input[name=name]").fill("Spring banner")
    upload.locator("input[name=file]").set_input_files(str(_png(tmp_path / "banner.png",
                                                                (31, 111, 74))))  # fmt: skip
    upload.locator("button").click()
    settle(page)
    expect(page.locator("h1")).to_contain_text("Spring banner")
    expect(page.locator("[data-testid=asset-state]")).to_have_text("in review")
    expect(page.locator("[data-testid=not-offered]")).to_contain_text("until every party")
    page.fill("[data-testid=review-form] textarea[name=comment]", "Ready from our side")
    page.click("[data-testid=approve]")
    settle(page)
    expect(page.locator("[data-testid=asset-state]")).to_have_text("partly approved")
    expect(page.locator("[data-testid=not-offered]")).to_contain_text(
        f"waiting on {chosen.partner.slug}"
    )
    expect(page.locator("[data-testid=comments]")).to_contain_text("Ready from our side")
    _shot(page, "plan-asset-brand-1366")
    asset_path = page.url.removeprefix(demo_server.url)

    portal = _login(browser, demo_server, partner_user)
    portal.goto(f"{demo_server.url}/portal/brand")
    settle(portal)
    expect(portal.locator("[data-testid=offered]")).not_to_contain_text("Spring banner")
    brand_form = portal.locator("[data-testid=brand-form]")
    brand_form.locator("input[name=colours]").fill("#6b3e26, #f2c14e")
    brand_form.locator("textarea[name=dos]").fill("Show the roast date")
    brand_form.locator("textarea[name=donts]").fill("Put the logo on a busy photo")
    brand_form.locator("input[name=logo]").set_input_files(str(_png(tmp_path / "logo.png",
                                                                    (107, 62, 38))))  # fmt: skip
    brand_form.locator("button").click()
    settle(portal)
    portal.goto(f"{demo_server.url}/portal{asset_path}")
    settle(portal)
    guidelines = portal.locator(f"[data-testid=guidelines] [data-org='{chosen.partner.slug}']")
    expect(guidelines).to_contain_text("Show the roast date")
    expect(portal.locator("[data-testid=preview] img")).to_be_visible()
    portal.click("[data-testid=approve]")
    settle(portal)
    expect(portal.locator("[data-testid=asset-state]")).to_have_text("approved")
    expect(portal.locator("[data-testid=download]")).to_be_visible()
    _shot(portal, "plan-asset-portal-1280")
    portal.goto(f"{demo_server.url}/portal/brand")
    settle(portal)
    expect(portal.locator("[data-testid=offered]")).to_contain_text("Spring banner")

    page.goto(f"{demo_server.url}/campaigns/{made.id}")
    settle(page)
    page.click("#offers summary >> text=New joint offer")
    offer = page.locator("[data-testid=offer-form]")
    offer.locator("input[name=title]").fill("Trail breakfast")
    offer.locator("textarea[name=items]").fill("Camp stove\nSummit espresso beans")
    offer.locator("input[name=price]").fill("89.00")
    offer.locator("input[name=regular]").fill("112.50")
    offer.locator("input[name=code]").fill("TRAILBREAKFAST")
    offer.locator("button").click()
    settle(page)
    page.click("#offers summary >> text=New landing page")
    landing = page.locator("[data-testid=landing-form]")
    landing.locator("input[name=slug]").fill("trail-breakfast")
    landing.locator("input[name=headline]").fill("Breakfast at the summit")
    landing.locator("textarea[name=body]").fill("Everything for a hot breakfast above the clouds.")
    landing.locator("select[name=offer]").select_option(label="Trail breakfast")
    landing.locator("button").click()
    settle(page)
    expect(page.locator("[data-testid=landing-link]")).to_have_text("/l/trail-breakfast")

    # a phone's browser (headless Chromium says so in its agent, and is counted as a bot)
    agent = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/120 Mobile Safari/537.36"
    visitor = browser.new_page(viewport={"width": 390, "height": 844}, user_agent=agent)
    visitor.route("https://shop.trailhead.example/**", lambda route: route.fulfill(
        status=200, content_type="text/html", body="<h1>Trailhead shop</h1>"))  # fmt: skip
    visitor.goto(f"{demo_server.url}/l/trail-breakfast")
    expect(visitor.locator("[data-testid=headline]")).to_have_text("Breakfast at the summit")
    expect(visitor.locator("[data-testid=offer-code]")).to_have_text("TRAILBREAKFAST")
    expect(visitor.locator("[data-testid=brands] img")).to_have_count(2)  # both brands' logos
    _shot(visitor, "plan-landing-390")
    visitor.click(f"[data-testid=links] a[href='/r/{link.code}']")
    visitor.wait_for_url("https://shop.trailhead.example/**")
    assert "cp_click=" in visitor.url  # through the tracked link
    expect(visitor.locator("h1")).to_have_text("Trailhead shop")
    page.goto(f"{demo_server.url}/campaigns/{made.id}")
    settle(page)
    expect(page.locator("[data-testid=landing-pages] tbody td.num")).to_have_text("1")
    expect(page.locator("[data-testid=assets] tbody tr")).to_contain_text("approved")
    _shot(page, "plan-campaign-material-1280")
    for opened in (page, portal, visitor):
        opened.close()

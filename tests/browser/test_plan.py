"""Plan in Chromium: the brand ranks the strategies for a goal, plans a campaign with the
recommended one, adds a calendar item and sees its conflict before saving it; the partner
finds the campaign and its calendar in the portal, adds an item of its own and ticks a step."""

from __future__ import annotations

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

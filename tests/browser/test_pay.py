"""Pay in Chromium (acceptance 5): the brand reviews a hold, computes, runs a payout and marks
it paid in the dashboard; the partner sees its earnings move from pending to paid in the
portal and downloads the month's statement as a PDF."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from playwright.sync_api import expect

from crosspromo.domain import Role
from crosspromo.domain.conversions import CodeKind, ConversionKind
from crosspromo.domain.money import money_text
from crosspromo.services.accounts.users import create_user
from crosspromo.services.agree.partnerships import list_partnerships
from crosspromo.services.pay.commissions import compute
from crosspromo.services.pay.earnings import BrandEarnings, earnings
from crosspromo.services.sample.demo import DEMO_BRAND, DEMO_OWNER_EMAIL
from crosspromo.services.track.conversions import ConversionInput, create_code, record_conversions
from crosspromo.store.database import Database
from crosspromo.store.repositories import OrganizationRepository
from tests.browser.conftest import ARTIFACTS, DemoServer, settle
from tests.browser.test_dashboard import _login

pytestmark = pytest.mark.browser
PARTNER_USER = "payouts@pay-partner.example"


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _owed(store: Database, partner: str) -> BrandEarnings:
    """What the demo brand owes ``partner`` as of today, as the portal shows it."""
    with store.transaction() as session:
        partner_id = OrganizationRepository(session).by_slug(partner).id
    return next(e for e in earnings(store, partner_id).brands if e.brand == DEMO_BRAND)


def test_hold_review_payout_and_the_partner_sees_it_paid(
    browser: Any, demo_server: DemoServer, store: Database
) -> None:
    with store.transaction() as session:
        brand = OrganizationRepository(session).by_slug(DEMO_BRAND).id
    partner = next(
        p.partner.slug
        for p in list_partnerships(store, brand)
        if p.status == "active" and p.partner.slug != "summit-coffee"
    )
    create_user(store, partner, PARTNER_USER, demo_server.password, Role.PARTNER)
    create_code(store, brand, partner, "PAYDAY", CodeKind.COUPON)
    for day, order in ((25, "pay-1"), (26, "pay-1")):  # the second claims the same order
        record_conversions(
            store,
            brand,
            [
                ConversionInput(
                    ConversionKind.SALE,
                    datetime(2026, 10, day, 12, tzinfo=UTC),
                    40_000,
                    "EUR",
                    coupon_code="PAYDAY",
                    order_id=order,
                )
            ],
        )
    before = _owed(store, partner)
    compute(store, brand, date(2026, 11, 20))  # inside the 30 days' hold: pending, one held
    pending = _owed(store, partner)
    assert pending.pending_minor >= 4_000  # 10% of 400.00, in its holding period
    assert pending.held_minor - before.held_minor == 4_000  # the second claim
    row = f"[data-brand={DEMO_BRAND}]"

    portal = _login(browser, demo_server, PARTNER_USER)
    portal.set_viewport_size({"width": 390, "height": 844})
    portal.goto(f"{demo_server.url}/portal/earnings")
    settle(portal)
    expect(portal.locator(f"{row} [data-figure=pending]")).to_have_text(
        money_text(pending.pending_minor, "EUR")
    )
    expect(portal.locator(f"{row} [data-figure=held]")).to_have_text(
        money_text(pending.held_minor, "EUR")
    )
    expect(portal.locator("[data-testid=held]")).to_contain_text("was claimed before")
    _shot(portal, "earnings-pending-portal-390")

    manager = _login(browser, demo_server, DEMO_OWNER_EMAIL)
    manager.goto(f"{demo_server.url}/commissions")
    settle(manager)
    hold = manager.locator("[data-testid=holds] tr[data-hold]").filter(has_text="pay-1")
    expect(hold).to_have_count(1)
    _shot(manager, "commissions-hold-1366")
    hold.locator("input[name=note]").fill("the shop sent the order twice")
    hold.locator("button[value=reject]").click()
    settle(manager)
    expect(
        manager.locator("[data-testid=holds] tr[data-hold]").filter(has_text="pay-1")
    ).to_have_count(0)
    manager.click("[data-testid=compute]")  # as of today: the hold of 2026-11-24 is over
    settle(manager)
    mine = f"[data-testid=summary] [data-partner={partner}]"
    expect(manager.locator(f"{mine} [data-figure=held]")).to_have_text("€0.00")
    manager.click("[data-testid=run-payouts]")
    settle(manager)
    runs = manager.locator("[data-testid=payouts] tr[data-status=open]").filter(has_text=partner)
    expect(runs).to_have_count(2)  # the sample's run as of its today, and today's
    payout = runs.first  # newest first
    _shot(manager, "commissions-payout-open-1366")
    payout.locator("input[name=reference]").fill("BANK-2026-12-03")
    payout.locator("button", has_text="Mark paid").click()
    settle(manager)
    paid = manager.locator("[data-testid=payouts] tr[data-status=paid]").filter(
        has_text="BANK-2026-12-03"
    )
    expect(paid).to_have_count(1)
    _shot(manager, "commissions-paid-1366")

    after = _owed(store, partner)
    assert after.paid_minor - pending.paid_minor >= 4_000  # the sale's commission is paid
    assert after.pending_minor <= pending.pending_minor - 4_000
    assert after.held_minor == pending.held_minor - 4_000  # rejected: owed nothing
    portal.reload()
    settle(portal)
    for figure in ("pending", "paid", "held"):
        expect(portal.locator(f"{row} [data-figure={figure}]")).to_have_text(
            money_text(getattr(after, f"{figure}_minor"), "EUR")
        )
    expect(portal.locator("[data-testid=payouts]")).to_contain_text("BANK-2026-12-03")
    _shot(portal, "earnings-paid-portal-390")
    link = (
        portal.locator("[data-testid=statements] li")
        .filter(has_text="2026-11")
        .locator("[data-testid=statement-pdf]")
    )
    with portal.expect_download() as downloaded:
        link.click()
    path = downloaded.value.path()
    assert path is not None
    with open(path, "rb") as handle:
        assert handle.read(5) == b"%PDF-"

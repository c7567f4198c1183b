"""An agreement negotiated in Chromium across both sides (acceptance 5): the brand proposes
terms in the dashboard, the partner counters in the portal, the brand reads the change and
accepts; the partnership becomes active only then, and the record the page calls verified is
the one `agreements verify` accepts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from crosspromo.domain import PartnershipStatus, Role
from crosspromo.domain.record import verify
from crosspromo.services.accounts.users import create_user
from crosspromo.services.agree.agreements import export_bundle
from crosspromo.services.agree.partnerships import get_partnership, list_partnerships
from crosspromo.services.sample.demo import DEMO_BRAND, DEMO_OWNER_EMAIL
from crosspromo.store.database import Database
from crosspromo.store.repositories import OrganizationRepository
from tests.browser.conftest import ARTIFACTS, DemoServer, settle
from tests.browser.test_dashboard import _login

pytestmark = pytest.mark.browser
PROSPECT = "nomad-insurance"  # the sample's prospect of the demo brand: no terms yet
PARTNER_USER = "partners@nomad-insurance.example"


def _shot(page: Any, name: str) -> None:
    page.locator("#agreement").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_propose_counter_accept_across_dashboard_and_portal(
    browser: Any, demo_server: DemoServer, store: Database
) -> None:
    with store.transaction() as session:
        orgs = OrganizationRepository(session)
        brand, partner = orgs.by_slug(DEMO_BRAND).id, orgs.by_slug(PROSPECT).id
    found = next(p for p in list_partnerships(store, brand) if p.partner.slug == PROSPECT)
    assert found.status is PartnershipStatus.PROSPECT
    create_user(store, PROSPECT, PARTNER_USER, demo_server.password, Role.PARTNER)
    pid = found.id

    manager = _login(browser, demo_server, DEMO_OWNER_EMAIL)
    manager.goto(f"{demo_server.url}/partnerships/{pid}")
    settle(manager)
    expect(manager.locator("[data-testid=no-terms]")).to_be_visible()
    terms = json.loads(manager.locator("[data-testid=terms]").input_value())
    assert {p["org"] for p in terms["parties"]} == {DEMO_BRAND, PROSPECT}
    manager.click("[data-testid=offer]")  # propose the template as it stands
    settle(manager)
    expect(manager.locator("[data-testid=status]")).to_have_text("negotiating")
    expect(manager.locator("[data-testid=version-1] [data-testid=standing]")).to_have_text(
        "waiting for Nomad Travel Insurance"
    )
    expect(manager.locator("[data-testid=verified]")).to_be_visible()
    expect(manager.locator("[data-testid=answer-form]")).to_have_count(0)  # not ours to answer
    _shot(manager, "agreement-proposed-1366")

    portal = _login(browser, demo_server, PARTNER_USER)
    portal.set_viewport_size({"width": 390, "height": 844})
    portal.goto(f"{demo_server.url}/portal/partnerships/{pid}")
    settle(portal)
    expect(portal.locator("[data-testid=accept]")).to_have_text("Accept version 1")
    countered = json.loads(portal.locator("[data-testid=terms]").input_value())
    countered["commission"]["rules"][0]["rate_bp"] = 1500  # 15% of each sale, not 10%
    portal.locator("details[data-testid=terms-details] summary").click()
    portal.fill("[data-testid=terms]", json.dumps(countered, indent=2))
    portal.click("[data-testid=offer]")
    settle(portal)
    expect(portal.locator("[data-testid=version-2] [data-testid=standing]")).to_have_text(
        "waiting for Trailhead Outfitters"
    )
    expect(portal.locator("[data-testid=status]")).to_have_text("negotiating")
    _shot(portal, "agreement-countered-portal-390")
    assert get_partnership(store, brand, pid).status is PartnershipStatus.NEGOTIATING

    manager.reload()
    settle(manager)
    changes = manager.locator("[data-testid=version-2] [data-testid=changes]")
    expect(changes).to_contain_text("commission.rules[0].rate_bp: 1000 → 1500")
    manager.click("[data-testid=accept]")
    settle(manager)
    expect(manager.locator("[data-testid=status]")).to_have_text("active")
    expect(manager.locator("[data-testid=version-2] [data-testid=standing]")).to_have_text(
        "in force"
    )
    expect(manager.locator("[data-testid=timeline] li")).to_have_count(3)
    expect(manager.locator("[data-testid=verified]")).to_be_visible()
    _shot(manager, "agreement-accepted-1366")
    with manager.expect_download() as download:
        manager.click("[data-testid=bundle]")
    kept = download.value.path()
    assert kept is not None
    data = Path(kept).read_bytes()
    verdict = verify(data)
    assert verdict.valid, verdict
    assert verdict.entries == 3
    assert data == export_bundle(store, partner, pid)  # both sides export the same record
    assert get_partnership(store, partner, pid).status is PartnershipStatus.ACTIVE
    portal.reload()
    settle(portal)
    expect(portal.locator("[data-testid=status]")).to_have_text("active")
    expect(portal.locator("[data-testid=answer-form]")).to_have_count(0)
    _shot(portal, "agreement-active-portal-390")
    manager.close()
    portal.close()


def test_a_business_not_here_yet_gets_the_proposal_by_link_and_keys_are_shown(
    browser: Any, demo_server: DemoServer, store: Database
) -> None:
    """The brand proposes to a newcomer from the Partnerships tab; the one-time link makes its
    owner, who finds the proposal waiting and accepts it; Settings shows the brand's signing
    key as it is published."""
    manager = _login(browser, demo_server, DEMO_OWNER_EMAIL)
    settle(manager)
    form = manager.locator("[data-testid=invite-partner-form]")
    form.locator("input[name=name]").fill("Lakeside Kayaks")
    form.locator("input[name=slug]").fill("lakeside-kayaks")
    form.locator("input[name=email]").fill("owner@lakeside.example")
    written = json.loads(form.locator("textarea[name=terms]").input_value())
    assert "their-slug" in json.dumps(written)
    form.locator("textarea[name=terms]").fill(
        json.dumps(written).replace("their-slug", "lakeside-kayaks")
    )
    form.locator("button[type=submit]").click()
    settle(manager)
    link = manager.locator("[data-testid=invitation-link]").inner_text()
    assert "/invite/" in link
    manager.locator("#invite-partner").scroll_into_view_if_needed()
    manager.screenshot(path=str(ARTIFACTS / "agreement-invited-1366.png"), full_page=True)

    newcomer = browser.new_context().new_page()
    newcomer.goto(f"{demo_server.url}/invite/{link.rsplit('/invite/', 1)[1]}")
    settle(newcomer)
    newcomer.fill("input[name=password]", "kayaks on the lake 2026")
    newcomer.click("button[type=submit]")
    settle(newcomer)
    row = newcomer.locator("[data-testid=partnerships] tbody tr").first
    expect(row.locator(".status")).to_have_text("negotiating")
    row.locator("a").click()
    settle(newcomer)
    newcomer.click("[data-testid=accept]")
    settle(newcomer)
    expect(newcomer.locator("[data-testid=status]")).to_have_text("active")
    expect(newcomer.locator("[data-testid=verified]")).to_be_visible()
    _shot(newcomer, "agreement-newcomer-accepted-1366")

    manager.goto(f"{demo_server.url}/settings/keys")
    settle(manager)
    shown = manager.locator("[data-testid=fingerprint]").inner_text()
    published = manager.request.get(
        f"{demo_server.url}/.well-known/crosspromo/keys/{DEMO_BRAND}"
    ).json()
    assert shown == published["keys"][-1]["fingerprint"]
    manager.locator("[data-testid=signing-key]").scroll_into_view_if_needed()
    manager.screenshot(path=str(ARTIFACTS / "settings-signing-key-1366.png"), full_page=True)
    newcomer.close()
    manager.close()

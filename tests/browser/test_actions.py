"""The dashboard's actions done in Chromium as a manager would, each checked on the page and in
the store; an analyst's attempts are refused with 403 and change nothing."""

from __future__ import annotations

import http.server
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx2 as httpx
import pytest
from playwright.sync_api import expect

from crosspromo.domain import PartnershipStatus, Role
from crosspromo.domain.conversions import CodeKind
from crosspromo.domain.experiments import ExperimentMetric, ExperimentStatus
from crosspromo.services.accounts.keys import create_api_key
from crosspromo.services.accounts.users import create_user
from crosspromo.services.agree.partnerships import get_partnership, list_partnerships
from crosspromo.services.measure.experiments import list_experiments
from crosspromo.services.sample.demo import (
    DEMO_BRAND,
    DEMO_OWNER_EMAIL,
    DEMO_PARTNER,
    DEMO_PARTNER_EMAIL,
)
from crosspromo.services.track.conversions import create_code, list_codes
from crosspromo.services.track.links import list_links
from crosspromo.services.track.outbound import list_deliveries, list_endpoints
from crosspromo.store.database import Database
from crosspromo.store.repositories import OrganizationRepository, UserRepository
from tests.browser.conftest import ARTIFACTS, DemoServer, settle
from tests.browser.test_dashboard import _fits, _login

pytestmark = pytest.mark.browser


def _org_id(db: Database, slug: str) -> int:
    with db.transaction() as session:
        return OrganizationRepository(session).by_slug(slug).id


def _go(page: Any, server: DemoServer, path: str) -> None:
    page.goto(f"{server.url}{path}")
    settle(page)


def test_a_partnership_proposed_from_discover_and_advanced(
    browser: Any, demo_server: DemoServer, store: Database
) -> None:
    page = _login(browser, demo_server, DEMO_OWNER_EMAIL)
    _go(page, demo_server, "/partners")
    propose = page.locator("form[data-testid^=propose-]").first
    candidate = propose.get_attribute("data-testid").removeprefix("propose-")
    propose.locator("button").click()
    settle(page)
    assert re.search(r"/partnerships/\d+$", page.url), page.url
    partnership_id = int(page.url.rsplit("/", 1)[1])
    expect(page.locator("[data-testid=status]")).to_have_text("prospect")
    page.select_option("[data-testid=next-status]", "negotiating")
    page.fill("input[name=reason]", "first call went well")
    page.click("text=Change status")
    settle(page)
    expect(page.locator("[data-testid=status]")).to_have_text("negotiating")
    history = page.locator("[data-testid=history] li")
    expect(history).to_have_count(2)
    assert "first call went well" in history.nth(1).inner_text()
    assert DEMO_OWNER_EMAIL in history.nth(1).inner_text()
    stored = get_partnership(store, _org_id(store, DEMO_BRAND), partnership_id)
    assert (stored.partner.slug, stored.status) == (candidate, PartnershipStatus.NEGOTIATING)
    page.screenshot(path=str(ARTIFACTS / "partnership-action-1366.png"), full_page=True)
    page.close()


def test_an_experiment_created_started_and_stopped(
    browser: Any, demo_server: DemoServer, store: Database
) -> None:
    page = _login(browser, demo_server, DEMO_OWNER_EMAIL)
    _go(page, demo_server, "/experiments")
    form = page.locator("[data-testid=experiment-form]")
    form.locator("input[name=name]").fill("Browser checkout test")
    form.locator("input[name=arms]").fill("control, partner=2")
    form.locator("input[name=layer]").fill("browser-checkout")
    form.locator("select[name=partner]").select_option(DEMO_PARTNER)
    form.locator("select[name=metric]").select_option("value")
    form.locator("input[name=start]").uncheck()
    form.locator("button").click()
    settle(page)
    expect(page.locator("[data-testid=made]")).to_contain_text("as a draft")
    brand = _org_id(store, DEMO_BRAND)
    made = next(e for e in list_experiments(store, brand) if e.name == "Browser checkout test")
    assert (made.status, made.partner, made.layer, made.metric) == (
        ExperimentStatus.DRAFT,
        DEMO_PARTNER,
        "browser-checkout",
        ExperimentMetric.VALUE,
    )
    assert [a.weight for a in made.arms] == [1.0, 2.0]
    row = page.locator(f"tr[data-experiment='{made.id}']")
    row.locator("button:has-text('Start')").click()
    settle(page)
    expect(row.locator("[data-testid=status]")).to_have_text("running")
    row.locator("button:has-text('Stop')").click()
    settle(page)
    expect(row.locator("[data-testid=status]")).to_have_text("stopped")
    expect(page.locator(f"#experiment-{made.id} [data-testid=primary-metric]")).to_contain_text(
        "Decides on the sales per customer"
    )
    stopped = next(e for e in list_experiments(store, brand) if e.id == made.id)
    assert stopped.status is ExperimentStatus.STOPPED
    assert stopped.started_at is not None
    assert stopped.stopped_at is not None
    page.screenshot(path=str(ARTIFACTS / "experiment-action-1366.png"), full_page=True)
    page.close()


def test_a_partner_user_invited_who_then_logs_into_the_portal(
    browser: Any, demo_server: DemoServer, store: Database
) -> None:
    page = _login(browser, demo_server, DEMO_OWNER_EMAIL)
    _go(page, demo_server, "/settings/team")
    form = page.locator("[data-testid=invite-form]")
    form.locator("input[name=email]").fill("new.partner@summit.example")
    form.locator("select[name=role]").select_option("partner")
    form.locator("select[name=partner]").select_option(DEMO_PARTNER)
    form.locator("button").click()
    settle(page)
    link = page.locator("[data-testid=invite-link]").inner_text()
    assert link.startswith(f"{demo_server.url}/invite/")
    page.screenshot(path=str(ARTIFACTS / "team-invited-1366.png"), full_page=True)
    page.close()

    guest = browser.new_page(viewport={"width": 390, "height": 844})
    guest.goto(link)
    assert "Join Summit Coffee" in guest.locator("h1").inner_text()
    guest.fill("input[name=password]", "a-long-enough-password")
    guest.click("button:has-text('Join')")
    settle(guest)
    assert guest.url.endswith("/portal"), guest.url
    expect(guest.locator("[data-testid=org-name]")).to_have_text("Summit Coffee Roasters")
    assert _fits(guest)
    guest.screenshot(path=str(ARTIFACTS / "invited-portal-390.png"), full_page=True)
    with store.transaction() as session:
        found = UserRepository(session).credentials("new.partner@summit.example")
    assert found is not None
    assert (found[0].org_id, found[0].role) == (_org_id(store, DEMO_PARTNER), Role.PARTNER)
    again = httpx.get(link)
    assert again.status_code == 401, "the link works once"
    assert "not valid" in again.text
    guest.close()


@contextmanager
def _receiver() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A local HTTP endpoint that records the headers of every webhook posted to it."""
    received: list[dict[str, str]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", "0")))
            received.append(dict(self.headers.items()))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks", received
    finally:
        server.shutdown()
        server.server_close()


def test_a_webhook_endpoint_added_and_a_delivery_replayed(
    browser: Any, demo_server: DemoServer, store: Database
) -> None:
    brand = _org_id(store, DEMO_BRAND)
    with _receiver() as (url, received):
        page = _login(browser, demo_server, DEMO_OWNER_EMAIL)
        _go(page, demo_server, "/settings/webhooks")
        page.fill("[data-testid=endpoint-form] input[name=url]", url)
        page.click("[data-testid=endpoint-form] button")
        settle(page)
        assert page.locator("[data-testid=endpoint-secret]").inner_text().startswith("whsec_")
        assert [e.url for e in list_endpoints(store, brand)] == [url]
        key = create_api_key(store, DEMO_BRAND, "browser webhook test").key
        sale = {"type": "sale", "occurred_at": "2026-11-30T10:00:00Z", "amount_minor": 4200,
                "currency": "EUR", "order_id": "browser-webhook-1"}  # fmt: skip
        answer = httpx.post(f"{demo_server.url}/api/v1/conversions", json=sale,
                            headers={"Authorization": f"Bearer {key}"})  # fmt: skip
        assert answer.status_code == 201, answer.text
        _wait(lambda: len(received) == 1, "the first delivery")
        _go(page, demo_server, "/settings/webhooks")
        delivery = list_deliveries(store, brand)[0]
        row = page.locator(f"tr[data-delivery='{delivery.id}']")
        expect(row.locator("[data-testid=delivery-status]")).to_have_text("delivered")
        row.locator("text=Send again").click()
        settle(page)
        _wait(lambda: len(received) == 2, "the replayed delivery")
        assert received[1]["webhook-id"] == received[0]["webhook-id"], "the same message again"
        replayed = next(d for d in list_deliveries(store, brand) if d.id == delivery.id)
        assert replayed.attempts == 2
        page.screenshot(path=str(ARTIFACTS / "webhooks-action-1366.png"), full_page=True)
        page.close()


def _wait(done: Any, what: str, seconds: float = 20) -> None:
    event = threading.Event()
    for _ in range(int(seconds / 0.1)):
        if done():
            return
        event.wait(0.1)
    pytest.fail(f"waited {seconds} s for {what}")


def test_a_code_given_to_a_partner_credits_its_sale(
    browser: Any, demo_server: DemoServer, store: Database
) -> None:
    """A coupon code made on the Links page is listed, refused a second time, and a sale
    quoting it is credited to the partner."""
    page = _login(browser, demo_server, DEMO_OWNER_EMAIL)
    _go(page, demo_server, "/links")
    form = page.locator("form[action='/links/codes#codes']")
    form.locator("select[name=partner]").select_option(DEMO_PARTNER)
    form.locator("input[name=code]").fill("SUMMIT-SPRING")
    form.locator("select[name=kind]").select_option("coupon")
    form.locator("button").click()
    settle(page)
    expect(page.locator("[data-testid=made-code-value]")).to_have_text("SUMMIT-SPRING")
    expect(page.locator("tr[data-code='SUMMIT-SPRING']")).to_contain_text("coupon")
    brand = _org_id(store, DEMO_BRAND)
    [made] = [c for c in list_codes(store, brand) if c.code == "SUMMIT-SPRING"]
    assert (made.partner, made.kind.value, made.active) == (DEMO_PARTNER, "coupon", True)
    form.locator("input[name=code]").fill("SUMMIT-SPRING")
    form.locator("button").click()
    settle(page)
    expect(page.locator("[data-testid=code-error]")).to_contain_text("already in use")
    key = create_api_key(store, DEMO_BRAND, "shop").key
    sale = {"type": "sale", "occurred_at": "2026-11-20T10:00:00Z", "amount_minor": 2500,
            "currency": "EUR", "order_id": "coupon-1", "coupon_code": "SUMMIT-SPRING"}  # fmt: skip
    answer = httpx.post(f"{demo_server.url}/api/v1/conversions", json=sale,
                        headers={"Authorization": f"Bearer {key}"})  # fmt: skip
    assert answer.status_code == 201, answer.text
    assert answer.json()["partner"] == DEMO_PARTNER
    page.close()


def test_an_analyst_is_refused_every_change(
    browser: Any, demo_server: DemoServer, store: Database
) -> None:
    """An analyst sees every page but no form to change anything, and each change posted by
    hand (with a valid form token) is refused with 403, leaving the store as it was."""
    create_user(store, DEMO_BRAND, "analyst@crosspromo.local", demo_server.password,
                Role.ANALYST, reset=True)  # fmt: skip
    page = _login(browser, demo_server, "analyst@crosspromo.local")
    brand = _org_id(store, DEMO_BRAND)
    partnership = list_partnerships(store, brand)[0]
    experiment = list_experiments(store, brand)[0]
    link = list_links(store, brand)[0]
    code = create_code(store, brand, DEMO_PARTNER, "ANALYST-TRY", CodeKind.COUPON)

    def state() -> tuple[object, ...]:
        return (get_partnership(store, brand, partnership.id).status,
                next(e for e in list_experiments(store, brand) if e.id == experiment.id).status,
                len(list_endpoints(store, brand)), [c.active for c in list_codes(store, brand)],
                [lk.active for lk in list_links(store, brand)])  # fmt: skip

    before = state()
    _go(page, demo_server, f"/partnerships/{partnership.id}")
    assert page.locator("[data-testid=step-form]").count() == 0
    token = page.locator("input[name=csrf]").first.get_attribute("value")
    attempts = {
        f"/partnerships/{partnership.id}/status": {"status": "ended"},
        "/partnerships": {"partner": "pixel-pets", "name": "x"},
        f"/experiments/{experiment.id}/status": {"status": "stopped"},
        "/experiments": {"name": "x"},
        "/settings/team/invite": {"email": "x@example.com", "role": "manager"},
        "/settings/webhooks/endpoints": {"url": "https://example.com/x"},
        "/settings/webhooks/inbound-secret": {},
        "/settings/profile": {"description": "changed"},
        "/links": {"partner": DEMO_PARTNER, "destination": "https://example.com/"},
        "/links/codes": {"partner": DEMO_PARTNER, "code": "ANALYST1", "kind": "coupon"},
        "/settings/keys": {"name": "x"},
        f"/links/{link.code}/active": {"active": "0"},
        f"/links/codes/{code.code}/active": {"active": "0"},
    }
    for path, form in attempts.items():
        answer = page.request.post(f"{demo_server.url}{path}", form=form | {"csrf": token})
        assert answer.status == 403, f"{path}: {answer.status}"
    assert state() == before
    page.close()


BRAND_PAGES = (
    "/", "/partnerships/{partnership}", "/partners", "/partners/outreach?candidate={candidate}",
    "/links", "/tracking", "/attribution", "/experiments", "/customers", "/settings/keys",
    "/settings/domains", "/settings/sharing", "/settings/team", "/settings/webhooks",
    "/settings/profile", "/account", "/campaigns", "/calendar",
)  # fmt: skip
PORTAL_PAGES = ("/portal", "/portal/partnerships/{partnership}", "/account", "/portal/campaigns",
                "/portal/calendar")  # fmt: skip


def _shot_name(path: str, width: int) -> str:
    name = re.sub(r"[^a-z0-9]+", "-", path.split("?")[0].lower()).strip("-") or "overview"
    return f"{name}-{width}.png"


@pytest.mark.parametrize("width", [1366, 390])
def test_every_page_fits_and_is_captured(
    browser: Any, demo_server: DemoServer, store: Database, width: int
) -> None:
    """Every page of the brand's dashboard and of the partner portal opens, keeps the
    navigation, fits the screen (tables scroll inside their cards) and is kept as a
    screenshot at desktop and phone width."""
    folder = ARTIFACTS / "pages"
    folder.mkdir(exist_ok=True)
    brand = _org_id(store, DEMO_BRAND)
    partnership = next(p for p in list_partnerships(store, brand)
                       if p.partner.slug == DEMO_PARTNER)  # fmt: skip
    page = _login(browser, demo_server, DEMO_OWNER_EMAIL)
    page.set_viewport_size({"width": width, "height": 900})
    _go(page, demo_server, "/partners")
    candidate = page.locator("[data-candidate]").first.get_attribute("data-candidate")
    fill = {"partnership": partnership.id, "candidate": candidate}
    for path in BRAND_PAGES:
        answer = page.goto(f"{demo_server.url}{path.format(**fill)}")
        assert answer is not None
        assert answer.status in (200, 202), path  # 202: its progress first, then the page
        settle(page)
        assert page.title() != "Computing · crosspromo", path
        assert page.locator("nav.tabs").count() == 1, f"{path} keeps the navigation"
        current = page.locator("nav.tabs a.on")
        if current.count():  # the current tab is in view, also where the tabs scroll sideways
            box = current.bounding_box()
            assert box is not None
            assert box["x"] >= 0, f"{path}: the tab is out of view"
            assert box["x"] + box["width"] <= width, f"{path}: the tab is out of view"
        assert _fits(page), f"{path} is wider than {width} px"
        page.screenshot(path=str(folder / _shot_name(path, width)), full_page=True)
    page.close()
    portal = _login(browser, demo_server, DEMO_PARTNER_EMAIL)
    portal.set_viewport_size({"width": width, "height": 900})
    for path in PORTAL_PAGES:
        answer = portal.goto(f"{demo_server.url}{path.format(**fill)}")
        assert answer is not None
        assert answer.status == 200, path
        settle(portal)
        assert _fits(portal), f"portal {path} is wider than {width} px"
        portal.screenshot(path=str(folder / f"portal-{_shot_name(path, width)}"), full_page=True)
    portal.close()

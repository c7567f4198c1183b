"""Dashboard and portal through the HTTP interface (the browser test drives Chromium)."""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from crosspromo.config import Settings
from crosspromo.domain.conversions import CodeKind
from crosspromo.services.accounts.keys import create_api_key, list_api_keys
from crosspromo.services.accounts.logins import PAIR
from crosspromo.services.accounts.organizations import get_organization
from crosspromo.services.accounts.users import create_user
from crosspromo.services.admin.database import open_database
from crosspromo.services.discover.sessions import sharing
from crosspromo.services.sample.demo import DEMO_OWNER_EMAIL, DEMO_PARTNER_EMAIL, prepare_demo
from crosspromo.services.track.conversions import create_code
from crosspromo.services.track.links import links_page, list_domains
from crosspromo.store.tables import user_sessions
from crosspromo.web.app import create_app, create_server
from tests.conftest import Snapshot

PASSWORD = "demo-password-123"


@pytest.fixture
def backend() -> str:
    return "sqlite"  # what `make demo` runs on


def _demo(settings: Settings) -> None:
    prepare_demo(settings, seed=42, scale=5, password=PASSWORD)


@pytest.fixture
def demo_settings(snapshot: Snapshot[None]) -> Settings:
    """A copy of the prepared demo (seed 42, scale 5): sample, logins, password."""
    settings, _ = snapshot("demo-42-5", _demo)
    return settings


@pytest.fixture
def client(demo_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(demo_settings)) as c:
        yield c


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def login(client: TestClient, email: str, password: str = PASSWORD) -> str:
    token = _csrf(client.get("/login").text)
    r = client.post("/login", data={"email": email, "password": password, "csrf": token})
    return r.text


def test_anonymous_is_sent_to_login(client: TestClient) -> None:
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login"
    assert client.get("/partnerships/1", follow_redirects=False).headers["location"] == "/login"


def test_owner_sees_overview_with_counts(client: TestClient) -> None:
    page = login(client, DEMO_OWNER_EMAIL)
    assert "Partnerships of Trailhead Outfitters" in page
    for name in ["Trail &amp; Brew bundle", "Ride the Ridge referrals", "Trail dogs giveaway"]:
        assert name in page
    assert "Breakfast box" not in page, "other organizations' partnerships stay hidden"
    assert re.search(r'data-testid="count-active">2<', page)
    paused = client.get("/?status=paused").text  # the filter is in the URL
    assert "Partnerships: paused" in paused
    table = paused[paused.index('id="partnerships"') :]
    assert "Campfire stories newsletter swap" in table
    assert "Trail &amp; Brew bundle" not in table


def test_partner_lands_in_portal_with_own_data_only(client: TestClient) -> None:
    page = login(client, DEMO_PARTNER_EMAIL)
    assert "Partner portal · Summit Coffee Roasters" in page
    assert "Trail &amp; Brew bundle" in page
    assert "Ride the Ridge referrals" not in page
    assert client.get("/", follow_redirects=False).headers["location"] == "/portal"


def test_wrong_password_and_missing_csrf(client: TestClient) -> None:
    page = login(client, DEMO_OWNER_EMAIL, "not-the-password")
    assert "wrong e-mail or password" in page
    r = client.post("/login", data={"email": DEMO_OWNER_EMAIL, "password": PASSWORD, "csrf": "x"})
    assert r.status_code == 403


def test_lockout_is_shown_on_the_login_page(client: TestClient) -> None:
    for _ in range(PAIR.free + 1):
        login(client, DEMO_OWNER_EMAIL, "not-the-password")
    token = _csrf(client.get("/login").text)
    r = client.post("/login", data={"email": DEMO_OWNER_EMAIL, "password": PASSWORD, "csrf": token})
    assert r.status_code == 429
    assert "too many failed logins; try again in 2 seconds" in r.text
    assert r.headers["retry-after"] == "2"


def _dashboard_opens(client: TestClient, cookie: str) -> bool:
    """Whether a copy of the session cookie, in another browser, opens the dashboard."""
    other = TestClient(client.app, cookies={"crosspromo_session": cookie})
    return other.get("/", follow_redirects=False).status_code == 200


def test_a_session_ends_for_good(client: TestClient, demo_settings: Settings) -> None:
    """Finding 6: the cookie was the whole session, so logging out or resetting the password
    left a copied cookie working for 8 hours."""
    login(client, DEMO_OWNER_EMAIL)
    stolen = client.cookies["crosspromo_session"]
    assert _dashboard_opens(client, stolen)
    client.post("/logout", data={"csrf": _csrf(client.get("/").text)})
    assert not _dashboard_opens(client, stolen), "logging out ends the session"
    login(client, DEMO_OWNER_EMAIL)
    stolen = client.cookies["crosspromo_session"]
    db = open_database(demo_settings)
    create_user(db, "trailhead-outfitters", DEMO_OWNER_EMAIL, PASSWORD, "owner", reset=True)
    db.dispose()
    assert not _dashboard_opens(client, stolen), "a password reset ends every session"


def test_sessions_listed_and_ended_everywhere(client: TestClient) -> None:
    login(client, DEMO_OWNER_EMAIL)
    first = client.cookies["crosspromo_session"]
    client.cookies.clear()
    login(client, DEMO_OWNER_EMAIL)
    second = client.cookies["crosspromo_session"]
    assert first != second
    page = client.get("/account").text
    assert page.count("<tr>") == 3  # the header and the two logins
    assert "(this one)" in page
    r = client.post("/account/sign-out-everywhere", data={"csrf": _csrf(page)},
                    follow_redirects=False)  # fmt: skip
    assert r.headers["location"] == "/login"
    assert not _dashboard_opens(client, first)
    assert not _dashboard_opens(client, second)


def test_changing_the_password_ends_the_other_sessions(client: TestClient) -> None:
    login(client, DEMO_OWNER_EMAIL)
    other = client.cookies["crosspromo_session"]
    client.cookies.clear()
    login(client, DEMO_OWNER_EMAIL)
    page = client.get("/account").text
    wrong = client.post("/account/password", data={"csrf": _csrf(page), "current": "nope-nope-1",
                                                   "new": "another-password-1"})  # fmt: skip
    assert wrong.status_code == 401
    assert "the current password is wrong" in wrong.text
    done = client.post("/account/password", data={"csrf": _csrf(page), "current": PASSWORD,
                                                  "new": "another-password-1"})  # fmt: skip
    assert "Password changed" in done.text, "this browser stays logged in"
    mine = client.cookies["crosspromo_session"]
    assert not _dashboard_opens(client, other)
    assert _dashboard_opens(client, mine)


def test_idle_and_absolute_timeouts(demo_settings: Settings) -> None:
    for limits in ({"session_idle_seconds": 60}, {"session_max_age_seconds": 60}):
        settings = demo_settings.model_copy(update=limits)
        with TestClient(create_app(settings)) as c:
            login(c, DEMO_OWNER_EMAIL)
            assert c.get("/", follow_redirects=False).status_code == 200
            db = c.app.state.db  # type: ignore[attr-defined]
            hour = timedelta(hours=1)
            with db.transaction() as s:  # an hour passes
                for row in s.execute(select(user_sessions)).all():
                    s.execute(update(user_sessions).where(user_sessions.c.id == row.id).values(
                        last_seen_at=row.last_seen_at - hour, expires_at=row.expires_at - hour
                    ))  # fmt: skip
            assert c.get("/", follow_redirects=False).headers["location"] == "/login", limits


def test_logout_clears_session(client: TestClient) -> None:
    page = login(client, DEMO_OWNER_EMAIL)
    client.post("/logout", data={"csrf": _csrf(page)})
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"


def test_browser_404_is_html(client: TestClient) -> None:
    r = client.get("/no-such-page", headers={"accept": "text/html"})
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "Not found" in r.text


def test_security_headers(client: TestClient) -> None:
    page = client.get("/login")
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "script-src" not in page.headers["content-security-policy"]
    assert "default-src 'self'" in page.headers["content-security-policy"]
    docs = client.get("/docs")
    assert "script-src 'self' 'unsafe-inline'" in docs.headers["content-security-policy"]


def test_tracking_page_and_csv(client: TestClient) -> None:
    login(client, DEMO_OWNER_EMAIL)
    page = client.get("/tracking")
    assert page.status_code == 200
    assert "Clicks and conversions by partner" in page.text
    today = datetime.now(UTC).date()
    assert f'name="to" value="{today}"' in page.text, "the default range ends today"
    for caption in ("Clicks per day", "Leads per day", "Sales per day"):
        assert f"<figcaption>{caption}</figcaption>" in page.text, "leads and sales apart"
    export = client.get("/tracking.csv?from=2026-10-17&to=2026-11-15&view=days")
    assert export.headers["content-type"].startswith("text/csv")
    lines = export.text.splitlines()
    assert lines[0].startswith("day,partner,campaign,partner_name,short_url,clicks")
    assert len(lines) > 10


def _cells(html: str, testid: str = "table") -> list[list[str]]:
    """The text of each body cell of the table ``testid``, row by row."""
    body = html.split(f'data-testid="{testid}"', 1)[1].split("<tbody>", 1)[1]
    body = body.split("</tbody>", 1)[0]
    return [
        [
            re.sub(r"<[^>]+>|\s+", " ", cell).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def _count(text: str) -> int:
    return int(text.replace(",", ""))


SAMPLE_RANGE = "from=2025-11-16&to=2026-11-15"  # every click of the sample, and the most days


def test_tracking_totals_and_links_match_the_sample(
    client: TestClient, demo_settings: Settings
) -> None:
    login(client, DEMO_OWNER_EMAIL)
    links = sample_summary_truth(demo_settings)["tracking"]["links"]
    assert isinstance(links, list)
    truth = [link for link in links if link["brand"] == "trailhead-outfitters"]
    assert 3 <= len(truth) <= 25, "the brand's links fit on one page"
    page = client.get(f"/tracking?{SAMPLE_RANGE}&view=links&sort=clicks&order=desc")
    assert page.status_code == 200
    rows = _cells(page.text)
    shown = {r[2].split()[0]: _count(r[3]) for r in rows if r[3] != "0"}
    expected = {link["code"]: link["clicks"] for link in truth}
    assert len(shown) >= 4, "the links that ran in the last year"
    assert shown == {code: expected[code] for code in shown}, "each link's clicks, exactly"
    assert [_count(r[3]) for r in rows] == sorted((_count(r[3]) for r in rows), reverse=True)
    total = re.search(r'data-testid="total-clicks">([\d,]+)<', page.text)
    assert total
    assert _count(total.group(1)) == sum(shown.values())
    assert "<td>Summit Coffee Roasters</td>" in page.text, "partners by name"


@pytest.mark.parametrize("sort", ["clicks", "sales", "revenue", "conversion_rate", "partner"])
def test_tracking_table_sorts_and_pages_and_the_csv_follows(client: TestClient, sort: str) -> None:
    login(client, DEMO_OWNER_EMAIL)
    query = f"{SAMPLE_RANGE}&view=days&sort={sort}&order=asc"
    first = client.get(f"/tracking?{query}")
    pages = re.search(r"page 1 of (\d+)", first.text)
    assert pages, "the day table of the sample spans several pages"
    shown = []
    for number in range(1, int(pages.group(1)) + 1):
        page = client.get(f"/tracking?{query}&page={number}")
        rows = _cells(page.text)
        assert 0 < len(rows) <= 25
        shown += rows
    past = _cells(client.get(f"/tracking?{query}&page=9999").text)
    assert past == shown[-len(past) :], "a page past the end shows the last"
    export = list(csv.DictReader(io.StringIO(client.get(f"/tracking.csv?{query}").text)))
    single = [r for r in export if r["currency"] in ("EUR", "")]
    assert [(r["day"], r["partner_name"]) for r in single] == [(r[0], r[1]) for r in shown]
    column = {"clicks": 3, "sales": 6, "revenue": None, "conversion_rate": None, "partner": 1}[sort]
    if column is not None:
        values = [r[column] if sort == "partner" else _count(r[column]) for r in shown]
        assert values == sorted(values), f"ascending by {sort}"
    if sort == "revenue":
        amounts = [int(r["revenue_minor"]) for r in single]
        assert amounts == sorted(amounts)


def test_a_reversed_range_is_explained_on_the_page(client: TestClient) -> None:
    login(client, DEMO_OWNER_EMAIL)
    for path in ("/tracking", "/portal"):
        page = client.get(f"{path}?from=2026-11-10&to=2026-11-01", follow_redirects=False)
        if path == "/portal":
            assert page.status_code == 303, "a brand user has no portal"
            continue
        assert page.status_code == 422
        assert "from (2026-11-10) is after to (2026-11-01)" in page.text
        assert 'class="tabs"' in page.text, "the page keeps its navigation and its form"
        assert 'data-testid="range"' in page.text
    bad_sort = client.get("/tracking?sort=nonsense")
    assert bad_sort.status_code == 422
    assert "sort must be one of" in bad_sort.text
    assert client.get("/tracking.csv?sort=nonsense").status_code == 422


def test_partner_has_no_tracking_dashboard(client: TestClient) -> None:
    login(client, DEMO_PARTNER_EMAIL)
    assert client.get("/tracking", follow_redirects=False).headers["location"] == "/portal"
    assert client.get("/tracking.csv").status_code == 401


def test_portal_lists_the_partners_own_links_with_their_numbers(
    client: TestClient, demo_settings: Settings
) -> None:
    login(client, DEMO_PARTNER_EMAIL)
    page = client.get(f"/portal?{SAMPLE_RANGE}").text
    truth = sample_summary_truth(demo_settings)
    mine = [link for link in truth["tracking"]["links"] if link["partner"] == "summit-coffee"]
    assert mine, "the sample issues links to summit-coffee"
    rows = {re.search(r"/r/(\w+)", r[2]).group(1): _count(r[3])  # type: ignore[union-attr]
            for r in _cells(page, "links")}  # fmt: skip
    assert rows == {link["code"]: link["clicks"] for link in mine}
    assert "<td>Trailhead Outfitters</td>" in page, "the brand by name"
    qr = client.get(f"/portal/links/{mine[0]['code']}/qr.svg")
    assert qr.headers["content-type"] == "image/svg+xml"
    others = [
        link["code"] for link in truth["tracking"]["links"] if link["partner"] != "summit-coffee"
    ]
    assert not any(code in page for code in others)
    assert client.get(f"/portal/links/{others[0]}/qr.svg").status_code == 404, "not theirs"


def test_portal_lists_the_partners_codes_to_copy_with_a_qr(
    client: TestClient, demo_settings: Settings
) -> None:
    db = open_database(demo_settings)
    try:
        brand = get_organization(db, "trailhead-outfitters").id
        create_code(db, brand, "summit-coffee", "SUMMIT15", CodeKind.COUPON)
        create_code(db, brand, "ridge-bikes", "RIDGE15", CodeKind.COUPON)
    finally:
        db.dispose()
    login(client, DEMO_PARTNER_EMAIL)
    page = client.get("/portal").text
    assert 'data-copy="SUMMIT15"' in page
    assert "RIDGE15" not in page, "another partner's code"
    qr = client.get("/portal/codes/SUMMIT15/qr.svg")
    assert qr.headers["content-type"] == "image/svg+xml"
    assert client.get("/portal/codes/RIDGE15/qr.svg").status_code == 404, "not theirs"


def sample_summary_truth(settings: Settings) -> dict[str, object]:
    from crosspromo.services.admin.database import open_database
    from crosspromo.services.sample.build import sample_summary

    db = open_database(settings)
    try:
        summary = sample_summary(db)
        assert summary is not None
        return summary.truth
    finally:
        db.dispose()


def _as(client: TestClient, settings: Settings, role: str) -> str:
    """Log in as a new user of the demo brand with ``role``; the page after login."""
    db = open_database(settings)
    email = f"{role}@trailhead.test"
    create_user(db, "trailhead-outfitters", email, PASSWORD, role, reset=True)
    db.dispose()
    return login(client, email)


def _keys(settings: Settings) -> list[tuple[str, bool]]:
    db = open_database(settings)
    try:
        return [(k.name, k.revoked_at is None)
                for k in list_api_keys(db, "trailhead-outfitters")]  # fmt: skip
    finally:
        db.dispose()


def test_api_keys_made_once_and_revoked_from_settings(
    client: TestClient, demo_settings: Settings
) -> None:
    _as(client, demo_settings, "manager")
    page = client.get("/settings/keys").text
    made = client.post("/settings/keys", data={"csrf": _csrf(page), "name": "shop backend"})
    assert made.status_code == 200
    key = re.search(r'data-testid="issued-key">(cp_[^<]+)<', made.text)
    assert key, "the new key is shown"
    auth = {"Authorization": f"Bearer {key.group(1)}"}
    assert client.get("/api/v1/organization", headers=auth).status_code == 200
    assert ("shop backend", True) in _keys(demo_settings)
    assert key.group(1) not in client.get("/settings/keys").text, "shown once only"
    prefix = key.group(1).split("_")[1]
    client.post(f"/settings/keys/{prefix}/revoke", data={"csrf": _csrf(page)})
    assert ("shop backend", False) in _keys(demo_settings)
    assert client.get("/api/v1/organization", headers=auth).status_code == 401
    bad = client.post("/settings/keys", data={"csrf": _csrf(page), "name": " "})
    assert bad.status_code == 422
    assert "key name must be 1-100 characters" in bad.text


def test_an_analyst_sees_but_cannot_change(client: TestClient, demo_settings: Settings) -> None:
    _as(client, demo_settings, "analyst")
    page = client.get("/settings/keys")
    assert page.status_code == 200
    assert "Make a key" not in page.text
    before = _keys(demo_settings)
    refused = client.post("/settings/keys", data={"csrf": _csrf(page.text), "name": "sneaky"})
    assert refused.status_code == 403
    assert _keys(demo_settings) == before, "nothing changed"


def test_error_pages_keep_the_navigation_and_the_favicon_is_served(client: TestClient) -> None:
    login(client, DEMO_OWNER_EMAIL)
    missing = client.get("/no-such-page", headers={"accept": "text/html"})
    assert missing.status_code == 404
    assert 'class="tabs"' in missing.text
    assert "Log out" in missing.text
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")


def _until_shown(client: TestClient, path: str) -> str:
    """Follow a page's progress as the browser does (it reloads itself) until it is shown."""
    deadline = time.monotonic() + 120
    while (answer := client.get(path)).status_code == 202:
        assert time.monotonic() < deadline, f"{path} still computing"
        time.sleep(0.2)
    assert answer.status_code == 200, answer.text
    return answer.text


def test_a_first_computation_shows_its_progress(demo_settings: Settings) -> None:
    """A page whose result is computed for the first time answers at once with what is
    computed, keeps the navigation and reloads itself; once done the result is shown, and
    the next first computation of its kind says how long the last one took. The API waits."""
    at_once = demo_settings.model_copy(update={"progress_after_seconds": 0})
    with TestClient(create_app(at_once)) as client:
        assert client.get("/healthz").json()["results"] == "ready"  # not warming: no warm-up
        login(client, DEMO_OWNER_EMAIL)
        first = client.get("/attribution")
        assert first.status_code == 202
        assert first.headers["retry-after"] == "1"
        assert first.headers["cache-control"] == "no-store"
        assert 'data-testid="computing"' in first.text
        assert "Computing the attribution models" in first.text
        assert '<meta http-equiv="refresh" content="1">' in first.text
        assert 'class="tabs"' in first.text
        assert 'href="/attribution" class="on"' in first.text
        assert "last time it took" not in first.text
        shown = _until_shown(client, "/attribution")
        assert 'data-testid="computing"' not in shown
        assert "Equal shares" in shown
        assert "models side by side" in shown
        ranged = client.get("/attribution?from=2026-10-01&to=2026-10-31")
        assert ranged.status_code == 202
        assert "last time it took" in ranged.text
        assert "<progress max=" in ranged.text
        _until_shown(client, "/attribution?from=2026-10-01&to=2026-10-31")
    db = open_database(at_once)
    organization = get_organization(db, "trailhead-outfitters")
    api_key = create_api_key(db, organization.slug).key
    db.dispose()
    with TestClient(create_app(at_once)) as client:
        answer = client.get("/api/v1/attribution", headers={"Authorization": f"Bearer {api_key}"})
        assert answer.status_code == 200, answer.text  # waited for, never a progress page


def test_another_tenants_key_cannot_be_revoked(client: TestClient, demo_settings: Settings) -> None:
    db = open_database(demo_settings)
    theirs = create_api_key(db, "summit-coffee", "theirs")
    db.dispose()
    page = _as(client, demo_settings, "owner")
    r = client.post(f"/settings/keys/{theirs.prefix}/revoke", data={"csrf": _csrf(page)},
                    headers={"accept": "text/html"})  # fmt: skip
    assert r.status_code == 404
    still = client.get("/api/v1/organization", headers={"Authorization": f"Bearer {theirs.key}"})
    assert still.status_code == 200, "their key still works"
    assert theirs.prefix not in client.get("/settings/keys").text


def test_a_link_issued_from_the_dashboard_and_followed(
    client: TestClient, demo_settings: Settings
) -> None:
    db = open_database(demo_settings)
    shown = links_page(db, get_organization(db, "trailhead-outfitters").id)
    db.dispose()
    assert shown.partners
    assert shown.domains
    page = _as(client, demo_settings, "manager")
    page = client.get("/links").text
    destination = f"https://{shown.domains[0]}/boots?size=42"
    form = {"csrf": _csrf(page), "partner": shown.partners[0], "campaign": "winter",
            "destination": destination, "slug": "winter-boots"}  # fmt: skip
    made = client.post("/links", data=form)
    assert made.status_code == 200, made.text
    url = re.search(r'data-testid="made-url">([^<]+)<', made.text)
    assert url
    assert url.group(1).endswith("/r/winter-boots")
    assert 'src="/links/winter-boots/qr.svg"' in made.text
    assert client.get("/links/winter-boots/qr.svg").headers["content-type"] == "image/svg+xml"
    with TestClient(create_server(demo_settings)) as server:  # /r/ is served in front
        hop = server.get("/r/winter-boots", follow_redirects=False)
    assert hop.status_code == 302
    assert hop.headers["location"].startswith(f"https://{shown.domains[0]}/boots?size=42")
    assert "utm_campaign=winter" in hop.headers["location"]
    again = client.post("/links", data=form | {"destination": "https://evil.test/x"})
    assert again.status_code == 422
    assert "not on this organization&#39;s allow-list" in again.text
    assert 'value="https://evil.test/x"' in again.text, "the form keeps what was typed"
    _as(client, demo_settings, "analyst")
    token = _csrf(client.get("/links").text)
    refused = client.post("/links", data=form | {"slug": "analyst-link", "csrf": token})
    assert refused.status_code == 403
    assert "winter-boots" in client.get("/links").text, "an analyst sees the links"
    db = open_database(demo_settings)
    codes = [
        link.code for link in links_page(db, get_organization(db, "trailhead-outfitters").id).links
    ]
    db.dispose()
    assert "analyst-link" not in codes, "and made none"


def test_links_and_codes_paused_from_the_links_page(
    client: TestClient, demo_settings: Settings
) -> None:
    """A manager pauses a link and stops a code with a click; the link's partner sees it
    paused in the portal (with nothing to share), and both come back when resumed."""
    db = open_database(demo_settings)
    brand = get_organization(db, "trailhead-outfitters").id
    code = create_code(db, brand, "summit-coffee", "SUMMIT-PAUSE", CodeKind.COUPON)
    shown = links_page(db, brand)
    db.dispose()
    link = next(i for i in shown.links if i.partner == "summit-coffee")  # the partner login's
    page = _as(client, demo_settings, "manager")
    paused = client.post(f"/links/{link.code}/active", data={"csrf": _csrf(page), "active": "0"},
                         follow_redirects=False)  # fmt: skip
    assert paused.status_code == 303
    assert paused.headers["location"] == f"/links#link-{link.code}"
    stopped = client.post(f"/links/codes/{code.code}/active",
                          data={"csrf": _csrf(page), "active": "0"})  # fmt: skip
    assert stopped.status_code == 200
    row = re.search(rf'<tr data-code="{link.code}"[^>]*>(.*?)</tr>', stopped.text, re.S)
    assert row is not None
    assert 'class="inactive"' in row.group(0)
    assert ">Resume</button>" in row.group(1)
    db = open_database(demo_settings)
    after = links_page(db, brand)
    db.dispose()
    assert next(i for i in after.links if i.code == link.code).active is False
    assert next(c for c in after.codes if c.code == code.code).active is False
    with TestClient(create_server(demo_settings)) as server:
        assert server.get(f"/r/{link.code}", follow_redirects=False).status_code == 404
        login(server, DEMO_PARTNER_EMAIL)
        portal = server.get("/portal").text
    assert "paused by the brand" in portal
    client.post(f"/links/{link.code}/active", data={"csrf": _csrf(page), "active": "1"})
    client.post(f"/links/codes/{code.code}/active", data={"csrf": _csrf(page), "active": "1"})
    db = open_database(demo_settings)
    again = links_page(db, brand)
    db.dispose()
    assert all(i.active for i in again.links if i.code == link.code)
    assert all(c.active for c in again.codes if c.code == code.code)


def test_link_domains_allowed_and_removed_from_settings(
    client: TestClient, demo_settings: Settings
) -> None:
    def allowed() -> list[str]:
        db = open_database(demo_settings)
        try:
            return list_domains(db, get_organization(db, "trailhead-outfitters").id)
        finally:
            db.dispose()

    page = _as(client, demo_settings, "manager")
    page = client.get("/settings/domains").text
    added = client.post(
        "/settings/domains", data={"csrf": _csrf(page), "domain": " Bücher.Example. "}
    )
    assert added.status_code == 200  # followed to the list
    assert "xn--bcher-kva.example" in allowed()
    assert 'data-domain="xn--bcher-kva.example"' in added.text
    bad = client.post("/settings/domains", data={"csrf": _csrf(page), "domain": "https://x.y/z"})
    assert bad.status_code == 422
    assert "is not a domain name" in bad.text
    client.post("/settings/domains/remove",
                data={"csrf": _csrf(page), "domain": "xn--bcher-kva.example"})  # fmt: skip
    assert "xn--bcher-kva.example" not in allowed()
    before = allowed()
    _as(client, demo_settings, "analyst")
    token = _csrf(client.get("/settings/domains").text)
    refused = client.post("/settings/domains", data={"csrf": token, "domain": "evil.test"})
    assert refused.status_code == 403
    assert allowed() == before


def test_audience_sharing_set_from_settings(client: TestClient, demo_settings: Settings) -> None:
    def level() -> str:
        db = open_database(demo_settings)
        try:
            return sharing(db, get_organization(db, "trailhead-outfitters").id).level
        finally:
            db.dispose()

    _as(client, demo_settings, "manager")
    page = client.get("/settings/sharing").text
    client.post("/settings/sharing", data={"csrf": _csrf(page), "level": "records"})
    assert level() == "records"
    assert 'data-testid="level">records<' in client.get("/settings/sharing").text
    bad = client.post("/settings/sharing", data={"csrf": _csrf(page), "level": "everything"})
    assert bad.status_code == 422
    assert level() == "records"
    _as(client, demo_settings, "analyst")
    token = _csrf(client.get("/settings/sharing").text)
    refused = client.post("/settings/sharing", data={"csrf": token, "level": "hidden"})
    assert refused.status_code == 403
    assert level() == "records"

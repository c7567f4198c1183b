"""Tenant-isolation harness for /api/v1, reused by every issue that adds a route.

Each route registers a case: a request made with the key of the organization that owns the
resource (which must succeed) and the same request with another organization's key (which must
get 404 for a single resource, or a list without the owner's data). A route without a case
fails the harness, so no new route can skip the check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.web.conftest import World


@dataclass(frozen=True)
class Case:
    method: str
    path: Callable[[World], str]
    owner: str
    intruder: str
    body: Callable[[World], dict[str, Any]] | None = None
    # For collection routes: a function that says whether a response body leaks the owner's data.
    leaks: Callable[[World, Any], bool] | None = None
    owner_status: int = 200
    # For routes that take a file as the body instead of JSON (of ``content_type``).
    content: Callable[[World], bytes] | None = None
    content_type: str = "text/csv"

    def send(self, world: World, slug: str | None) -> Any:
        """The request, with ``slug``'s key (none when None)."""
        headers = world.auth(slug) if slug else {}
        if self.content is not None:
            return world.client.request(
                self.method,
                self.path(world),
                content=self.content(world),
                headers={**headers, "content-type": self.content_type},
            )
        body = self.body(world) if self.body else None
        return world.client.request(self.method, self.path(world), json=body, headers=headers)


CASES: dict[tuple[str, str], Case] = {}


def case(method: str, template: str, **kwargs: Any) -> None:
    CASES[(method, template)] = Case(method, **kwargs)


case(
    "GET",
    "/api/v1/organization",
    path=lambda w: "/api/v1/organization",
    owner="acme",
    intruder="other",
    leaks=lambda w, body: body["slug"] == "acme",
)
case(
    "GET",
    "/api/v1/partnerships",
    path=lambda w: "/api/v1/partnerships",
    owner="acme",
    intruder="other",
    leaks=lambda w, body: w.partnership_ids["acme-beans"] in [p["id"] for p in body["items"]],
)
case(
    "POST",
    "/api/v1/partnerships",
    path=lambda w: "/api/v1/partnerships",
    owner="acme",
    intruder="other",
    body=lambda w: {"partner": "beans", "name": "x"},
    leaks=lambda w, body: body["partner"]["slug"] != "beans" or body["role"] != "initiator",
    owner_status=409,
)
case(
    "GET",
    "/api/v1/partnerships/{partnership_id}",
    path=lambda w: f"/api/v1/partnerships/{w.partnership_ids['acme-beans']}",
    owner="acme",
    intruder="other",
)
case(
    "POST",
    "/api/v1/partnerships/{partnership_id}/status",
    path=lambda w: f"/api/v1/partnerships/{w.partnership_ids['acme-beans']}/status",
    owner="acme",
    intruder="other",
    body=lambda w: {"status": "paused"},
)


def _shared(w: World) -> str:
    return f"/api/v1/partnerships/{w.partnership_ids['acme-beans']}/agreement"


def _signed_pause(w: World) -> dict[str, Any]:
    """A pause of acme and beans's partnership drafted for acme and signed with its key (as an
    organization holding its own key would)."""
    from crosspromo.services.admin.database import open_database
    from crosspromo.services.agree.agreements import draft_entry
    from crosspromo.services.agree.keys import signer

    db = open_database(w.settings)
    try:
        made = draft_entry(db, w.org_ids["acme"], w.partnership_ids["acme-beans"], "pause")
        with db.transaction() as session:
            key = signer(session, db.settings, w.org_ids["acme"])
        assert key is not None
        return {"entry": made.signed_with(key).document()}
    finally:
        db.dispose()


def _terms(brand: str, partner: str) -> dict[str, Any]:
    from crosspromo.services.agree.terms import template

    return template(brand, partner).document()


case(
    "POST",
    "/api/v1/agreements",
    path=lambda w: "/api/v1/agreements",
    owner="acme",
    intruder="other",
    body=lambda w: {"partner": "other", "terms": _terms("acme", "other")},
    leaks=lambda w, body: "partnership_id" in body,
)  # the intruder would propose to itself
case(
    "POST",
    "/api/v1/agreements/invitations",
    path=lambda w: "/api/v1/agreements/invitations",
    owner="acme",
    intruder="other",
    body=lambda w: {
        "slug": "newco",
        "name": "Newco",
        "email": "boss@newco.example",
        "terms": _terms("acme", "newco"),
    },
    leaks=lambda w, body: "partnership_id" in body,
)  # the intruder's terms name acme, not itself: refused, nothing made
case(
    "GET",
    "/api/v1/partnerships/{partnership_id}/agreement",
    path=_shared,
    owner="acme",
    intruder="other",
)
case(
    "POST",
    "/api/v1/partnerships/{partnership_id}/agreement/terms",
    path=lambda w: _shared(w) + "/terms",
    owner="acme",
    intruder="other",
    body=lambda w: {"terms": _terms("acme", "beans")},
)
case(
    "POST",
    "/api/v1/partnerships/{partnership_id}/agreement/accept",
    path=lambda w: _shared(w) + "/accept",
    owner="acme",
    intruder="other",
    body=lambda w: {"version": 2},
)
case(
    "POST",
    "/api/v1/partnerships/{partnership_id}/agreement/decline",
    path=lambda w: _shared(w) + "/decline",
    owner="acme",
    intruder="other",
    body=lambda w: {"version": 2, "reason": "no"},
)
case(
    "POST",
    "/api/v1/partnerships/{partnership_id}/agreement/{kind}",
    path=lambda w: _shared(w) + "/pause",
    owner="acme",
    intruder="other",
    body=lambda w: {"reason": "audit"},
)
case(
    "POST",
    "/api/v1/partnerships/{partnership_id}/agreement/statements",
    path=lambda w: _shared(w) + "/statements",
    owner="acme",
    intruder="other",
    body=lambda w: {"month": "2026-01"},
)
case(
    "GET",
    "/api/v1/partnerships/{partnership_id}/agreement/record",
    path=lambda w: _shared(w) + "/record",
    owner="acme",
    intruder="other",
)
case(
    "POST",
    "/api/v1/partnerships/{partnership_id}/agreement/draft",
    path=lambda w: _shared(w) + "/draft",
    owner="acme",
    intruder="other",
    body=lambda w: {"kind": "pause"},
)
case(
    "POST",
    "/api/v1/partnerships/{partnership_id}/agreement/entries",
    path=lambda w: _shared(w) + "/entries",
    owner="acme",
    intruder="other",
    body=_signed_pause,
)

case(
    "POST",
    "/api/v1/customers",
    path=lambda w: "/api/v1/customers",
    owner="acme",
    intruder="other",
    body=lambda w: {"external_id": "c1@example.com"},
    leaks=lambda w, body: body["id"] == w.customer_ids["acme"],
)
case(
    "GET",
    "/api/v1/customers/{customer_id}",
    path=lambda w: f"/api/v1/customers/{w.customer_ids['acme']}",
    owner="acme",
    intruder="other",
)

case(
    "GET",
    "/api/v1/domains",
    path=lambda w: "/api/v1/domains",
    owner="acme",
    intruder="other",
    leaks=lambda w, body: "acme.example" in body["domains"],
)
case(
    "POST",
    "/api/v1/domains",
    path=lambda w: "/api/v1/domains",
    owner="acme",
    intruder="other",
    body=lambda w: {"domain": "acme.example"},
    leaks=lambda w, body: body["added"] is False,
    owner_status=201,
)
case(
    "DELETE",
    "/api/v1/domains/{domain}",
    path=lambda w: "/api/v1/domains/acme.example",
    owner="acme",
    intruder="other",
    owner_status=204,
)
case(
    "POST",
    "/api/v1/links",
    path=lambda w: "/api/v1/links",
    owner="acme",
    intruder="other",
    body=lambda w: {"partner": "beans", "destination": "https://acme.example/"},
    owner_status=201,
    leaks=lambda w, body: True,
)  # any success would be an open redirect to acme's site
case(
    "GET",
    "/api/v1/links",
    path=lambda w: "/api/v1/links",
    owner="acme",
    intruder="other",
    leaks=lambda w, body: w.link_codes["acme"] in [i["code"] for i in body["items"]],
)
case(
    "PATCH",
    "/api/v1/links/{code}",
    path=lambda w: f"/api/v1/links/{w.link_codes['acme']}",
    owner="acme",
    intruder="other",
    body=lambda w: {"active": True},
)
for suffix in ("", "/qr.svg", "/qr.png", "/stats"):
    case(
        "GET",
        "/api/v1/links/{code}" + suffix,
        path=lambda w, s=suffix: f"/api/v1/links/{w.link_codes['acme']}{s}",
        owner="acme",
        intruder="other",
    )

_SALE = {
    "type": "sale",
    "occurred_at": "2026-02-01T10:00:00Z",
    "amount_minor": 1999,
    "currency": "EUR",
    "referral_code": "BEANS10",
}
case(
    "POST",
    "/api/v1/conversions",
    path=lambda w: "/api/v1/conversions",
    owner="acme",
    intruder="other",
    body=lambda w: _SALE,
    owner_status=201,
    leaks=lambda w, body: True,
)  # acme's code must not credit anything for another tenant
case(
    "POST",
    "/api/v1/conversions/batch",
    path=lambda w: "/api/v1/conversions/batch",
    owner="acme",
    intruder="other",
    body=lambda w: {"conversions": [_SALE]},
    owner_status=201,
    leaks=lambda w, body: True,
)
case(
    "GET",
    "/api/v1/conversions/{conversion_id}",
    path=lambda w: f"/api/v1/conversions/{w.conversion_ids['acme']}",
    owner="acme",
    intruder="other",
)
case(
    "POST",
    "/api/v1/codes",
    path=lambda w: "/api/v1/codes",
    owner="acme",
    intruder="other",
    body=lambda w: {"partner": "beans", "code": "BEANS10"},
    owner_status=409,
    leaks=lambda w, body: body.get("partner") != "beans",
)  # another tenant's own namespace
case(
    "PATCH",
    "/api/v1/codes/{code}",
    path=lambda w: "/api/v1/codes/BEANS10",
    owner="acme",
    intruder="other",
    body=lambda w: {"active": True},
)
case(
    "GET",
    "/api/v1/codes",
    path=lambda w: "/api/v1/codes",
    owner="acme",
    intruder="other",
    leaks=lambda w, body: "BEANS10" in [c["code"] for c in body["items"]],
)
case(
    "POST",
    "/api/v1/webhooks/inbound-secret",
    path=lambda w: "/api/v1/webhooks/inbound-secret",
    owner="acme",
    intruder="other",
    owner_status=201,
    leaks=lambda w, body: body["endpoint"].endswith("/acme"),
)
case(
    "POST",
    "/api/v1/webhooks/endpoints",
    path=lambda w: "/api/v1/webhooks/endpoints",
    owner="acme",
    intruder="other",
    owner_status=201,
    body=lambda w: {"url": "https://hooks.example/x", "events": ["conversion.created"]},
    leaks=lambda w, body: False,
)  # an endpoint of the caller's own; nothing of acme's shown
case(
    "GET",
    "/api/v1/webhooks/endpoints",
    path=lambda w: "/api/v1/webhooks/endpoints",
    owner="acme",
    intruder="other",
    leaks=lambda w, body: any(e["id"] == w.endpoint_ids["acme"] for e in body["items"]),
)
case(
    "DELETE",
    "/api/v1/webhooks/endpoints/{endpoint_id}",
    path=lambda w: f"/api/v1/webhooks/endpoints/{w.endpoint_ids['acme']}",
    owner="acme",
    intruder="other",
    owner_status=204,
)
case(
    "GET",
    "/api/v1/webhooks/deliveries",
    path=lambda w: "/api/v1/webhooks/deliveries",
    owner="acme",
    intruder="other",
    leaks=lambda w, body: any(d["id"] == w.delivery_ids["acme"] for d in body["items"]),
)
case(
    "POST",
    "/api/v1/webhooks/deliveries/{delivery_id}/replay",
    path=lambda w: f"/api/v1/webhooks/deliveries/{w.delivery_ids['acme']}/replay",
    owner="acme",
    intruder="other",
    owner_status=202,
)
case(
    "GET",
    "/api/v1/stats/daily",
    path=lambda w: "/api/v1/stats/daily",
    owner="acme",
    intruder="other",
    leaks=lambda w, body: any(r["campaign"] == "launch" for r in body["items"]),
)
case(
    "GET",
    "/api/v1/stats/daily.csv",
    path=lambda w: "/api/v1/stats/daily.csv",
    owner="acme",
    intruder="other",
    leaks=lambda w, body: ",launch," in body,
)
case(
    "GET",
    "/api/v1/attribution",
    path=lambda w: "/api/v1/attribution?kind=lead",
    owner="acme",
    intruder="other",
    leaks=lambda w, body: body["conversions"] > 0,  # acme's one lead
)
case(
    "POST",
    "/api/v1/experiments",
    path=lambda w: "/api/v1/experiments",
    owner="acme",
    intruder="other",
    body=lambda w: {"name": "x", "layer": "isolation"},
    leaks=lambda w, body: body["id"] == w.experiment_ids["acme"],
    owner_status=201,
)
case(
    "GET",
    "/api/v1/experiments",
    path=lambda w: "/api/v1/experiments",
    owner="acme",
    intruder="other",
    leaks=lambda w, body: w.experiment_ids["acme"] in [e["id"] for e in body["items"]],
)
case(
    "GET",
    "/api/v1/experiments/{experiment_id}",
    path=lambda w: f"/api/v1/experiments/{w.experiment_ids['acme']}",
    owner="acme",
    intruder="other",
)
case(
    "GET",
    "/api/v1/experiments/{experiment_id}/assignment",
    path=lambda w: f"/api/v1/experiments/{w.experiment_ids['acme']}/assignment?unit=u1",
    owner="acme",
    intruder="other",
)
case(
    "POST",
    "/api/v1/experiments/{experiment_id}/exposures",
    path=lambda w: f"/api/v1/experiments/{w.experiment_ids['acme']}/exposures",
    owner="acme",
    intruder="other",
    body=lambda w: {"items": [{"unit": "u1"}]},
)
case(
    "POST",
    "/api/v1/experiments/{experiment_id}/status",
    path=lambda w: f"/api/v1/experiments/{w.experiment_ids['acme']}/status",
    owner="acme",
    intruder="other",
    body=lambda w: {"status": "stopped"},
)
case(
    "GET",
    "/api/v1/experiments/{experiment_id}/results",
    path=lambda w: f"/api/v1/experiments/{w.experiment_ids['acme']}/results",
    owner="acme",
    intruder="other",
)
case(
    "GET",
    "/api/v1/clv",
    path=lambda w: "/api/v1/clv",
    owner="acme",
    intruder="other",
    leaks=lambda w, body: body.get("customers") == 1,  # acme's repeat buyer
)
case(
    "GET",
    "/api/v1/churn",
    path=lambda w: "/api/v1/churn",
    owner="acme",
    intruder="other",
    leaks=lambda w, body: "sources" in body,
)
case(
    "GET",
    "/api/v1/kpis",
    path=lambda w: "/api/v1/kpis",
    owner="acme",
    intruder="other",
    leaks=lambda w, body: any(p["partner"] == "beans" and p["clicks"] for p in body["partners"]),
)

OVERLAP_LIST = b"email\n" + b"".join(f"c{i}@example.com\n".encode() for i in range(6))
case(
    "GET",
    "/api/v1/overlap/sharing",
    path=lambda w: "/api/v1/overlap/sharing",
    owner="acme",
    intruder="other",
    leaks=lambda w, body: body["level"] != "hidden",  # acme shares counts; other never chose
)
case(
    "PUT",
    "/api/v1/overlap/sharing",
    path=lambda w: "/api/v1/overlap/sharing",
    owner="acme",
    intruder="other",
    body=lambda w: {"level": "counts"},
    leaks=lambda w, body: False,  # each sets its own level
)
case(
    "POST",
    "/api/v1/overlap/offers",
    path=lambda w: "/api/v1/overlap/offers?partner=beans",
    owner="acme",
    intruder="other",  # other shares nothing: refused
    content=lambda w: OVERLAP_LIST,
    leaks=lambda w, body: True,
    owner_status=201,
)
case(
    "GET",
    "/api/v1/overlap/sessions",
    path=lambda w: "/api/v1/overlap/sessions",
    owner="acme",
    intruder="other",
    leaks=lambda w, body: w.overlap_sessions["acme"] in [s["session"] for s in body["items"]],
)
case(
    "GET",
    "/api/v1/overlap/sessions/{session_id}",
    path=lambda w: f"/api/v1/overlap/sessions/{w.overlap_sessions['acme']}",
    owner="acme",
    intruder="other",
)
case(
    "DELETE",
    "/api/v1/overlap/sessions/{session_id}",
    path=lambda w: f"/api/v1/overlap/sessions/{w.overlap_sessions['acme']}",
    owner="acme",
    intruder="other",
    owner_status=204,
)
case(
    "POST",
    "/api/v1/overlap/sessions/{session_id}/join",
    path=lambda w: f"/api/v1/overlap/sessions/{w.overlap_sessions['acme']}/join",
    owner="beans",  # the offer is made to beans
    intruder="other",
    content=lambda w: OVERLAP_LIST,
)
case(
    "GET",
    "/api/v1/profile",
    path=lambda w: "/api/v1/profile",
    owner="acme",
    intruder="other",
    leaks=lambda w, body: body["org"] != "other",  # each sees its own
)
case(
    "PUT",
    "/api/v1/profile",
    path=lambda w: "/api/v1/profile",
    owner="acme",
    intruder="other",
    body=lambda w: {"description": "x", "categories": ["shop"]},
    leaks=lambda w, body: body["org"] != "other",
)
case(
    "DELETE",
    "/api/v1/profile",
    path=lambda w: "/api/v1/profile",
    owner="acme",
    intruder="other",
    leaks=lambda w, body: False,  # each removes its own
    owner_status=204,
)
case(
    "GET",
    "/api/v1/profiles",
    path=lambda w: "/api/v1/profiles",
    owner="acme",
    intruder="other",
    leaks=lambda w, body: False,  # profiles are public by design: discovery compares them
)
case(
    "POST",
    "/api/v1/profile/mentions",
    path=lambda w: "/api/v1/profile/mentions",
    owner="acme",
    intruder="other",
    body=lambda w: {"items": [{"text": "Great shop!"}]},
    leaks=lambda w, body: False,  # mentions of the caller itself
)
case(
    "GET",
    "/api/v1/partners/rank",
    path=lambda w: "/api/v1/partners/rank",
    owner="acme",
    intruder="other",
    leaks=lambda w, body: body["org"] != "other" or any(c["overlap"] for c in body["candidates"]),
)
case(
    "GET",
    "/api/v1/partners/graph",
    path=lambda w: "/api/v1/partners/graph",
    owner="acme",
    intruder="other",
    leaks=lambda w, body: "overlap_first" in body,
)
case(
    "GET",
    "/api/v1/partners/outreach",
    path=lambda w: "/api/v1/partners/outreach?candidate=beans",
    owner="acme",
    intruder="other",
    leaks=lambda w, body: "Acme" in body["text"],
)


# Pay: acme's commissions, its hold and payout; the partner's earnings.
def _no(w: World, body: Any) -> bool:
    return False


case(
    "POST",
    "/api/v1/commissions/compute",
    path=lambda w: "/api/v1/commissions/compute",
    owner="acme",
    intruder="other",
    body=lambda w: {},
    leaks=lambda w, body: body.get("lines", 0) > 0,
)
case(
    "GET",
    "/api/v1/commissions/summary",
    path=lambda w: "/api/v1/commissions/summary",
    owner="acme",
    intruder="other",
    leaks=lambda w, body: any(p["partner"] == "beans" for p in body["partners"]),
)
case(
    "GET",
    "/api/v1/commissions/holds",
    path=lambda w: "/api/v1/commissions/holds?status=all",
    owner="acme",
    intruder="other",
    leaks=lambda w, body: any(h["id"] == w.hold_ids["acme"] for h in body),
)
case(
    "POST",
    "/api/v1/commissions/holds/{hold_id}/decision",
    path=lambda w: f"/api/v1/commissions/holds/{w.hold_ids['acme']}/decision",
    owner="acme",
    intruder="other",
    body=lambda w: {"decision": "approve", "note": "ok"},
)
case(
    "GET",
    "/api/v1/earnings",
    path=lambda w: "/api/v1/earnings",
    owner="beans",
    intruder="other",
    leaks=lambda w, body: any(e["brand"] == "acme" for e in body["brands"]),
)
case(
    "POST",
    "/api/v1/payouts/runs",
    path=lambda w: "/api/v1/payouts/runs",
    owner="acme",
    intruder="other",
    body=lambda w: {},
    leaks=lambda w, body: bool(body["payouts"]),
    owner_status=201,
)
case(
    "GET",
    "/api/v1/payouts",
    path=lambda w: "/api/v1/payouts",
    owner="acme",
    intruder="other",
    leaks=lambda w, body: any(p["id"] == w.payout_ids["acme"] for p in body),
)
for action, payload in (("paid", {"reference": "BANK-1"}), ("cancel", None)):
    case(
        "POST",
        f"/api/v1/payouts/{{payout_id}}/{action}",
        path=lambda w, action=action: f"/api/v1/payouts/{w.payout_ids['acme']}/{action}",
        owner="acme",
        intruder="other",
        body=(lambda w, p=payload: p) if payload else None,
    )
case(
    "GET",
    "/api/v1/payouts/{payout_id}/export",
    path=lambda w: f"/api/v1/payouts/{w.payout_ids['acme']}/export?format=csv",
    owner="acme",
    intruder="other",
)
case(
    "PUT",
    "/api/v1/payout-details",
    path=lambda w: "/api/v1/payout-details",
    owner="acme",
    intruder="other",
    leaks=_no,
    body=lambda w: {"holder": "Own account", "iban": "DE89 3704 0044 0532 0130 00"},
)
case(
    "POST",
    "/api/v1/costs",
    path=lambda w: "/api/v1/costs",
    owner="acme",
    intruder="other",
    leaks=_no,
    owner_status=201,
    body=lambda w: {
        "rows": [
            {
                "channel": "search",
                "month": "2026-10",
                "kind": "other",
                "amount_minor": 100,
                "currency": "EUR",
            }
        ]
    },
)
case(
    "GET",
    "/api/v1/partnerships/{partnership_id}/statements/{month}",
    path=lambda w: f"/api/v1/partnerships/{w.partnership_ids['acme-beans']}/statements/2025-04",
    owner="acme",
    intruder="other",
)
case(
    "GET",
    "/api/v1/fraud-settings",
    path=lambda w: "/api/v1/fraud-settings",
    owner="acme",
    intruder="other",
    leaks=_no,
)
case(
    "PUT",
    "/api/v1/fraud-settings",
    path=lambda w: "/api/v1/fraud-settings",
    owner="acme",
    intruder="other",
    leaks=_no,
    body=lambda w: {"min_seconds": 30},
)


def _campaign(w: World) -> int:
    return w.campaign_ids["acme"]


case(
    "GET",
    "/api/v1/strategies/recommend",
    path=lambda w: "/api/v1/strategies/recommend?goal=leads&budget_minor=100000&weeks=4",
    owner="acme",
    intruder="other",
    leaks=_no,
)
case(
    "GET",
    "/api/v1/campaigns",
    path=lambda w: "/api/v1/campaigns",
    owner="acme",
    intruder="other",
    leaks=lambda w, body: any(c["id"] == _campaign(w) for c in body),
)
case(
    "POST",
    "/api/v1/campaigns",
    path=lambda w: "/api/v1/campaigns",
    owner="acme",
    intruder="other",
    owner_status=201,
    body=lambda w: {"name": "x", "strategy": "social", "start": "2026-04-01",
                    "end": "2026-04-30", "partnerships": [w.partnership_ids["acme-beans"]]},
)  # fmt: skip
case(
    "GET",
    "/api/v1/campaigns/{campaign_id}",
    path=lambda w: f"/api/v1/campaigns/{_campaign(w)}",
    owner="acme",
    intruder="other",
)
case(
    "POST",
    "/api/v1/campaigns/{campaign_id}/status",
    path=lambda w: f"/api/v1/campaigns/{_campaign(w)}/status",
    owner="acme",
    intruder="other",
    body=lambda w: {"status": "scheduled"},
)
case(
    "POST",
    "/api/v1/campaigns/{campaign_id}/checklist/{item_id}",
    path=lambda w: f"/api/v1/campaigns/{_campaign(w)}/checklist/1",
    owner="acme",
    intruder="other",
    body=lambda w: {"done": True},
)
case(
    "GET",
    "/api/v1/calendar",
    path=lambda w: "/api/v1/calendar",
    owner="acme",
    intruder="other",
    leaks=lambda w, body: any(i["id"] == w.calendar_item_ids["acme"] for i in body),
)
case(
    "POST",
    "/api/v1/calendar/items",
    path=lambda w: "/api/v1/calendar/items",
    owner="acme",
    intruder="other",
    owner_status=201,
    body=lambda w: {"campaign_id": _campaign(w), "at": "2026-03-03T09:00", "kind": "post",
                    "channel": "social", "audience": "loyal", "title": "x"},
)  # fmt: skip
case(
    "DELETE",
    "/api/v1/campaigns/{campaign_id}/calendar/{item_id}",
    path=lambda w: f"/api/v1/campaigns/{_campaign(w)}/calendar/{w.calendar_item_ids['acme']}",
    owner="acme",
    intruder="other",
    owner_status=204,
)
case(
    "GET",
    "/api/v1/calendar/conflicts",
    path=lambda w: "/api/v1/calendar/conflicts",
    owner="acme",
    intruder="other",
    leaks=lambda w, body: body["conflicts"] != [],
)
case(
    "GET",
    "/api/v1/calendar/blackouts",
    path=lambda w: "/api/v1/calendar/blackouts",
    owner="acme",
    intruder="other",
    leaks=lambda w, body: any(b["id"] == w.blackout_ids["acme"] for b in body),
)
case(
    "POST",
    "/api/v1/calendar/blackouts",
    path=lambda w: "/api/v1/calendar/blackouts",
    owner="acme",
    intruder="other",
    owner_status=201,
    leaks=_no,
    body=lambda w: {"start": "2026-08-01", "end": "2026-08-02", "reason": "summer"},
)
case(
    "DELETE",
    "/api/v1/calendar/blackouts/{blackout_id}",
    path=lambda w: f"/api/v1/calendar/blackouts/{w.blackout_ids['acme']}",
    owner="acme",
    intruder="other",
    owner_status=204,
)
case(
    "GET",
    "/api/v1/calendar/rules",
    path=lambda w: "/api/v1/calendar/rules",
    owner="acme",
    intruder="other",
    leaks=_no,
)
case(
    "PUT",
    "/api/v1/calendar/rules",
    path=lambda w: "/api/v1/calendar/rules",
    owner="acme",
    intruder="other",
    leaks=_no,
    body=lambda w: {"weekly_max": 5},
)
case(
    "GET",
    "/api/v1/calendar/feeds",
    path=lambda w: "/api/v1/calendar/feeds",
    owner="acme",
    intruder="other",
    leaks=lambda w, body: any(f["id"] == w.feed_ids["acme"] for f in body),
)
case(
    "POST",
    "/api/v1/calendar/feeds",
    path=lambda w: "/api/v1/calendar/feeds",
    owner="acme",
    intruder="other",
    owner_status=201,
    leaks=lambda w, body: body["campaign_id"] is not None,
    body=lambda w: {},
)
case(
    "DELETE",
    "/api/v1/calendar/feeds/{feed_id}",
    path=lambda w: f"/api/v1/calendar/feeds/{w.feed_ids['acme']}",
    owner="acme",
    intruder="other",
    owner_status=204,
)
case(
    "GET",
    "/api/v1/campaigns/{campaign_id}/figures",
    path=lambda w: f"/api/v1/campaigns/{_campaign(w)}/figures",
    owner="acme",
    intruder="other",
)
case(
    "POST",
    "/api/v1/campaigns/{campaign_id}/attachments",
    path=lambda w: f"/api/v1/campaigns/{_campaign(w)}/attachments",
    owner="acme",
    intruder="other",
    body=lambda w: {"kind": "link", "key": w.link_codes["acme"]},
)


def _asset(w: World) -> str:
    return f"/api/v1/campaigns/{_campaign(w)}/assets/{w.asset_ids['acme']}"


_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
case(
    "GET",
    "/api/v1/campaigns/{campaign_id}/assets",
    path=lambda w: f"/api/v1/campaigns/{_campaign(w)}/assets",
    owner="acme",
    intruder="other",
)
case(
    "POST",
    "/api/v1/campaigns/{campaign_id}/assets",
    path=lambda w: f"/api/v1/campaigns/{_campaign(w)}/assets?filename=new.png",
    owner="acme",
    intruder="other",
    owner_status=201,
    content=lambda w: _PNG,
    content_type="application/octet-stream",
)
case(
    "GET",
    "/api/v1/campaigns/{campaign_id}/assets/{asset_id}",
    path=_asset,
    owner="acme",
    intruder="other",
)
case(
    "POST",
    "/api/v1/campaigns/{campaign_id}/assets/{asset_id}/versions",
    path=lambda w: f"{_asset(w)}/versions?filename=v2.png",
    owner="acme",
    intruder="other",
    owner_status=201,
    content=lambda w: _PNG + b"v2",
    content_type="application/octet-stream",
)
case(
    "POST",
    "/api/v1/campaigns/{campaign_id}/assets/{asset_id}/reviews",
    path=lambda w: f"{_asset(w)}/reviews",
    owner="acme",
    intruder="other",
    body=lambda w: {"version": 1, "decision": "changes_requested"},
)
case(
    "POST",
    "/api/v1/campaigns/{campaign_id}/assets/{asset_id}/comments",
    path=lambda w: f"{_asset(w)}/comments",
    owner="acme",
    intruder="other",
    owner_status=201,
    body=lambda w: {"body": "Looks good"},
)
case(
    "GET",
    "/api/v1/campaigns/{campaign_id}/assets/{asset_id}/versions/{version}/content",
    path=lambda w: f"{_asset(w)}/versions/1/content?download=true",
    owner="acme",
    intruder="other",
)
case(
    "GET",
    "/api/v1/assets/offered",
    path=lambda w: "/api/v1/assets/offered",
    owner="acme",
    intruder="other",
    leaks=lambda w, body: any(o["asset"]["id"] == w.asset_ids["acme"] for o in body),
)
case(
    "GET",
    "/api/v1/campaigns/{campaign_id}/guidelines",
    path=lambda w: f"/api/v1/campaigns/{_campaign(w)}/guidelines",
    owner="acme",
    intruder="other",
)
case(
    "PUT",
    "/api/v1/brand-guidelines",
    path=lambda w: "/api/v1/brand-guidelines",
    owner="acme",
    intruder="other",
    leaks=lambda w, body: body["org"] == "acme",
    body=lambda w: {"colours": ["#123456"], "dos": ["Smile"]},
)
case(
    "PUT",
    "/api/v1/brand-guidelines/logo",
    path=lambda w: "/api/v1/brand-guidelines/logo",
    owner="acme",
    intruder="other",
    leaks=lambda w, body: body["org"] == "acme",
    content=lambda w: _PNG,
    content_type="application/octet-stream",
)
case(
    "GET",
    "/api/v1/campaigns/{campaign_id}/offers",
    path=lambda w: f"/api/v1/campaigns/{_campaign(w)}/offers",
    owner="acme",
    intruder="other",
)
case(
    "POST",
    "/api/v1/campaigns/{campaign_id}/offers",
    path=lambda w: f"/api/v1/campaigns/{_campaign(w)}/offers",
    owner="acme",
    intruder="other",
    owner_status=201,
    body=lambda w: {"title": "Bundle", "items": ["a", "b"], "price_minor": 1000,
                    "start": "2026-03-01", "end": "2026-03-31", "code": "BUNDLE-2"},
)  # fmt: skip
case(
    "GET",
    "/api/v1/campaigns/{campaign_id}/landing-pages",
    path=lambda w: f"/api/v1/campaigns/{_campaign(w)}/landing-pages",
    owner="acme",
    intruder="other",
)
case(
    "POST",
    "/api/v1/campaigns/{campaign_id}/landing-pages",
    path=lambda w: f"/api/v1/campaigns/{_campaign(w)}/landing-pages",
    owner="acme",
    intruder="other",
    owner_status=201,
    body=lambda w: {"slug": "another-page", "headline": "Hello"},
)
case(
    "POST",
    "/api/v1/campaigns/{campaign_id}/landing-pages/{page_id}/publish",
    path=lambda w: (
        f"/api/v1/campaigns/{_campaign(w)}/landing-pages/{w.landing_ids['acme']}/publish"
    ),
    owner="acme",
    intruder="other",
    body=lambda w: {"published": False},
)

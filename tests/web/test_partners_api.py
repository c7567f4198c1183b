"""The discovery API: profile round trip, mentions, and the ranking equal to the CLI's JSON."""

from __future__ import annotations

from tests.web.conftest import World


def test_profile_round_trip_and_validation(world: World) -> None:
    auth = world.auth("acme")
    body = {"description": "Outdoor gear", "categories": ["Outdoor"], "offerings": ["tents"],
            "followers": 200, "engagements": 30}  # fmt: skip
    saved = world.client.put("/api/v1/profile", json=body, headers=auth).json()
    assert (saved["categories"], saved["engagement_rate"]) == (["outdoor"], 0.15)
    assert world.client.get("/api/v1/profile", headers=auth).json() == saved
    bad = world.client.put("/api/v1/profile", json={"followers": -1}, headers=auth)
    assert bad.status_code == 422
    mentions = {"items": [{"text": "Great!"}, {"text": "Great!"}]}
    added = world.client.post("/api/v1/profile/mentions", json=mentions, headers=auth).json()
    assert added == {"received": 2, "new": 1}
    listed = world.client.get("/api/v1/profiles", headers=auth).json()["items"]
    assert {p["org"] for p in listed} == {"acme", "beans", "other"}


def test_ranking_matches_the_cli(world: World) -> None:
    from pydantic import TypeAdapter

    from crosspromo.services.admin.database import open_database
    from crosspromo.services.discover.ranking import RankingView, rank

    got = world.client.get("/api/v1/partners/rank?top=5", headers=world.auth("acme"))
    assert got.status_code == 200, got.text
    db = open_database(world.settings)
    try:
        direct = rank(db, world.org_ids["acme"], top=5)
    finally:
        db.dispose()
    assert got.json() == TypeAdapter(RankingView).dump_python(direct, mode="json")
    assert {c["org"] for c in got.json()["candidates"]} == {"beans", "other"}
    graph = world.client.get("/api/v1/partners/graph", headers=world.auth("acme"))
    assert graph.headers["content-type"].startswith("application/graphml+xml")
    draft = world.client.get(
        "/api/v1/partners/outreach?candidate=beans", headers=world.auth("acme")
    ).json()
    assert "Acme x Beans" in draft["text"]


def test_nul_characters_are_refused_by_name(world: World) -> None:
    """PostgreSQL cannot store NUL: a mention or profile holding one is a 422 naming the field,
    not a server error (the schema fuzzer found the mention on PostgreSQL)."""
    auth = world.auth("acme")
    mention = {"items": [{"text": "great\u0000coffee"}]}
    refused = world.client.post("/api/v1/profile/mentions", json=mention, headers=auth)
    assert refused.status_code == 422, refused.text
    assert "text" in refused.json()["detail"]
    profile = world.client.put("/api/v1/profile", json={"description": "a\u0000b"}, headers=auth)
    assert profile.status_code == 422, profile.text
    assert "description" in profile.json()["detail"]

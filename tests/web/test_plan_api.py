"""Plan over HTTP: an item checked before saving, saved with its conflicts, and the secret
iCal address that follows the calendar and answers 404 once revoked."""

from __future__ import annotations

from icalendar import Calendar

from tests.web.conftest import World


def test_items_checked_saved_and_fed_to_a_calendar_program(world: World) -> None:
    auth = world.auth("acme")
    campaign = world.campaign_ids["acme"]
    feed = f"/calendar/{world.feed_tokens['acme']}.ics"
    first = world.client.get(feed)
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("text/calendar")
    assert first.headers["cache-control"] == "private, no-store"
    uids = [str(e["uid"]) for e in Calendar.from_ical(first.content).walk("VEVENT")]
    assert uids == [f"calendar-item-{world.calendar_item_ids['acme']}@crosspromo"]
    item = {"campaign_id": campaign, "at": "2026-03-03T20:00", "kind": "send",
            "channel": "Newsletter", "audience": "loyal", "title": "Second mail",
            "timezone": "Europe/Berlin"}  # fmt: skip
    checked = world.client.post("/api/v1/calendar/items?check=true", json=item, headers=auth)
    assert checked.status_code == 200, checked.text
    body = checked.json()
    assert body["id"] == 0
    assert [c["kind"] for c in body["conflicts"]] == ["same_audience_channel"]
    assert [str(e["uid"]) for e in Calendar.from_ical(world.client.get(feed).content).walk(
        "VEVENT")] == uids  # fmt: skip
    saved = world.client.post("/api/v1/calendar/items", json=item, headers=auth)
    assert saved.status_code == 201, saved.text
    assert saved.json()["conflicts"][0]["items"] == [world.calendar_item_ids["acme"],
                                                     saved.json()["id"]]  # fmt: skip
    events = Calendar.from_ical(world.client.get(feed).content).walk("VEVENT")
    assert len(events) == 2  # the feed follows the calendar
    assert world.client.get("/calendar/" + "x" * 43 + ".ics").status_code == 404
    gone = world.client.delete(f"/api/v1/calendar/feeds/{world.feed_ids['acme']}", headers=auth)
    assert gone.status_code == 204
    revoked = world.client.get(feed)
    assert revoked.status_code == 404
    assert revoked.headers["content-type"] == "application/problem+json"

"""The Plan commands as the issue names them, with their exact JSON shapes: `strategies
recommend`, `campaigns create`, `calendar add` (with the conflicts), `calendar blackout`,
`calendar conflicts` and `calendar feed`."""

from __future__ import annotations

import json

from icalendar import Calendar

from crosspromo.domain import OrgKind
from crosspromo.services.accounts.organizations import create_organization
from crosspromo.services.plan import feeds
from crosspromo.store.database import Database
from tests.cli.test_cli import cli_here
from tests.conftest import agreed


def _json(*args: str, db: Database) -> object:
    done = cli_here(*args, "--format", "json", db_url=str(db.settings.database_url))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_plan_from_the_command_line(sqlite_db: Database) -> None:
    db = sqlite_db
    acme = create_organization(db, "acme", "Acme", OrgKind.BRAND).id
    create_organization(db, "beans", "Beans", OrgKind.PARTNER)
    partnership = agreed(db, acme, "beans")
    ranked = _json("strategies", "recommend", "--goal", "leads", "--budget-minor", "50000",
                   "--currency", "EUR", "--weeks", "2", db=db)  # fmt: skip
    assert isinstance(ranked, dict)
    strategies = ranked["strategies"]
    assert len(strategies) == 9
    assert set(strategies[0]) >= {"strategy", "score", "reasons"}
    assert strategies[0]["strategy"] == "email_swap"  # quick, cheap and strong for leads
    assert all(isinstance(s["score"], float) and s["reasons"] for s in strategies)
    scores = [s["score"] for s in strategies]
    assert scores == sorted(scores, reverse=True)
    events = next(s for s in strategies if s["strategy"] == "co_hosted_event")
    assert any("longer than your 2 weeks" in r for r in events["reasons"])

    made = _json("campaigns", "create", "--org", "acme", "--partnership", str(partnership),
                 "--name", "Spring swap", "--strategy", "email_swap", "--start", "2026-03-01",
                 "--end", "2026-03-31", db=db)  # fmt: skip
    assert isinstance(made, dict)
    assert (made["status"], isinstance(made["id"], int)) == ("draft", True)
    campaign = str(made["id"])

    def add(at: str, channel: str = "newsletter") -> dict:
        found = _json("calendar", "add", "--org", "acme", "--campaign", campaign, "--at", at,
                      "--channel", channel, "--audience", "loyal", "--kind", "send",
                      "--title", "Swap mail", db=db)  # fmt: skip
        assert isinstance(found, dict)
        return found

    first = add("2026-03-02T09:00:00+01:00")
    assert (isinstance(first["id"], int), first["conflicts"]) == (True, [])
    second = add("2026-03-03T09:00:00+01:00")
    assert [(c["kind"], c["items"]) for c in second["conflicts"]] == [
        ("same_audience_channel", [first["id"], second["id"]])
    ]
    url = str(db.settings.database_url)
    done = cli_here("calendar", "blackout", "--org", "acme", "--from", "2026-03-10", "--to",
                    "2026-03-12", "--reason", "Inventory", db_url=url)  # fmt: skip
    assert done.returncode == 0, done.stderr
    third = add("2026-03-11T12:00:00+01:00", channel="social")
    assert [c["kind"] for c in third["conflicts"]] == ["blackout"]
    listed = _json("calendar", "conflicts", "--org", "acme", db=db)
    assert isinstance(listed, dict)
    assert [set(c) for c in listed["conflicts"]] == [{"kind", "items", "reason"}] * 2
    assert sorted(c["kind"] for c in listed["conflicts"]) == ["blackout", "same_audience_channel"]
    feed = _json("calendar", "feed", "--org", "acme", db=db)
    assert isinstance(feed, dict)
    assert feed["url"].startswith("http://127.0.0.1:8000/calendar/")
    token = feed["url"].rsplit("/", 1)[1].removesuffix(".ics")
    events = Calendar.from_ical(feeds.feed_ics(db, token)).walk("VEVENT")
    assert len(events) == 3

    bad = cli_here("calendar", "add", "--org", "acme", "--campaign", campaign, "--at",
                   "2026-03-02T09:00", "--channel", "x", "--audience", "y", "--kind", "tweet",
                   "--title", "t", db_url=str(db.settings.database_url))  # fmt: skip
    assert bad.returncode != 0
    assert "kind 'tweet' is not one of send, post, publish, launch, event, webinar" in bad.stderr

"""Profiles, mentions and the ranking of candidate partners, on SQLite and PostgreSQL; and the
sample's discovery data against its truth."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest

from crosspromo.analytics.discovery import score
from crosspromo.domain import ConsentPurpose, OrgKind
from crosspromo.errors import InvalidInputError, NotFoundError
from crosspromo.services.accounts.customers import record_customer
from crosspromo.services.accounts.organizations import create_organization, get_organization
from crosspromo.services.discover import profiles, ranking, sessions
from crosspromo.services.discover.lists import ListOptions
from crosspromo.services.sample.build import build_sample
from crosspromo.store.database import Database

PEOPLE = [
    ("gear", "Outdoor gear for hikers, campers and trail runners", "outdoor-gear",
     ("hiking boots", "tents", "backpacks"), 5000, 20000, 900),
    ("brew", "Coffee roasted for early starts on the trail and at camp", "coffee",
     ("camp coffee kits", "whole bean coffee"), 3000, 8000, 700),
    ("rival", "Mountain equipment for climbers and hikers", "outdoor-gear",
     ("hiking boots", "tents"), 4000, 15000, 200),
    ("cover", "Travel insurance for hikers and adventurous travellers", "insurance",
     ("mountain rescue cover", "trip cancellation cover"), 2000, 4000, 60),
]  # fmt: skip


@pytest.fixture
def market(db: Database, tmp_path: Path) -> dict[str, int]:
    ids = {}
    for slug, about, category, offerings, size, followers, engagements in PEOPLE:
        ids[slug] = create_organization(db, slug, slug.title(), OrgKind.BRAND, category).id
        profiles.save_profile(
            db, ids[slug],
            profiles.ProfileInput(about, (category,), offerings, size, followers, engagements),
        )  # fmt: skip
    profiles.add_mentions(db, ids["brew"], [{"text": "Amazing coffee, love it!"}])
    profiles.add_mentions(db, ids["cover"], [{"text": "Terrible service, never again."}])
    share = frozenset({ConsentPurpose.PARTNER_SHARING})
    for i in range(40):  # gear has 40 consenting customers; brew 10 of them (25%)
        record_customer(db, ids["gear"], f"c{i}@x.com", share)
    for i in range(30, 60):
        record_customer(db, ids["brew"], f"c{i}@x.com", share)
    sessions.set_sharing(db, ids["gear"], "counts")
    sessions.set_sharing(db, ids["brew"], "counts")
    b_file, a_file = tmp_path / "brew.csv", tmp_path / "gear.csv"
    b_file.write_text("email\n" + "".join(f"c{i}@x.com\n" for i in range(30, 60)))
    a_file.write_text("email\n" + "".join(f"c{i}@x.com\n" for i in range(40)))
    offer = sessions.open_offer(db, ids["brew"], b_file, ListOptions(), partner="gear")
    sessions.join_offer(db, ids["gear"], offer.session.id, a_file, ListOptions())
    return ids


def test_ranking_scores_each_factor_and_flags_the_competitor(db: Database, market: dict) -> None:
    ranked = ranking.score_candidates(db, market["gear"], top=None)
    order = [c.profile.slug for c in ranked.candidates]
    assert order[-1] == "rival"
    assert ranked.candidates[-1].competitor
    brew = next(c for c in ranked.candidates if c.profile.slug == "brew")
    assert brew.overlap is not None
    assert (brew.overlap.intersection, brew.overlap.ours) == (10, 0.25)  # 10 of gear's 40
    assert brew.scored.values["overlap"] == 1.0  # inside the 20-40% band
    assert sum(brew.scored.parts.values()) == pytest.approx(brew.scored.score)
    assert "25% of our consenting customers are theirs too (10 shared)" in brew.reasons[0]
    cover = next(c for c in ranked.candidates if c.profile.slug == "cover")
    assert cover.overlap is None
    assert "overlap" in cover.scored.missing
    assert cover.reputation.mean is not None
    assert cover.reputation.mean < 0
    reach = {"overlap": 0, "complementarity": 0, "reputation": 0, "engagement": 0, "reach": 1}
    only_reach = ranking.score_candidates(db, market["gear"], top=None, weights=reach)
    assert only_reach.candidates[0].profile.slug == "brew"  # largest left; competitors last
    view = ranking.rank(db, market["gear"], top=None)
    assert view.candidates[0].parts == ranked.candidates[0].scored.parts


def test_learned_weights_drive_the_ranking(db: Database, market: dict, tmp_path: Path) -> None:
    outcomes = tmp_path / "outcomes.csv"
    outcomes.write_text("partner,success\nbrew,true\ncover,false\nrival,false\nbrew,true\n")
    model = ranking.learn_weights(db, market["gear"], outcomes, penalty=1.0)
    world = ranking.score_candidates(db, market["gear"], top=None)
    assert world.method == "learned"
    rows = [next(c for c in world.candidates if c.profile.slug == s).scored.values
            for s in ("brew", "cover", "rival", "brew")]  # fmt: skip
    again = score.learn(rows, [True, False, False, True], penalty=1.0)
    assert again.coefficients == pytest.approx(model.coefficients)
    back = ranking.set_weights(db, market["gear"], {"reach": 1.0}, use_learned=False)
    assert back.weights["reach"] == 1.0
    assert ranking.score_candidates(db, market["gear"]).method == "weights"
    bad = tmp_path / "bad.csv"
    bad.write_text("partner,success\nbrew,maybe\n")
    with pytest.raises(InvalidInputError, match=r"bad\.csv, line 2: success must be true or false"):
        ranking.learn_weights(db, market["gear"], bad)


def test_graph_and_outreach(db: Database, market: dict) -> None:
    g = nx.parse_graphml(ranking.ecosystem_graphml(db, market["gear"]))
    assert set(g.nodes) == {"gear", "brew", "rival", "cover"}
    assert g["gear"]["rival"]["relation"] == "competitor"
    text = ranking.outreach_draft(db, market["gear"], "brew")
    assert "Gear x Brew" in text
    assert "about 10 people already buy from both of us" in text
    # what the partner reads holds none of our internal evidence
    assert not any(word in text for word in ("target", "sentiment", "benchmark", "competitor"))
    rival = ranking.outreach_draft(db, market["gear"], "rival")
    assert "competitor" not in rival
    assert "without competing" not in rival
    with pytest.raises(NotFoundError):
        ranking.outreach_draft(db, market["gear"], "nobody")


def test_profiles_import_all_or_nothing(db: Database, tmp_path: Path) -> None:
    create_organization(db, "one", "One", OrgKind.BRAND)
    create_organization(db, "two", "Two", OrgKind.BRAND)
    good = tmp_path / "p.csv"
    good.write_text('org,description,categories,offerings,followers,engagements\n'
                    'one,Coffee,coffee,beans; mugs,100,7\n')  # fmt: skip
    assert profiles.import_profiles(db, good) == 1
    one = profiles.get_profile(db, get_organization(db, "one").id)
    assert (one.offerings, one.engagement_rate) == (("beans", "mugs"), 0.07)
    bad = tmp_path / "bad.csv"
    bad.write_text("org,description,followers\ntwo,Tea,10\nghost,X,1\n")
    with pytest.raises(InvalidInputError, match=r"bad\.csv, line 3: no organization"):
        profiles.import_profiles(db, bad)
    with pytest.raises(NotFoundError):  # the good row before it was not kept
        profiles.get_profile(db, get_organization(db, "two").id)
    (tmp_path / "n.csv").write_text("org,followers\none,lots\n")
    with pytest.raises(InvalidInputError, match="not a whole number"):
        profiles.import_profiles(db, tmp_path / "n.csv")
    mentions = tmp_path / "m.csv"
    mentions.write_text("org,text,posted_at\none,Great!,2026-01-02T10:00:00Z\none,Meh,\n")
    first, again = profiles.import_mentions(db, mentions), profiles.import_mentions(db, mentions)
    assert (first.received, first.new) == (2, 2)
    assert (again.received, again.new) == (2, 0)  # replays add nothing


def test_ranking_needs_our_profile(db: Database) -> None:
    org = create_organization(db, "bare", "Bare", OrgKind.BRAND)
    with pytest.raises(NotFoundError, match="describe your organization first"):
        ranking.score_candidates(db, org.id)


def test_sample_measures_the_brands_consented_overlaps(db: Database) -> None:
    summary = build_sample(db, seed=5, scale=5)
    truth = summary.truth
    brand = truth["discovery"]["brand"]
    expected = {}
    for o in truth["overlaps"]:
        if brand in (o["a"], o["b"]):
            expected[o["b"] if o["a"] == brand else o["a"]] = o["intersection_consented"]
    assert truth["discovery"]["overlaps"] == expected
    ranked = ranking.score_candidates(db, get_organization(db, brand).id, top=None)
    by_slug = {c.profile.slug: c for c in ranked.candidates}
    assert by_slug["alpine-gear-co"].competitor
    assert all(by_slug[s].overlap.intersection == n for s, n in expected.items())
    assert ranked.bundles

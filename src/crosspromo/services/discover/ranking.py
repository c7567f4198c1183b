"""Who should an organization partner with, and why: every other organization with a profile,
scored on measured audience overlap, complementarity, reputation, engagement and reach, with
the reasons in words, bundles, the ecosystem graph and a drafted introduction."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from crosspromo.analytics.discovery import graph as graphs
from crosspromo.analytics.discovery import outreach, score
from crosspromo.analytics.discovery import reputation as opinion
from crosspromo.analytics.discovery.complementarity import Offering, Pair, Relation, compare
from crosspromo.analytics.discovery.embeddings import default_encoder
from crosspromo.analytics.discovery.reputation import Engagement, Reputation
from crosspromo.domain.overlap import SessionStatus
from crosspromo.domain.profiles import Profile, ScoringSetup
from crosspromo.errors import InvalidInputError, NotFoundError
from crosspromo.services.files.tabular import TabularFile
from crosspromo.store.database import Database
from crosspromo.store.repositories import (
    OverlapRepository,
    PartnershipRepository,
    ProfileRepository,
)

MIN_CATEGORY_PEERS = 3  # below this, engagement is compared with every profile's median


@dataclass(frozen=True, slots=True)
class Overlap:
    """The latest measured overlap with a candidate, from our side."""

    intersection: int
    ours: float  # share of our customers (who take part) that the candidate also has
    theirs: float
    session: str


@dataclass(frozen=True, slots=True)
class Candidate:
    profile: Profile
    scored: score.Scored
    pair: Pair
    reputation: Reputation
    engagement: Engagement
    overlap: Overlap | None
    partnership: str | None  # status of an open partnership with us, if any
    reasons: tuple[str, ...]  # the evidence, for our side only
    pitch: tuple[str, ...]  # what an introduction to the candidate may say

    @property
    def competitor(self) -> bool:
        return self.pair.relation is Relation.COMPETITOR


@dataclass(frozen=True, slots=True)
class Ranking:
    org: Profile
    candidates: tuple[Candidate, ...]
    method: str  # "weights" or "learned"
    weights: dict[str, float]
    encoder: str
    bundles: tuple[graphs.Bundle, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class _World:
    profiles: dict[int, Profile]
    pairs: dict[tuple[str, str], Pair]
    overlaps: dict[tuple[int, int], Overlap]
    mentions: dict[int, list[str]]
    partnerships: dict[int, str]
    setup: ScoringSetup | None
    encoder: str
    benchmarks: dict[str, float]  # engagement medians of categories with enough peers
    overall: float | None  # every profile's median engagement
    largest: int  # the largest candidate audience


def _overlaps(session: Any, org_id: int) -> dict[tuple[int, int], Overlap]:
    """The newest finished overlap of each pair of tenants involving ``org_id``."""
    found: dict[tuple[int, int], Overlap] = {}
    for item in OverlapRepository(session).for_org(org_id):  # newest first
        if item.status is not SessionStatus.DONE or item.partner_org_id is None:
            continue
        result = item.result or {}
        requester, responder = item.partner_org_id, item.org_id
        n_req, n_resp = result.get("size_requester", 0), result.get("size_responder", 0)
        both = int(result.get("intersection", 0))
        for me, other, mine, theirs in ((requester, responder, n_req, n_resp),
                                        (responder, requester, n_resp, n_req)):  # fmt: skip
            found.setdefault(
                (me, other),
                Overlap(both, both / mine if mine else 0.0, both / theirs if theirs else 0.0,
                        item.id),
            )  # fmt: skip
    return found


def _load(db: Database, org_id: int, encoder_kind: str) -> _World:
    with db.reading() as session:
        repo = ProfileRepository(session)
        profiles = {p.org_id: p for p in repo.all()}
        if org_id not in profiles:
            raise NotFoundError(
                "describe your organization first (crosspromo partners profile set, or PUT "
                "/api/v1/profile): candidates are matched against your profile",
                org_id=org_id,
            )
        mentions: dict[int, list[str]] = defaultdict(list)
        for m in repo.mentions(list(profiles)):
            mentions[m.org_id].append(m.text)
        partnerships = {
            p.other_party(org_id): str(p.status)
            for p in PartnershipRepository(session).for_org(org_id)
            if str(p.status) != "ended"
        }
        overlaps = _overlaps(session, org_id)
        setup = repo.scoring(org_id)
    encoder = default_encoder(encoder_kind)
    items = [Offering(p.slug, p.description, p.categories, p.offerings) for p in profiles.values()]
    pairs = compare(items, encoder)
    by_category, overall = _benchmarks(list(profiles.values()))
    largest = max([p.audience_size or 0 for i, p in profiles.items() if i != org_id], default=0)
    return _World(profiles, pairs, overlaps, mentions, partnerships, setup, encoder.name,
                  by_category, overall, largest)  # fmt: skip


def _benchmarks(profiles: Sequence[Profile]) -> tuple[dict[str, float], float | None]:
    rates: dict[str, list[float]] = defaultdict(list)
    every = []
    for p in profiles:
        if p.engagement_rate is not None:
            rates[p.category].append(p.engagement_rate)
            every.append(p.engagement_rate)
    by_category = {c: v for c, v in opinion.benchmarks(rates).items()
                   if len(rates[c]) >= MIN_CATEGORY_PEERS}  # fmt: skip
    return by_category, (statistics.median(every) if every else None)


def _factors(world: _World, org: Profile, other: Profile) -> tuple[dict[str, Any], list[str]]:
    pair = world.pairs[(org.slug, other.slug)]
    measured = world.overlaps.get((org.org_id, other.org_id))
    rep = opinion.reputation(opinion.sentiment(world.mentions.get(other.org_id, [])))
    if other.category in world.benchmarks:
        eng = opinion.engagement(other.engagement_rate, world.benchmarks[other.category])
    else:  # too few peers in its category: every profile's median
        eng = opinion.engagement(other.engagement_rate, world.overall, "all profiles'")
    values: dict[str, float | None] = {
        "overlap": None if measured is None else score.overlap_fit(measured.ours),
        "complementarity": pair.strength,
        "reputation": rep.score if rep.mentions else None,
        "engagement": None if eng.ratio is None else score.engagement_fit(eng.ratio),
        "reach": None
        if not other.audience_size
        else score.reach_fit(other.audience_size, world.largest),
    }
    reasons = []
    if measured is None:
        reasons.append("overlap not measured yet: offer an overlap session to learn it privately")
    else:
        low, high = score.OVERLAP_BAND
        where = "inside" if low <= measured.ours <= high else "outside"
        reasons.append(
            f"{measured.ours:.0%} of our consenting customers are theirs too "
            f"({measured.intersection:,} shared), {where} the {low:.0%}-{high:.0%} target"
        )
    reasons.append(pair.summary())
    reasons.append(rep.summary())
    reasons.append(eng.summary())
    if other.audience_size:
        reasons.append(f"audience of {other.audience_size:,}")
    pitch = outreach.pitch(
        shared=measured.intersection if measured else None, ours=org.offerings,
        theirs=other.offerings, complement=pair.relation is Relation.COMPLEMENT,
        our_audience=org.audience_size, their_audience=other.audience_size,
    )  # fmt: skip
    facts = {"values": values, "pair": pair, "rep": rep, "eng": eng, "overlap": measured,
             "pitch": tuple(pitch)}  # fmt: skip
    return facts, reasons


def _scorer(
    world: _World, weights: Mapping[str, float] | None
) -> tuple[str, dict[str, float], Any]:
    setup = world.setup
    if weights is not None:
        chosen = score.check_weights(weights)
        return "weights", chosen, lambda v: score.weighted(v, chosen)
    if setup is not None and setup.use_learned and setup.learned:
        model = score.LearnedModel(
            intercept=float(setup.learned["intercept"]),
            coefficients={k: float(v) for k, v in setup.learned["coefficients"].items()},
            means={k: float(v) for k, v in setup.learned["means"].items()},
            trained_on=int(setup.learned["trained_on"]),
            successes=int(setup.learned["successes"]),
        )
        return "learned", model.coefficients, model.score
    chosen = score.check_weights(setup.weights if setup else {})
    return "weights", chosen, lambda v: score.weighted(v, chosen)


def score_candidates(
    db: Database,
    org_id: int,
    *,
    top: int | None = 10,
    weights: Mapping[str, float] | None = None,
    encoder: str = "auto",
    include_partners: bool = True,
) -> Ranking:
    """Candidates for ``org_id``, best first, with everything scored about each; competitors
    are listed last and flagged."""
    if top is not None and top < 1:
        raise InvalidInputError("top must be 1 or more", field="top")
    world = _load(db, org_id, encoder)
    org = world.profiles[org_id]
    method, used, scorer = _scorer(world, weights)
    out = []
    for other in world.profiles.values():
        if other.org_id == org_id:
            continue
        status = world.partnerships.get(other.org_id)
        if status is not None and not include_partners:
            continue
        facts, reasons = _factors(world, org, other)
        if status is not None:
            reasons.append(f"already a partnership with us ({status})")
        out.append(
            Candidate(other, scorer(facts["values"]), facts["pair"], facts["rep"], facts["eng"],
                      facts["overlap"], status, tuple(reasons), facts["pitch"])
        )  # fmt: skip
    out.sort(key=lambda c: (c.competitor, -c.scored.score, c.profile.slug))
    g = _graph(world)
    found = tuple(graphs.bundles(g, around=org.slug)[:5])
    return Ranking(org, tuple(out[:top] if top else out), method, used, world.encoder, found)


def _graph(world: _World) -> Any:
    nodes = {
        p.slug: {"name": p.name, "category": p.category, "audience_size": p.audience_size,
                 "region": p.region or None}
        for p in world.profiles.values()
    }  # fmt: skip
    slugs = {p.org_id: p.slug for p in world.profiles.values()}
    rates = {(slugs[a], slugs[b]): o.ours for (a, b), o in world.overlaps.items()
             if a in slugs and b in slugs}  # fmt: skip
    return graphs.ecosystem(nodes, world.pairs, rates)


def ecosystem_graphml(db: Database, org_id: int, encoder: str = "auto") -> str:
    """The ecosystem graph as GraphML (overlaps only those measured with ``org_id``)."""
    return graphs.graphml(_graph(_load(db, org_id, encoder)))


def outreach_draft(
    db: Database, org_id: int, candidate: str, template: str | None = None, encoder: str = "auto"
) -> str:
    ranking = score_candidates(db, org_id, top=None, encoder=encoder)
    for item in ranking.candidates:
        if item.profile.slug == candidate:
            names = {"our_name": ranking.org.name, "their_name": item.profile.name}
            return outreach.draft(names, list(item.pitch), template)
    raise NotFoundError(f"no candidate {candidate!r} with a profile", candidate=candidate)


def set_weights(
    db: Database, org_id: int, weights: Mapping[str, float], use_learned: bool
) -> ScoringSetup:
    chosen = score.check_weights(weights)
    with db.transaction() as session:
        repo = ProfileRepository(session)
        before = repo.scoring(org_id)
        learned = before.learned if before else None
        if use_learned and not learned:
            raise InvalidInputError(
                "no learned model yet: run partners learn first", field="use_learned"
            )
        setup = ScoringSetup(chosen, learned, use_learned)
        repo.save_scoring(org_id, setup)
    return setup


def learn_weights(db: Database, org_id: int, outcomes: Path, penalty: float = 1.0,
                  encoder: str = "auto") -> score.LearnedModel:  # fmt: skip
    """Fit the logistic model on past partnerships: a file with ``partner`` (slug) and
    ``success`` (true/false); each partner's factors as they are now."""
    source = TabularFile.open(outcomes, ("partner", "success"), ("partner", "success"), 10_000)
    world = _load(db, org_id, encoder)
    by_slug = {p.slug: p for p in world.profiles.values()}
    rows, labels = [], []
    for index in range(source.table.num_rows):
        item = source.row(index)
        where = f"{outcomes.name}, {source.where} {source.position(index)}"
        slug = str(item["partner"]).strip()
        if slug not in by_slug or slug == world.profiles[org_id].slug:
            raise InvalidInputError(f"{where}: {slug!r} is not another organization with a profile")
        label = str(item["success"]).strip().lower()
        if label not in ("true", "false", "1", "0", "yes", "no"):
            raise InvalidInputError(f"{where}: success must be true or false")
        facts, _ = _factors(world, world.profiles[org_id], by_slug[slug])
        rows.append(facts["values"])
        labels.append(label in ("true", "1", "yes"))
    model = score.learn(rows, labels, penalty)
    with db.transaction() as session:
        repo = ProfileRepository(session)
        before = repo.scoring(org_id)
        repo.save_scoring(
            org_id, ScoringSetup(before.weights if before else dict(score.DEFAULT_WEIGHTS),
                                 asdict(model), True),
        )  # fmt: skip
    return model


@dataclass(frozen=True, slots=True)
class OverlapView:
    intersection: int
    rate_ours: float
    rate_theirs: float
    session: str


@dataclass(frozen=True, slots=True)
class CandidateView:
    """A candidate partner: its score, each factor's part of it, and the reasons in words."""

    org: str
    name: str
    category: str
    score: float
    parts: dict[str, float]
    factors: dict[str, float | None]
    missing: list[str]
    relation: str
    competitor: bool
    overlap: OverlapView | None
    sentiment: float | None
    mentions: int
    engagement_rate: float | None
    engagement_above_benchmark: bool
    partnership: str | None
    reasons: list[str]

    @classmethod
    def of(cls, c: Candidate) -> CandidateView:
        o = c.overlap
        return cls(
            c.profile.slug, c.profile.name, c.profile.category, c.scored.score,
            dict(c.scored.parts), dict(c.scored.values), list(c.scored.missing),
            str(c.pair.relation), c.competitor,
            None if o is None else OverlapView(o.intersection, o.ours, o.theirs, o.session),
            c.reputation.mean, c.reputation.mentions, c.engagement.rate, c.engagement.above,
            c.partnership, list(c.reasons),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class BundleView:
    members: list[str]
    strength: float


@dataclass(frozen=True, slots=True)
class RankingView:
    """Candidate partners for ``org``, best first (competitors last), and bundles."""

    org: str
    method: str
    weights: dict[str, float]
    encoder: str
    candidates: list[CandidateView]
    bundles: list[BundleView]


def rank(
    db: Database,
    org_id: int,
    *,
    top: int | None = 10,
    weights: Mapping[str, float] | None = None,
    encoder: str = "auto",
    include_partners: bool = True,
) -> RankingView:
    """Candidates for ``org_id``, best first, as the API and the CLI show them."""
    r = score_candidates(
        db, org_id, top=top, weights=weights, encoder=encoder, include_partners=include_partners
    )
    return RankingView(
        r.org.slug, r.method, dict(r.weights), r.encoder,
        [CandidateView.of(c) for c in r.candidates],
        [BundleView(list(b.members), b.strength) for b in r.bundles],
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Outreach:
    candidate: str
    text: str


def outreach_for(db: Database, org_id: int, candidate: str, encoder: str = "auto") -> Outreach:
    """A drafted introduction to ``candidate`` citing the evidence, with the default text."""
    return Outreach(candidate, outreach_draft(db, org_id, candidate, encoder=encoder))

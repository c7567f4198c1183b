"""The sample's discovery data: a profile and public mentions for every organization, every
organization sharing overlap counts, and the demo brand's overlap with each other organization
measured by the exact protocol over the customers who consent to partner sharing."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from crosspromo.analytics.overlap import Audience, normalize, run_exact
from crosspromo.domain.overlap import SessionStatus, SharingLevel
from crosspromo.sample.catalog import MENTIONS, PROFILES, SEGMENTS
from crosspromo.sample.ecosystem import Ecosystem
from crosspromo.services.discover.profiles import ProfileInput, mention_key
from crosspromo.services.discover.sessions import record_of
from crosspromo.store.repositories import OverlapRepository, ProfileRepository, utcnow


def consented(ecosystem: Ecosystem, slug: str) -> Audience:
    """An organization's consenting customers as it would present them (normalized)."""
    audience = ecosystem.audiences[slug]
    keep = audience.partner_sharing
    ids = [e for e, k in zip(audience.external_ids(), keep, strict=True) if k]
    found = normalize(ids)
    segments = [SEGMENTS[int(s)] for s in audience.segments[keep]]
    return Audience(found.values.to_pylist(), [segments[r] for r in found.rows.to_pylist()])


def write_discovery(
    session: Session, ecosystem: Ecosystem, ids: dict[str, int], brand: str | None
) -> dict[str, Any]:
    """Write profiles, mentions, sharing levels and ``brand``'s measured overlaps; returns
    the truth of those overlaps (consented intersections)."""
    profiles = ProfileRepository(session)
    overlap = OverlapRepository(session)
    orgs = {o.slug: o for o in ecosystem.organizations}
    for slug, (description, offerings, region, followers, engagements) in PROFILES.items():
        given = ProfileInput(
            description, (orgs[slug].category,), offerings,
            len(ecosystem.audiences[slug].people), followers, engagements, region,
        )  # fmt: skip
        profiles.save(ids[slug], given.values())
        rows = [
            {"org_id": ids[slug], "mention_key": mention_key(text, "sample", None),
             "text": text, "source": "sample", "posted_at": None}
            for text in MENTIONS.get(slug, ())
        ]  # fmt: skip
        profiles.add_mentions(rows)
        overlap.set_level(ids[slug], SharingLevel.COUNTS)
    measured: dict[str, int] = {}
    if brand is None:
        return measured
    ours = consented(ecosystem, brand)
    now = utcnow()
    for slug in sorted(ecosystem.audiences):
        if slug == brand:
            continue
        theirs = consented(ecosystem, slug)
        result = run_exact(ours, theirs)
        counts = [[label, len(rows)] for label, rows in theirs.groups().items()]
        overlap.add(
            {
                "id": secrets.token_hex(16), "org_id": ids[slug], "partner_org_id": ids[brand],
                "disclosure": "counts", "groups": counts, "points": b"",
                "status": str(SessionStatus.DONE), "max_bytes": 0,
                "result": record_of(result, brand), "created_at": now,
                "expires_at": now + timedelta(hours=24), "finished_at": now,
            }
        )  # fmt: skip
        measured[slug] = result.intersection
    return measured

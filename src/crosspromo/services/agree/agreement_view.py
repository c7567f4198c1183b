"""An agreement as one party sees it: every terms version with what changed from the one
before and where it stands, the record's entries in words, and whether the record verifies,
checked by the same verifier anyone runs on the exported bundle."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field

from crosspromo.domain import PartnershipStatus
from crosspromo.domain.agreement import in_words
from crosspromo.domain.money import money_text
from crosspromo.domain.record import Entry, Verdict, verify
from crosspromo.services.agree.records import Loaded, export, load
from crosspromo.services.agree.terms import Terms, diff, parse_terms, template
from crosspromo.store.database import Database
from crosspromo.store.repositories import SigningKeyRepository


@dataclass(frozen=True, slots=True)
class VersionView:
    version: int
    by: Annotated[str, Field(description="the organization that offered it")]
    at: str
    standing: Annotated[str, Field(description="in force, waiting for ..., declined, replaced")]
    summary: list[str]
    changes: Annotated[list[str], Field(description="field by field, from the version before")]
    terms: dict[str, Any]


@dataclass(frozen=True, slots=True)
class EntryView:
    index: int
    kind: str
    by: str
    at: str
    what: Annotated[str, Field(description="the entry in words")]
    hash: str


@dataclass(frozen=True, slots=True)
class AgreementView:
    partnership_id: int
    status: PartnershipStatus
    in_force: int | None
    pending: int | None
    answer_due: Annotated[bool, Field(description="whether the caller has a version to answer")]
    signs_itself: Annotated[bool, Field(description="the caller keeps its key off the server")]
    versions: list[VersionView]  # newest first
    entries: list[EntryView]
    verdict: Verdict | None  # None before any entry
    draft: Annotated[str, Field(description="terms to start an offer from (JSON)")]


def agreement_view(db: Database, org_id: int, partnership_id: int) -> AgreementView:
    with db.reading() as session:
        loaded = load(session, org_id, partnership_id)
        data = export(session, loaded) if loaded.entries else None
        key = SigningKeyRepository(session).current(org_id)
    state = loaded.state
    names = {loaded.me.slug: loaded.me.name, loaded.other.slug: loaded.other.name}
    declined = {e.body.get("version") for e in loaded.entries if e.kind == "decline"}
    versions: list[VersionView] = []
    before: Terms | None = None
    offered_at = {e.body.get("version"): e.at for e in loaded.entries if "terms" in e.body}
    for offer in state.offers:
        terms = parse_terms(offer.terms)
        waiting = [names[p] for p in state.parties if p not in state.accepted[offer.version]]
        standing = ("in force" if offer.version == state.in_force
                    else f"waiting for {', '.join(waiting)}" if offer.version == state.pending
                    else "declined" if offer.version in declined else "replaced")  # fmt: skip
        changes: list[str] = [] if before is None else diff(before, terms)
        versions.append(VersionView(offer.version, names[offer.by], offered_at[offer.version],
                                    standing, describe(terms), changes, offer.terms))  # fmt: skip
        before = terms
    latest = state.latest
    draft = latest.terms if latest else _template_for(loaded)
    return AgreementView(
        loaded.partnership.id, loaded.partnership.status, state.in_force, state.pending,
        state.awaiting(loaded.me.slug), key is not None and key.private_key is None,
        versions[::-1], [_entry(e, names) for e in loaded.entries],
        None if data is None else verify(data), json.dumps(draft, indent=2, ensure_ascii=False),
    )  # fmt: skip


def _template_for(loaded: Loaded) -> dict[str, Any]:
    brand, partner = loaded.me.slug, loaded.other.slug
    if loaded.partnership.initiator_org_id != loaded.me.id:
        brand, partner = partner, brand
    return template(brand, partner).document()


def _entry(entry: Entry, names: dict[str, str]) -> EntryView:
    return EntryView(entry.index, entry.kind, names.get(entry.signer, entry.signer), entry.at,
                     in_words(entry), entry.hash)  # fmt: skip


def describe(terms: Terms) -> list[str]:
    """The terms in a few lines of words."""
    c = terms.commission
    lines = [f"{terms.strategy.value.replace('_', ' ')}, from {terms.start}"
             + (f" to {terms.end}" if terms.end else ", open-ended")
             + (f", renewing {terms.renewal}" if terms.renewal != "none" else "")]  # fmt: skip
    for rule in c.rules:
        if rule.kind == "percent":
            paid = f"{Decimal(rule.rate_bp or 0) / 100}% of each {rule.applies_to}"
        elif rule.kind == "flat":
            paid = f"{_money(rule.flat_minor or 0, c.currency)} per {rule.applies_to}"
        else:
            paid = f"tiered by {rule.applies_to}s a {rule.cap_period} ({len(rule.tiers)} tiers)"
        if rule.recurring_months:
            paid += f", recurring for {rule.recurring_months} months"
        if rule.cap_minor is not None:
            paid += f", capped at {_money(rule.cap_minor, c.currency)} a {rule.cap_period}"
        lines.append(paid)
    lines.append(f"held {c.holding_days} days; refunds clawed back within {c.clawback_days} "
                 f"days; rounded {c.rounding.value.replace('_', ' ')}")  # fmt: skip
    d = terms.data_sharing
    lines.append(f"data: overlap at the {d.overlap_level.value} level for "
                 f"{', '.join(p.replace('_', ' ') for p in d.purposes) or 'no purpose'}; "
                 f"kept {d.retention_days} days")  # fmt: skip
    t = terms.termination
    lines.append(f"{t.notice_days} days' notice; surviving the end: "
                 f"{', '.join(s.replace('_', ' ') for s in t.survives) or 'nothing'}")  # fmt: skip
    return lines


def _money(minor: int, currency: str) -> str:
    return money_text(minor, currency)

"""Agreements between two organizations: one proposes terms, the other accepts, counters or
declines; terms in force are amended the same way; either side pauses, resumes or ends. Each
step is a signed entry of the partnership's record (``records``), and only a version both
parties accepted makes a partnership active.

An organization that keeps its signing key off the server takes the same steps in two halves:
``draft_entry`` gives the entry to sign, ``submit_entry`` adds it once signed
(``crosspromo agreements sign`` does both around a local signature).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from crosspromo.config import Settings
from crosspromo.domain import PartnershipStatus
from crosspromo.domain.agreement import terms_hash
from crosspromo.domain.record import Entry, RecordFault, parse_entry
from crosspromo.errors import ConflictError, InvalidInputError
from crosspromo.services.agree.history import record_step
from crosspromo.services.agree.records import (
    AgreementStep,
    Loaded,
    append,
    draft,
    export,
    load,
    submit,
)
from crosspromo.services.agree.terms import Terms
from crosspromo.store.database import Database
from crosspromo.store.repositories import OrganizationRepository, PartnershipRepository

MOVES = ("pause", "resume", "end")


def propose(
    db: Database, org_id: int, partner_slug: str, terms: Terms, *, name: str | None = None,
    actor: str | None = None, at: datetime | None = None,
) -> AgreementStep:  # fmt: skip
    """Propose ``terms`` to ``partner_slug``: on the open partnership between the two when
    there is one without a record yet, else on a new one (named ``name``, or after both)."""
    with db.transaction() as session:
        return propose_in(session, db.settings, org_id, partner_slug, terms, name=name,
                          actor=actor, at=at)  # fmt: skip


def propose_in(
    session: Session, settings: Settings, org_id: int, partner_slug: str, terms: Terms, *,
    name: str | None = None, actor: str | None = None, at: datetime | None = None,
) -> AgreementStep:  # fmt: skip
    """``propose`` inside the caller's transaction."""
    orgs = OrganizationRepository(session)
    me, partner = orgs.get(org_id), orgs.by_slug(partner_slug)
    if partner.id == org_id:
        raise InvalidInputError("an organization cannot partner with itself", field="partner")
    repo = PartnershipRepository(session)
    found = repo.open_between(org_id, partner.id)
    if found is None:
        title = (name or f"{me.name} and {partner.name}").strip()[:200]
        found = repo.add(org_id, partner.id, title, PartnershipStatus.PROSPECT)
        record_step(session, org_id, found.id, None, found.status, found.created_at,
                    actor=actor)  # fmt: skip
    loaded = load(session, org_id, found.id)
    if loaded.entries:
        raise ConflictError(f"terms with {partner_slug!r} are already proposed (partnership "
                            f"{found.id}): counter or amend them")  # fmt: skip
    return append(session, settings, loaded, "proposal", terms_body(loaded, terms), at=at,
                  actor=actor)  # fmt: skip


def offer(
    db: Database, org_id: int, partnership_id: int, terms: Terms, *, actor: str | None = None
) -> AgreementStep:
    """New terms: the proposal of a partnership without a record yet, a counter while
    negotiating, an amendment once terms are in force (they stay in force until the other
    party accepts the amendment)."""
    with db.transaction() as session:
        loaded = load(session, org_id, partnership_id)
        kind = ("proposal" if not loaded.entries
                else "counter" if loaded.state.in_force is None else "amendment")  # fmt: skip
        body = terms_body(loaded, terms)
        return append(session, db.settings, loaded, kind, body, actor=actor)


def accept(
    db: Database, org_id: int, partnership_id: int, version: int, *, actor: str | None = None,
    at: datetime | None = None,
) -> AgreementStep:  # fmt: skip
    """Accept ``version``, the newest offer by the other party; once both accepted it, it is
    in force (and the partnership active)."""
    with db.transaction() as session:
        loaded = load(session, org_id, partnership_id)
        body = acceptance_body(loaded, version)
        return append(session, db.settings, loaded, "acceptance", body, at=at, actor=actor)


def decline(
    db: Database, org_id: int, partnership_id: int, version: int, reason: str = "", *,
    actor: str | None = None,
) -> AgreementStep:  # fmt: skip
    """Decline the other party's newest offer: a proposal or counter declined ends the
    negotiation; an amendment declined leaves the terms in force as they were."""
    with db.transaction() as session:
        loaded = load(session, org_id, partnership_id)
        body = {"version": version, **_reason(reason)}
        return append(session, db.settings, loaded, "decline", body, actor=actor)


def move(
    db: Database, org_id: int, partnership_id: int, kind: str, reason: str = "", *,
    actor: str | None = None, at: datetime | None = None,
) -> AgreementStep:  # fmt: skip
    """Pause, resume or end the partnership; ending states when it takes effect (after the
    notice the terms in force give) and which terms survive it."""
    with db.transaction() as session:
        loaded = load(session, org_id, partnership_id)
        return append(session, db.settings, loaded, kind, move_body(loaded, kind, reason, at),
                      at=at, actor=actor)  # fmt: skip


def move_body(loaded: Loaded, kind: str, reason: str, at: datetime | None = None) -> dict[str, Any]:
    if kind not in MOVES:
        raise InvalidInputError(f"a step is one of: {', '.join(MOVES)}", field="kind")
    body: dict[str, Any] = _reason(reason)
    terms = loaded.state.terms_in_force()
    if kind == "end" and terms is not None:
        notice = int(terms["termination"]["notice_days"])
        today = (at or datetime.now(UTC)).astimezone(UTC).date()
        body |= {"effective_on": (today + timedelta(days=notice)).isoformat(),
                 "survives": list(terms["termination"]["survives"])}  # fmt: skip
    return body


def acceptance_body(loaded: Loaded, version: int) -> dict[str, Any]:
    if not 1 <= version <= len(loaded.state.offers):
        raise InvalidInputError(f"there is no version {version}", field="version")
    return {"version": version, "terms_hash": terms_hash(loaded.state.offer(version).terms)}


def terms_body(loaded: Loaded, terms: Terms) -> dict[str, Any]:
    """An offer's body: the next version and its terms."""
    return {"version": len(loaded.state.offers) + 1, "terms": terms.document()}


def _reason(reason: str) -> dict[str, Any]:
    reason = reason.strip()
    if len(reason) > 500:
        raise InvalidInputError("a reason is at most 500 characters", field="reason")
    return {"reason": reason} if reason else {}


def draft_entry(
    db: Database, org_id: int, partnership_id: int, kind: str, *, version: int | None = None,
    terms: Terms | None = None, reason: str = "",
) -> Entry:  # fmt: skip
    """The entry the organization would add next, unsigned, for it to sign where it keeps
    its key."""
    with db.transaction() as session:
        loaded = load(session, org_id, partnership_id)
        if kind in ("proposal", "counter", "amendment"):
            if terms is None:
                raise InvalidInputError(f"a {kind} needs terms", field="terms")
            body = terms_body(loaded, terms)
        elif kind in ("acceptance", "decline"):
            if version is None:
                raise InvalidInputError(f"an {kind} names a version", field="version")
            body = (acceptance_body(loaded, version) if kind == "acceptance"
                    else {"version": version, **_reason(reason)})  # fmt: skip
        else:
            body = move_body(loaded, kind, reason)
        return draft(session, db.settings, loaded, kind, body)


def submit_entry(
    db: Database, org_id: int, partnership_id: int, entry: Entry, *, actor: str | None = None
) -> AgreementStep:
    """Add an entry the organization signed itself."""
    with db.transaction() as session:
        return submit(session, load(session, org_id, partnership_id), entry, actor=actor)


def export_bundle(db: Database, org_id: int, partnership_id: int) -> bytes:
    """The partnership's record as a bundle anyone can verify (``domain.record.verify``)."""
    with db.reading() as session:
        return export(session, load(session, org_id, partnership_id))


def entry_from(document: Any) -> Entry:
    """An entry from its JSON document (as ``draft_entry`` gives it, signed)."""
    try:
        return parse_entry(document)
    except RecordFault as fault:
        raise InvalidInputError(f"entry: {fault}", field="entry") from None

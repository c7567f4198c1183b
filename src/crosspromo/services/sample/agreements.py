"""The sample's partnerships on signed records, as they would have come about: the initiator
proposes terms when the partnership starts, the partner accepts, and a paused or ended one is
paused or ended by the initiator when its status last changed (the steps between spread evenly).
A prospect has no terms yet."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from crosspromo.config import Settings
from crosspromo.domain import Partnership, PartnershipStatus
from crosspromo.domain.strategies import Strategy
from crosspromo.services.agree.agreements import acceptance_body, move_body, terms_body
from crosspromo.services.agree.history import record_step
from crosspromo.services.agree.records import append, load
from crosspromo.services.agree.terms import parse_terms, template

_AFTER_ACCEPTANCE = {PartnershipStatus.PAUSED: "pause", PartnershipStatus.ENDED: "end"}


def write_agreement(
    session: Session, settings: Settings, item: Partnership, status: PartnershipStatus,
    started: datetime, changed: datetime,
) -> None:  # fmt: skip
    """Bring ``item`` (stored as a prospect at ``started``) to ``status`` at ``changed``."""
    record_step(session, item.initiator_org_id, item.id, None, item.status, started,
                reason="sample data")  # fmt: skip
    if status is PartnershipStatus.PROSPECT:
        return
    steps = 1 if status is PartnershipStatus.NEGOTIATING else 2 + (status in _AFTER_ACCEPTANCE)
    gap = (changed - started) / steps
    first = load(session, item.initiator_org_id, item.id)
    terms = parse_terms(template(first.me.slug, first.other.slug).document() | {
        "strategy": _strategy(item.name), "start": started.date().isoformat(), "end": None,
        "renewal": "none",
    })  # fmt: skip
    append(session, settings, first, "proposal", terms_body(first, terms), at=started + gap)
    if steps == 1:
        return
    answer = load(session, item.partner_org_id, item.id)
    append(session, settings, answer, "acceptance", acceptance_body(answer, 1),
           at=started + 2 * gap if steps == 3 else changed)  # fmt: skip
    if status in _AFTER_ACCEPTANCE:
        kind = _AFTER_ACCEPTANCE[status]
        last = load(session, item.initiator_org_id, item.id)
        body = move_body(last, kind, "sample data", changed)
        if kind == "end":  # the sample's end took effect when its status last changed
            body["effective_on"] = changed.date().isoformat()
        append(session, settings, last, kind, body, at=changed)


def _strategy(name: str) -> Strategy:
    lowered = name.lower()
    for word, strategy in (("bundle", Strategy.BUNDLE), ("referral", Strategy.REFERRAL),
                           ("swap", Strategy.EMAIL_SWAP), ("event", Strategy.EVENT),
                           ("webinar", Strategy.EVENT), ("box", Strategy.BUNDLE)):  # fmt: skip
        if word in lowered:
            return strategy
    return Strategy.CONTENT

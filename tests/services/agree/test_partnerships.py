from __future__ import annotations

import pytest

from crosspromo.domain import OrgKind, PartnershipStatus
from crosspromo.errors import (
    ConflictError,
    InvalidInputError,
    InvalidTransitionError,
    NotFoundError,
)
from crosspromo.services.accounts.organizations import create_organization
from crosspromo.services.agree.partnerships import (
    change_status,
    get_partnership,
    list_partnerships,
    parse_status,
    propose_partnership,
)
from crosspromo.store.database import Database
from crosspromo.store.repositories import EventRepository


def test_lifecycle_with_events(db: Database) -> None:
    a = create_organization(db, "alpha", "Alpha", OrgKind.BRAND)
    b = create_organization(db, "beta", "Beta", OrgKind.PARTNER)
    c = create_organization(db, "gamma", "Gamma", OrgKind.PARTNER)
    view = propose_partnership(db, a.id, "beta", "Alpha x Beta")
    assert view.status is PartnershipStatus.PROSPECT
    assert view.partner.slug == "beta"
    assert view.role == "initiator"
    with pytest.raises(ConflictError, match="already open"):
        propose_partnership(db, b.id, "alpha", "again")
    pid = view.id
    change_status(db, b.id, pid, PartnershipStatus.NEGOTIATING)
    with pytest.raises(ConflictError, match="both parties accept the same terms"):
        change_status(db, a.id, pid, PartnershipStatus.ACTIVE)  # nobody makes it active alone
    with pytest.raises(InvalidTransitionError):
        change_status(db, a.id, pid, PartnershipStatus.PAUSED)
    with pytest.raises(NotFoundError):
        change_status(db, c.id, pid, PartnershipStatus.ENDED)
    assert get_partnership(db, b.id, pid).role == "partner"
    assert list_partnerships(db, c.id) == []
    with db.transaction() as s:
        moves = [e.payload["to"] for e in reversed(EventRepository(s).list(a.id))]
    assert moves == ["prospect"]
    ended = change_status(db, a.id, pid, PartnershipStatus.ENDED)
    assert ended.status is PartnershipStatus.ENDED
    assert propose_partnership(db, b.id, "alpha", "second round").role == "initiator"


def test_bad_input_is_named(db: Database) -> None:
    a = create_organization(db, "alpha", "Alpha", OrgKind.BRAND)
    with pytest.raises(InvalidInputError, match="itself"):
        propose_partnership(db, a.id, "alpha", "me")
    with pytest.raises(NotFoundError, match="'nobody'"):
        propose_partnership(db, a.id, "nobody", "x")
    with pytest.raises(InvalidInputError, match="status 'open'"):
        parse_status("open")
    with pytest.raises(InvalidInputError, match="kind"):
        create_organization(db, "delta", "Delta", "shop")

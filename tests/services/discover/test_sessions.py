"""Overlap sessions on SQLite and PostgreSQL: opt-in levels, consent from the store, one use
per session, revocation, expiry, records only with an active partnership, and the remote
protocol's messages refused when replayed or altered."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from crosspromo.analytics.overlap import Audience, Requester
from crosspromo.analytics.overlap.blinding import Blinder
from crosspromo.domain import ConsentPurpose, OrgKind
from crosspromo.domain.overlap import SessionStatus
from crosspromo.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ProtocolMessageError,
)
from crosspromo.services.accounts.customers import record_customer
from crosspromo.services.accounts.organizations import create_organization
from crosspromo.services.agree import agreements
from crosspromo.services.agree.terms import parse_terms, template
from crosspromo.services.discover import remote, sessions
from crosspromo.services.discover.lists import ListOptions
from crosspromo.store import tables as t
from crosspromo.store.database import Database
from crosspromo.store.repositories import OverlapRepository
from tests.conftest import agreed

SHARE = frozenset({ConsentPurpose.PARTNER_SHARING})
OPTIONS = ListOptions(skip_invalid=True)


def email(i: int) -> str:
    return f"user{i}@example.com"


@pytest.fixture
def two(db: Database, tmp_path: Path) -> dict[str, object]:
    alpha = create_organization(db, "alpha", "Alpha", OrgKind.BRAND).id
    beta = create_organization(db, "beta", "Beta", OrgKind.PARTNER).id
    gamma = create_organization(db, "gamma", "Gamma", OrgKind.PARTNER).id
    for i in range(30):  # alpha: even customers consent; segments by tens
        consents = SHARE if i % 2 == 0 else frozenset()
        record_customer(db, alpha, email(i), consents, "gold" if i < 25 else "silver")
    for i in range(20, 50):  # beta: all but user21 consent
        record_customer(db, beta, email(i), frozenset() if i == 21 else SHARE, "new")
    a_file = tmp_path / "alpha.csv"  # as exported: case, spaces, a non-customer, a bad row
    a_file.write_text(
        "email\n" + "".join(f" {email(i).upper()} \n" for i in range(30)) + "x@y.com\nbad\n"
    )
    b_file = tmp_path / "beta.csv"
    b_file.write_text("email\n" + "".join(f"{email(i)}\n" for i in range(20, 50)))
    return {"alpha": alpha, "beta": beta, "gamma": gamma, "a": a_file, "b": b_file}


def test_two_tenants_learn_only_the_consented_overlap(db: Database, two: dict) -> None:
    alpha, beta, gamma = two["alpha"], two["beta"], two["gamma"]
    with pytest.raises(PermissionDeniedError, match="shares 'hidden'"):
        sessions.open_offer(db, beta, two["b"], OPTIONS, partner="alpha")
    sessions.set_sharing(db, beta, "counts")
    offer = sessions.open_offer(db, beta, two["b"], OPTIONS, partner="alpha", segments=True)
    assert (offer.presented.rows, offer.session.size, offer.presented.not_sharing) == (30, 29, 1)
    with pytest.raises(NotFoundError):  # made to alpha: nobody else sees it
        sessions.join_offer(db, gamma, offer.session.id, two["a"], OPTIONS)
    with pytest.raises(PermissionDeniedError, match="your organization shares 'hidden'"):
        sessions.join_offer(db, alpha, offer.session.id, two["a"], OPTIONS)
    sessions.set_sharing(db, alpha, "counts")
    result, shared = sessions.join_offer(db, alpha, offer.session.id, two["a"], OPTIONS, True)
    # both consent: even ids of alpha (0..28) that beta holds with consent (20..49 but 21)
    assert (result.size_a, result.size_b, result.intersection) == (15, 29, 5)
    assert shared is None
    by_pair = {(s.a_segment, s.b_segment): s.intersection for s in result.segments}
    assert by_pair == {("gold", "new"): 3, ("silver", "new"): 2}  # 20, 22, 24 | 26, 28
    stored = sessions.session_for(db, beta, offer.session.id)
    assert stored.status is SessionStatus.DONE
    assert stored.result["intersection"] == 5
    assert sessions.session_for(db, alpha, offer.session.id).result == stored.result
    with db.transaction() as tx:
        assert OverlapRepository(tx).points(offer.session.id) == b""  # nothing blinded kept
    with pytest.raises(ProtocolMessageError, match="already answered"):
        sessions.join_offer(db, alpha, offer.session.id, two["a"], OPTIONS)
    assert [s.id for s in sessions.list_sessions(db, gamma)] == []


def test_records_need_signed_terms_that_allow_them_and_both_at_records(
    db: Database, two: dict
) -> None:
    """Acceptance 4: the records disclosure is refused without an active partnership, then
    under signed terms that share only counts, then under terms sharing records for another
    purpose, and while an amendment allowing it is unsigned; allowed once both signed it."""
    alpha, beta = two["alpha"], two["beta"]
    sessions.set_sharing(db, beta, "records")
    sessions.set_sharing(db, alpha, "records")
    with pytest.raises(PermissionDeniedError, match="active partnership"):
        sessions.open_offer(db, beta, two["b"], OPTIONS, partner="alpha", disclosure="records")
    sharing = template("alpha", "beta").data_sharing.model_dump(mode="json")
    made = agreed(db, alpha, "beta")  # signed terms at the counts level (the template's)
    with pytest.raises(PermissionDeniedError, match="at the 'counts' level"):
        sessions.open_offer(db, beta, two["b"], OPTIONS, partner="alpha", disclosure="records")
    records = template("alpha", "beta").document() | {
        "data_sharing": sharing | {"overlap_level": "records", "purposes": ["attribution"]}
    }
    agreements.offer(db, beta, made, parse_terms(records))  # records, but not to measure overlap
    agreements.accept(db, alpha, made, 2)
    with pytest.raises(PermissionDeniedError, match="for attribution"):
        sessions.open_offer(db, beta, two["b"], OPTIONS, partner="alpha", disclosure="records")
    records["data_sharing"]["purposes"] = ["overlap_measurement"]
    agreements.offer(db, alpha, made, parse_terms(records))
    pending = sessions.open_offer  # an amendment both have not signed yet allows nothing
    with pytest.raises(PermissionDeniedError, match="for attribution"):
        pending(db, beta, two["b"], OPTIONS, partner="alpha", disclosure="records")
    agreements.accept(db, beta, made, 3)  # acceptance 4: signed terms allowing records
    offer = sessions.open_offer(db, beta, two["b"], OPTIONS, partner="alpha", disclosure="records")
    result, shared = sessions.join_offer(db, alpha, offer.session.id, two["a"], OPTIONS)
    assert result.intersection == 5
    assert shared == [email(i) for i in (20, 22, 24, 26, 28)]
    sessions.set_sharing(db, alpha, "counts")  # alpha steps down: records are refused now
    again = sessions.open_offer(db, beta, two["b"], OPTIONS, partner="alpha", disclosure="records")
    with pytest.raises(PermissionDeniedError, match="needs records"):
        sessions.join_offer(db, alpha, again.session.id, two["a"], OPTIONS)


def test_revoked_and_expired_sessions_are_refused(db: Database, two: dict) -> None:
    alpha, beta = two["alpha"], two["beta"]
    sessions.set_sharing(db, alpha, "counts")
    sessions.set_sharing(db, beta, "counts")
    first = sessions.open_offer(db, beta, two["b"], OPTIONS, partner="alpha")
    sessions.set_sharing(db, beta, "hidden")  # opting out revokes what is open
    with pytest.raises(ConflictError, match="revoked"):
        sessions.join_offer(db, alpha, first.session.id, two["a"], OPTIONS)
    sessions.set_sharing(db, beta, "counts")
    second = sessions.open_offer(db, beta, two["b"], OPTIONS, partner="alpha")
    with db.transaction() as tx:
        tx.execute(
            update(t.overlap_sessions)
            .where(t.overlap_sessions.c.id == second.session.id)
            .values(expires_at=second.session.created_at - timedelta(seconds=1))
        )
    with pytest.raises(ConflictError, match="expired"):
        sessions.join_offer(db, alpha, second.session.id, two["a"], OPTIONS)
    third = sessions.open_offer(db, beta, two["b"], OPTIONS, partner="alpha")
    sessions.revoke(db, alpha, third.session.id)
    with pytest.raises(ConflictError, match="already revoked"):
        sessions.revoke(db, beta, third.session.id)


def test_remote_messages_are_answered_once_and_only_when_sealed(db: Database, two: dict) -> None:
    beta = two["beta"]
    sessions.set_sharing(db, beta, "counts")
    offer = sessions.open_offer(db, beta, two["b"], OPTIONS, partner=None)
    key = sessions.decode_token(offer.token)
    elsewhere = Audience([email(i) for i in range(40, 60)])  # another server's list
    requester = Requester(offer.session.id, key, elsewhere, Blinder(workers=1))
    request = requester.request()
    forged = Requester(offer.session.id, secrets.token_bytes(32), elsewhere, Blinder(workers=1))
    with pytest.raises(ProtocolMessageError, match="does not verify"):
        remote.answer_request(db, offer.session.id, forged.request())
    assert sessions.session_for(db, beta, offer.session.id).status is SessionStatus.OPEN
    response = remote.answer_request(db, offer.session.id, request)
    with pytest.raises(ProtocolMessageError, match="already answered"):
        remote.answer_request(db, offer.session.id, request)  # replayed
    result = requester.finish(response)
    assert result.intersection == 10
    final = requester.result_message()
    tampered = bytearray(final)
    tampered[-1] ^= 1
    with pytest.raises(ProtocolMessageError, match="does not verify"):
        remote.accept_result(db, offer.session.id, bytes(tampered))
    assert remote.accept_result(db, offer.session.id, final).intersection == 10
    with pytest.raises(ProtocolMessageError):
        remote.accept_result(db, offer.session.id, final)  # replayed
    stored = sessions.session_for(db, beta, offer.session.id)
    assert stored.result["requester"] == "remote"
    assert stored.result["intersection"] == 10
    local = sessions.open_offer(db, beta, two["b"], OPTIONS, partner="alpha")
    with pytest.raises(NotFoundError):  # a tenant's offer is not answerable remotely
        remote.answer_request(db, local.session.id, request)

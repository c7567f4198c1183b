"""Several conversion requests recorded in one transaction (as the API's writer groups them):
each keeps what it would get alone: its own failure, its own replay, its own tenant."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select, update

from crosspromo.domain import OrgKind
from crosspromo.domain.conversions import CodeKind, ConversionKind
from crosspromo.errors import AuthenticationError, ConflictError, InvalidInputError
from crosspromo.services.accounts.keys import KeyProof, create_api_key, revoke_api_key
from crosspromo.services.accounts.organizations import create_organization
from crosspromo.services.track.conversions import (
    ConversionInput,
    ConversionRequest,
    Recorded,
    create_code,
    record_requests,
    set_code_active,
)
from crosspromo.services.track.reference import Reference
from crosspromo.store import tables as t
from crosspromo.store.database import Database
from tests.conftest import agreed

WHEN = datetime(2026, 3, 1, tzinfo=UTC)


def sale(order: str, amount: int = 1000, **more: str) -> ConversionInput:
    return ConversionInput(ConversionKind.SALE, WHEN, amount, "EUR", order_id=order, **more)


def refund(order: str, amount: int) -> ConversionInput:
    return ConversionInput(ConversionKind.REFUND, WHEN, amount, "EUR", order_id=order)


def stored(db: Database) -> list[tuple[int, str, str | None, int | None]]:
    c = t.conversions.c
    with db.transaction() as s:
        rows = s.execute(select(c.org_id, c.kind, c.order_id, c.partner_org_id).order_by(c.id))
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_a_group_answers_each_request_as_alone(db: Database) -> None:
    shop = create_organization(db, "shop", "Shop", OrgKind.BRAND)
    other = create_organization(db, "other", "Other", OrgKind.BRAND)
    friend = create_organization(db, "friend", "Friend", OrgKind.PARTNER)
    agreed(db, shop.id, "friend")
    create_code(db, shop.id, "friend", "FRIEND10", CodeKind.REFERRAL)
    shop_key = KeyProof.of(create_api_key(db, "shop").key)
    other_key = KeyProof.of(create_api_key(db, "other").key)
    revoked = create_api_key(db, "other", "old")
    revoke_api_key(db, "other", revoked.prefix)

    requests = [
        ConversionRequest(
            [sale("a", referral_code="FRIEND10")],
            key=shop_key,
            idempotency_key="k1",
            fingerprint="f1",
        ),
        ConversionRequest([sale("b", referral_code="NOPE")], key=shop_key),  # fails alone
        ConversionRequest([sale("a")], key=other_key, idempotency_key="k1", fingerprint="f9"),
        ConversionRequest([sale("c")], key=KeyProof.of(revoked.key)),
        ConversionRequest([sale("a")], key=shop_key, idempotency_key="k1", fingerprint="f1"),
        ConversionRequest([sale("z")], key=shop_key, idempotency_key="k1", fingerprint="f2"),
        # the refund follows its sale of the same group; a second refund would pass the sale
        ConversionRequest([refund("a", 600)], org_id=shop.id),
        ConversionRequest([refund("a", 600)], org_id=shop.id),
        # the refused request's sale is not there to refund
        ConversionRequest([sale("d"), sale("e", -1)], org_id=shop.id),
        ConversionRequest([refund("d", 1)], org_id=shop.id),
        ConversionRequest([], org_id=shop.id),
    ]
    outcomes = record_requests(db, requests)

    first, *_rest = outcomes
    assert isinstance(first, Recorded)
    assert not first.replayed
    assert [(c.order_id, c.partner) for c in first.conversions] == [("a", "friend")]
    assert isinstance(outcomes[1], InvalidInputError)
    assert "unknown referral code 'NOPE'" in str(outcomes[1])
    other_sale = outcomes[2]  # the same key under another organization is another key
    assert isinstance(other_sale, Recorded)
    assert not other_sale.replayed
    assert isinstance(outcomes[3], AuthenticationError)
    twin = outcomes[4]  # the same key and body in the same group: the first's answer
    assert isinstance(twin, Recorded)
    assert twin.replayed
    assert twin.conversions == first.conversions
    assert isinstance(outcomes[5], ConflictError)
    assert isinstance(outcomes[6], Recorded)
    assert outcomes[6].conversions[0].partner == "friend"
    assert isinstance(outcomes[7], InvalidInputError)
    assert "exceeds what is left of the sale (400)" in str(outcomes[7])
    assert isinstance(outcomes[8], InvalidInputError)
    assert "row 1" in str(outcomes[8])
    assert isinstance(outcomes[9], InvalidInputError)
    assert "no sale with order_id 'd'" in str(outcomes[9])
    assert isinstance(outcomes[10], InvalidInputError)
    assert stored(db) == [
        (shop.id, "sale", "a", friend.id),
        (other.id, "sale", "a", None),
        (shop.id, "refund", "a", friend.id),
    ]

    again = record_requests(db, [requests[0], requests[2], requests[5]])
    assert [o.replayed for o in again if isinstance(o, Recorded)] == [True, True]
    assert again[0] == Recorded(first.conversions, replayed=True)
    assert isinstance(again[2], ConflictError)
    assert len(stored(db)) == 3
    with db.transaction() as s:
        keys = s.execute(select(func.count()).select_from(t.idempotency_records)).scalar_one()
    assert keys == 2


def test_a_key_revoked_before_the_group_stores_nothing(db: Database) -> None:
    create_organization(db, "shop", "Shop", OrgKind.BRAND)
    issued = create_api_key(db, "shop")
    proof = KeyProof.of(issued.key)
    assert isinstance(record_requests(db, [ConversionRequest([sale("a")], key=proof)])[0], Recorded)
    revoke_api_key(db, "shop", issued.prefix)
    outcome = record_requests(db, [ConversionRequest([sale("b")], key=proof)])[0]
    assert isinstance(outcome, AuthenticationError)
    wrong = KeyProof(proof.prefix, "0" * 64)  # a known prefix with another secret
    assert isinstance(record_requests(db, [ConversionRequest([sale("c")], key=wrong)])[0],
                      AuthenticationError)  # fmt: skip
    assert [r[2] for r in stored(db)] == ["a"]


def test_what_the_writer_keeps_is_dropped_once_the_store_changes(db: Database) -> None:
    """The writer's Reference reads keys, codes and partnerships once; a change made by anyone
    (here another connection, as another worker would) is seen by the next transaction."""
    shop = create_organization(db, "shop", "Shop", OrgKind.BRAND)
    create_organization(db, "friend", "Friend", OrgKind.PARTNER)
    agreed(db, shop.id, "friend")
    create_code(db, shop.id, "friend", "FRIEND10", CodeKind.REFERRAL)
    issued = create_api_key(db, "shop")
    proof = KeyProof.of(issued.key)
    kept = Reference()

    def send(order: str) -> object:
        request = ConversionRequest([sale(order, referral_code="FRIEND10")], key=proof)
        return record_requests(db, [request], kept)[0]

    first = send("a")
    assert isinstance(first, Recorded)
    assert first.conversions[0].partner == "friend"
    with db.transaction() as s:  # the partnership paused behind the writer's back
        s.execute(update(t.partnerships).values(status="paused"))
    second = send("b")
    assert isinstance(second, Recorded)
    assert second.conversions[0].partner is None  # kept as a fact, credited to nobody
    set_code_active(db, shop.id, "FRIEND10", False)
    stopped = send("c")
    assert isinstance(stopped, InvalidInputError)
    assert "stopped" in str(stopped)
    revoke_api_key(db, "shop", issued.prefix)
    assert isinstance(send("d"), AuthenticationError)
    assert [r[2] for r in stored(db)] == ["a", "b"]


def test_a_retry_refused_by_its_checks_now_replays_its_first_answer(db: Database) -> None:
    """A request stored once, then its code stopped: sent again with the same key, it gets
    its first answer (a replay), not the error a new request would get."""
    shop = create_organization(db, "shop", "Shop", OrgKind.BRAND)
    create_organization(db, "friend", "Friend", OrgKind.PARTNER)
    agreed(db, shop.id, "friend")
    create_code(db, shop.id, "friend", "FRIEND10", CodeKind.REFERRAL)
    request = ConversionRequest([sale("a", referral_code="FRIEND10")], org_id=shop.id,
                                idempotency_key="k", fingerprint="f")  # fmt: skip
    first = record_requests(db, [request], Reference())[0]
    set_code_active(db, shop.id, "FRIEND10", False)
    again = record_requests(db, [request], Reference())[0]
    assert isinstance(first, Recorded)
    assert again == Recorded(first.conversions, replayed=True)
    assert [r[2] for r in stored(db)] == ["a"]

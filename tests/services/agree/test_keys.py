"""Signing keys: made once and sealed on the server, or held by the organization (the server
then keeps only the public key and cannot sign in its name); every key is published."""

from __future__ import annotations

from fastapi.testclient import TestClient
from nacl.signing import SigningKey, VerifyKey

from crosspromo.domain import OrgKind
from crosspromo.domain.record import bundle, next_entry, public_key_of, verify
from crosspromo.services.accounts.organizations import create_organization
from crosspromo.services.accounts.secrets import reseal_all
from crosspromo.services.agree.keys import current_key, published_keys, signer
from crosspromo.services.agree.rotation import hold_key_locally
from crosspromo.store.database import Database
from crosspromo.store.repositories import SigningKeyRepository
from crosspromo.web.app import create_app


def server_signer(db: Database, org_id: int) -> SigningKey | None:
    with db.transaction() as session:
        return signer(session, db.settings, org_id)


def test_a_key_is_made_once_sealed_and_signs(db: Database) -> None:
    org = create_organization(db, "acme", "Acme", OrgKind.BRAND)
    first = current_key(db, org.id)
    assert current_key(db, org.id) == first  # made once
    assert first.held_by == "server"
    with db.transaction() as s:
        stored = SigningKeyRepository(s).current(org.id)
    assert stored is not None
    assert stored.private_key is not None
    assert stored.private_key.startswith("v1:")  # sealed, never in the clear
    made = server_signer(db, org.id)
    assert made is not None
    assert public_key_of(made) == first.public_key
    VerifyKey(bytes.fromhex(first.public_key)).verify(made.sign(b"terms v1"))


def test_a_key_held_by_the_organization_leaves_the_server_unable_to_sign(db: Database) -> None:
    """After the organization registers its own key, the server has no key of its in force;
    an acceptance the server signs with the retired key does not verify (acceptance 3)."""
    org = create_organization(db, "beans", "Beans", OrgKind.PARTNER)
    brand = create_organization(db, "acme", "Acme", OrgKind.BRAND)
    old_server_key = server_signer(db, org.id)
    brand_key = server_signer(db, brand.id)
    assert old_server_key is not None
    assert brand_key is not None
    own = SigningKey(b"k" * 32)  # made and kept where the organization keeps it
    held = hold_key_locally(db, org.id, public_key_of(own).upper())
    assert (held.held_by, held.public_key) == ("organization", public_key_of(own))
    assert server_signer(db, org.id) is None
    published = published_keys(db, "beans")
    assert [k.held_by for k in published.keys] == ["server", "organization"]
    assert published.keys[0].retired_at is not None
    assert published.keys[1].retired_at is None
    assert reseal_all(db) == 0  # a key without a sealed copy is passed over
    entries = [next_entry("p-1", [], "proposal", "acme", brand_key, "2026-12-01T00:00:00Z")]
    keys = {"acme": [public_key_of(brand_key)],
            "beans": [public_key_of(old_server_key), public_key_of(own)]}  # fmt: skip
    rotation = next_entry("p-1", entries, "key_rotation", "beans", old_server_key,
                          "2026-12-01T00:00:01Z", {"new_key": public_key_of(own)})  # fmt: skip
    entries.append(rotation)
    forged = next_entry("p-1", entries, "acceptance", "beans", old_server_key,
                        "2026-12-01T00:00:02Z", {"version": 1})  # fmt: skip
    refused = verify(bundle("p-1", [*entries, forged], keys))
    assert (refused.valid, refused.entry) == (False, 2)
    real = next_entry("p-1", entries, "acceptance", "beans", own, "2026-12-01T00:00:02Z",
                      {"version": 1})  # fmt: skip
    assert verify(bundle("p-1", [*entries, real], keys)).valid


def test_keys_are_published_for_anyone(db: Database) -> None:
    org = create_organization(db, "acme", "Acme", OrgKind.BRAND)
    made = current_key(db, org.id)
    with TestClient(create_app(db.settings)) as client:
        answer = client.get("/.well-known/crosspromo/keys/acme")  # no key, no login
        missing = client.get("/.well-known/crosspromo/keys/nobody")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["organization"] == "acme"
    assert [k["fingerprint"] for k in body["keys"]] == [made.fingerprint]
    assert "private" not in answer.text
    assert missing.status_code == 404

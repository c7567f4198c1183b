from __future__ import annotations

import hashlib
import hmac

from crosspromo.security import (
    customer_id_digests,
    customer_id_hash,
    digests_match,
    generate_api_key,
    hash_password,
    parse_api_key,
    token_digest,
    verify_password,
)


def test_password_hash_is_argon2_and_verifies() -> None:
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert verify_password("correct horse battery", stored)
    assert not verify_password("wrong", stored)
    assert not verify_password("x", "not-a-hash")


def test_api_keys_are_random_and_stored_as_digest() -> None:
    one, two = generate_api_key(), generate_api_key()
    assert one.plaintext != two.plaintext
    assert parse_api_key(one.plaintext) == one.prefix
    assert one.digest == token_digest(one.plaintext)
    assert one.plaintext not in one.digest
    assert digests_match(one.digest, token_digest(one.plaintext))
    assert not digests_match(one.digest, two.digest)


def test_malformed_keys_have_no_prefix() -> None:
    for bad in ["", "cp_", "xx_0123456789_abc", "cp_short_abc", "cp0123456789abc"]:
        assert parse_api_key(bad) is None


def test_customer_hash_is_keyed_per_org_and_normalized() -> None:
    secret = "s" * 20
    base = customer_id_hash(secret, 1, "Ann@Example.com")
    assert base == customer_id_hash(secret, 1, "  ann@example.com ")
    assert base != customer_id_hash(secret, 2, "ann@example.com"), "tenants cannot be linked"
    assert base != customer_id_hash("t" * 20, 1, "ann@example.com")
    assert customer_id_hash(secret, 1, "ID-7") != customer_id_hash(secret, 1, "id-7")


def test_customer_digests_equal_the_standard_hmac() -> None:
    """The written-out HMAC used for bulk imports against the standard library's."""
    secret, ids = "s" * 20, ["ann@example.com", "ID-7", "", "ü" * 300]
    org_key = hmac.new(secret.encode(), b"customer-id/3", hashlib.sha256).digest()
    expected = [hmac.new(org_key, i.encode(), hashlib.sha256).digest() for i in ids]
    assert customer_id_digests(secret, 3, ids) == expected

"""Secrets at rest: sealed under the secret key, opened with old keys after a rotation and
sealed again, and the keyed hashes of customer identifiers unchanged by a rotation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook

from crosspromo.config import Settings
from crosspromo.domain import OrgKind
from crosspromo.errors import ConfigError
from crosspromo.keyring import is_sealed, seal, unseal
from crosspromo.security import customer_id_hash
from crosspromo.services.accounts.customers import record_customer
from crosspromo.services.accounts.organizations import create_organization
from crosspromo.services.accounts.secrets import identity_secret, reseal_all
from crosspromo.services.admin.database import open_database
from crosspromo.services.track.inbound import rotate_inbound_secret, verify_inbound
from crosspromo.services.track.outbound import add_endpoint
from crosspromo.store import tables as t
from crosspromo.store.database import Database

NEW_KEY = "rotated-secret-key-" + "k9" * 20


def _rotated(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"secret_key": type(settings.secret_key)(NEW_KEY),
                "old_secret_keys": (settings.secret_key,)}
    )  # fmt: skip


def _stored(db: Database) -> list[str]:
    with db.transaction() as s:
        return [
            *s.execute(select(t.webhook_secrets.c.secret)).scalars(),
            *s.execute(select(t.webhook_endpoints.c.secret)).scalars(),
            *s.execute(select(t.sealed_keys.c.sealed)).scalars(),
        ]


def test_webhook_secrets_are_sealed_at_rest(db: Database) -> None:
    """Finding 10: webhook signing secrets were stored in plain text."""
    org = create_organization(db, "alpha", "Alpha", OrgKind.BRAND)
    inbound = rotate_inbound_secret(db, org.id)
    endpoint = add_endpoint(db, org.id, "https://hooks.example/x", ["conversion.created"])
    stored = _stored(db)
    assert stored
    assert all(is_sealed(v) for v in stored)
    assert inbound.secret not in stored
    assert endpoint.secret not in stored


def test_rotation_keeps_hashes_and_reseals(db: Database) -> None:
    org = create_organization(db, "alpha", "Alpha", OrgKind.BRAND)
    customer, _ = record_customer(db, org.id, "ann@example.com", frozenset())
    inbound = rotate_inbound_secret(db, org.id)
    before = _stored(db)
    rotated = open_database(_rotated(db.settings))
    try:
        # the same customer is found under the new key: the identity key did not change
        again, created = record_customer(rotated, org.id, "ANN@example.com", frozenset())
        assert (again.id, created) == (customer.id, False)
        assert identity_secret(rotated) == identity_secret(db)
        assert reseal_all(rotated) == len(before) - 1  # the identity key was resealed on use
        after = _stored(rotated)
        assert set(after).isdisjoint(before)
        assert reseal_all(rotated) == 0
        for value in after:
            assert not unseal(rotated.settings, value)[1]
        body = b"{}"
        now = datetime.now(UTC)
        signature = Webhook(inbound.secret).sign("msg_1", now, "{}")
        headers = {"webhook-id": "msg_1", "webhook-timestamp": str(int(now.timestamp())),
                   "webhook-signature": signature}  # fmt: skip
        assert verify_inbound(rotated, "alpha", body, headers).org_id == org.id
    finally:
        rotated.dispose()


def test_a_value_no_configured_key_opens_is_a_config_error(settings: Settings) -> None:
    sealed = seal(_rotated(settings), "whsec_x")
    with pytest.raises(ConfigError, match="CROSSPROMO_OLD_SECRET_KEYS"):
        unseal(settings, sealed)
    assert customer_id_hash("k" * 20, 1, "a") != customer_id_hash("j" * 20, 1, "a")


def test_a_fresh_database_gets_a_random_identity_key(db: Database) -> None:
    """Finding 1: the secret key itself keyed the customer hashes and overlap sessions."""
    key = identity_secret(db)
    assert key != db.settings.secret_key.get_secret_value()
    assert len(key) >= 43

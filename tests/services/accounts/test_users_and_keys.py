from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from crosspromo.domain import OrgKind, Role
from crosspromo.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    TooManyAttemptsError,
)
from crosspromo.services.accounts import logins
from crosspromo.services.accounts.customers import parse_consents, record_customer
from crosspromo.services.accounts.keys import (
    authenticate_api_key,
    create_api_key,
    list_api_keys,
    revoke_api_key,
)
from crosspromo.services.accounts.logins import ACCOUNT, CLIENT, PAIR, authenticate_user
from crosspromo.services.accounts.organizations import create_organization
from crosspromo.services.accounts.users import create_user
from crosspromo.store.database import Database
from crosspromo.store.tables import customers


def test_user_login(sqlite_db: Database) -> None:
    create_organization(sqlite_db, "alpha", "Alpha", OrgKind.BRAND)
    user = create_user(sqlite_db, "alpha", " Ann@Example.com ", "long-password-1", Role.OWNER)
    assert user.email == "ann@example.com"
    assert authenticate_user(sqlite_db, "ANN@example.com", "long-password-1").email == user.email
    for email, password in [("ann@example.com", "nope-nope-nope"), ("bob@example.com", "x")]:
        with pytest.raises(AuthenticationError, match="wrong e-mail or password"):
            authenticate_user(sqlite_db, email, password)
    with pytest.raises(ConflictError):
        create_user(sqlite_db, "alpha", "ann@example.com", "long-password-2", Role.OWNER)
    create_user(sqlite_db, "alpha", "ann@example.com", "long-password-2", "analyst", reset=True)
    assert authenticate_user(sqlite_db, "ann@example.com", "long-password-2").role is Role.ANALYST
    with pytest.raises(InvalidInputError, match="10 characters"):
        create_user(sqlite_db, "alpha", "c@example.com", "short", Role.OWNER)
    with pytest.raises(InvalidInputError, match="role 'boss'"):
        create_user(sqlite_db, "alpha", "c@example.com", "long-password-1", "boss")
    with pytest.raises(NotFoundError, match="'zeta'"):
        create_user(sqlite_db, "zeta", "c@example.com", "long-password-1", Role.OWNER)


def test_api_key_lifecycle(sqlite_db: Database) -> None:
    alpha = create_organization(sqlite_db, "alpha", "Alpha", OrgKind.BRAND)
    issued = create_api_key(sqlite_db, "alpha", "ci")
    assert authenticate_api_key(sqlite_db, issued.key) == alpha
    tampered = issued.key[:-2] + ("AA" if not issued.key.endswith("AA") else "BB")
    with pytest.raises(AuthenticationError):
        authenticate_api_key(sqlite_db, tampered)
    with pytest.raises(AuthenticationError, match="malformed"):
        authenticate_api_key(sqlite_db, "hello")
    assert [k.name for k in list_api_keys(sqlite_db, "alpha")] == ["ci"]
    revoke_api_key(sqlite_db, "alpha", issued.prefix)
    with pytest.raises(AuthenticationError, match="revoked"):
        authenticate_api_key(sqlite_db, issued.key)


def test_customer_raw_id_is_never_stored(sqlite_db: Database) -> None:
    alpha = create_organization(sqlite_db, "alpha", "Alpha", OrgKind.BRAND)
    consents = parse_consents(["partner_sharing"])
    _, created = record_customer(sqlite_db, alpha.id, "Secret.Person@Example.com", consents)
    assert created
    _, created = record_customer(sqlite_db, alpha.id, "secret.person@example.com", frozenset())
    assert not created
    with sqlite_db.transaction() as s:
        rows = [tuple(r) for r in s.execute(customers.select())]
    assert len(rows) == 1
    assert not any("secret" in str(v).lower() for v in rows[0])
    with pytest.raises(InvalidInputError, match="consent purpose 'sms'"):
        parse_consents(["sms"])


def test_password_guessing_slows_down_without_locking_the_owner_out(db: Database) -> None:
    """Finding 7: ten failures from anyone locked the account for 15 minutes."""
    create_organization(db, "alpha", "Alpha", OrgKind.BRAND)
    create_user(db, "alpha", "ann@example.com", "long-password-1", Role.OWNER)
    for _ in range(PAIR.free - 1):
        with pytest.raises(AuthenticationError):
            authenticate_user(db, "ann@example.com", "guess-guess", "203.0.113.9")
    authenticate_user(db, "ann@example.com", "long-password-1", "203.0.113.9")  # resets
    for email in ("ann@example.com", "nobody@example.com"):
        for _ in range(PAIR.free + 1):
            with pytest.raises(AuthenticationError):
                authenticate_user(db, email, "guess-guess", "203.0.113.9")
        with pytest.raises(TooManyAttemptsError, match="try again in 2 seconds"):
            authenticate_user(db, email, "long-password-1", "203.0.113.9")
    # the stranger's failures delay the stranger: the owner, elsewhere, logs in at once
    assert authenticate_user(db, "ann@example.com", "long-password-1", "198.51.100.4").email
    assert ACCOUNT.delay(ACCOUNT.free + 30) == 60, "an account's own delay stays short"


def test_concurrent_guesses_are_counted_atomically(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding 7: 40 concurrent wrong passwords got 33 real checks (49 on PostgreSQL)."""
    create_organization(db, "alpha", "Alpha", OrgKind.BRAND)
    create_user(db, "alpha", "ann@example.com", "long-password-1", Role.OWNER)
    checks = []
    real_verify = logins.verify_password

    def counted(password: str, stored: str) -> bool:
        checks.append(1)
        return real_verify(password, stored)

    monkeypatch.setattr(logins, "verify_password", counted)

    def guess(i: int) -> str:
        try:
            authenticate_user(db, "ann@example.com", f"guess-{i:04d}", "203.0.113.9")
        except (AuthenticationError, TooManyAttemptsError) as exc:
            return type(exc).__name__
        return "in"

    for _ in range(3):  # waves, as an attacker retries
        with ThreadPoolExecutor(max_workers=40) as pool:
            outcomes = list(pool.map(guess, range(40)))
        assert "in" not in outcomes
    assert 1 <= len(checks) <= PAIR.free + 1, len(checks)


def test_spraying_many_addresses_from_one_client_is_slowed(db: Database) -> None:
    refused = 0
    for i in range(CLIENT.free + 3):
        try:
            authenticate_user(db, f"user{i}@example.com", "Summer2026!", "203.0.113.77")
        except TooManyAttemptsError:
            refused += 1
        except AuthenticationError:
            pass
    assert refused >= 2
    with pytest.raises(AuthenticationError):  # another client is not affected
        authenticate_user(db, "user0@example.com", "Summer2026!", "198.51.100.1")

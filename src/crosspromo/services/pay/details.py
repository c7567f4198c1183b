"""Payout details: where an organization is paid as a partner (and pays from as a brand), its
IBAN checked (checksum and country format, ``schwifty``; the BIC taken from it when not given
and the bank is known) and sealed at rest; others see only a
masked IBAN. The payout threshold is the least a payout to it may be."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from sqlalchemy.orm import Session

from crosspromo.domain.money import MAX_MINOR
from crosspromo.errors import InvalidInputError
from crosspromo.keyring import seal, unseal
from crosspromo.store.database import Database
from crosspromo.store.repositories import PayoutDetailsRepository


@dataclass(frozen=True, slots=True)
class PayoutDetails:
    """An organization's payout details as shown: the IBAN masked but for its country and last
    four characters."""

    holder: str
    iban: str
    bic: str | None
    threshold_minor: int


@dataclass(frozen=True, slots=True)
class Account:
    """The details in full, for a payment file only."""

    holder: str
    iban: str
    bic: str | None


def save(
    db: Database,
    org_id: int,
    holder: str,
    iban: str,
    bic: str | None = None,
    threshold_minor: int = 0,
) -> PayoutDetails:
    """Check and store (sealed) the organization's payout details."""
    account = checked(holder, iban, bic)
    if not 0 <= threshold_minor <= MAX_MINOR:
        raise InvalidInputError(
            "the payout threshold is a whole, non-negative amount in minor units",
            field="threshold_minor",
        )
    sealed = seal(
        db.settings,
        json.dumps({"holder": account.holder, "iban": account.iban, "bic": account.bic}),
    )
    with db.transaction() as session:
        PayoutDetailsRepository(session).put(org_id, sealed, threshold_minor)
    return _shown(account, threshold_minor)


def checked(holder: str, iban: str, bic: str | None) -> Account:
    name = " ".join(holder.split())
    if not 1 <= len(name) <= 70:
        raise InvalidInputError("the account holder's name is 1-70 characters", field="holder")
    try:
        number = IBAN(iban)
    except (SchwiftyException, ValueError) as exc:
        raise InvalidInputError(f"IBAN {iban!r} is not valid: {exc}", field="iban") from None
    code = None
    if bic and bic.strip():
        try:
            code = str(BIC(bic.strip()))
        except (SchwiftyException, ValueError) as exc:
            raise InvalidInputError(f"BIC {bic!r} is not valid: {exc}", field="bic") from None
    if code is None and number.bic is not None:  # the bank's BIC, known from its IBAN
        code = str(number.bic)
    return Account(name, number.compact, code)


def shown(db: Database, org_id: int) -> PayoutDetails | None:
    """The organization's details as it sees them (masked), or None if it gave none."""
    with db.reading() as session:
        stored = PayoutDetailsRepository(session).get(org_id)
    return None if stored is None else _shown(_opened(db, stored[0]), stored[1])


def account(db: Database, session: Session, org_id: int) -> Account | None:
    """The organization's details in full, for a payment file; None if it gave none."""
    stored = PayoutDetailsRepository(session).get(org_id)
    return None if stored is None else _opened(db, stored[0])


def _opened(db: Database, sealed: str) -> Account:
    data: dict[str, Any] = json.loads(unseal(db.settings, sealed)[0])
    return Account(data["holder"], data["iban"], data.get("bic"))


def _shown(found: Account, threshold_minor: int) -> PayoutDetails:
    masked = found.iban[:2] + "•" * (len(found.iban) - 6) + found.iban[-4:]
    return PayoutDetails(found.holder, masked, found.bic, threshold_minor)

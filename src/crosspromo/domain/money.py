"""Money: integer minor units and an ISO 4217 currency code, never a float."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from babel.numbers import format_currency, format_decimal

from crosspromo.errors import InvalidInputError

CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_MINOR = 10**15  # ten trillion in major units of a two-decimal currency


# ISO 4217 currencies whose minor unit is not a hundredth (all others: two decimals)
_DECIMALS = {
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
}


def minor_per_major(currency: str) -> int:
    """How many minor units make one major unit (100 for EUR, 1 for JPY, 1000 for KWD)."""
    return int(10 ** _DECIMALS.get(currency, 2))


def parse_major(text: str, currency: str, field: str = "amount") -> int:
    """An amount typed in major units ("1,500.50"; empty: 0) as minor units of ``currency``,
    exactly (decimal, never binary floating point), rounded half to even."""
    cleaned = text.replace(",", "").strip() or "0"
    try:
        amount = Decimal(cleaned) * minor_per_major(currency)
    except InvalidOperation:
        raise InvalidInputError(f"{field} {text!r} is not an amount", field=field) from None
    if not amount.is_finite() or not 0 <= amount <= MAX_MINOR:
        most = money_text(MAX_MINOR // minor_per_major(currency) * minor_per_major(currency),
                          currency, symbol=False)  # fmt: skip
        raise InvalidInputError(f"{field} {text!r} is not an amount from 0 to {most}", field=field)
    return int(amount.to_integral_value(ROUND_HALF_EVEN))


def check_currency(code: str, field: str = "currency") -> str:
    if not CURRENCY.match(code):
        raise InvalidInputError(f"currency {code!r} is not an ISO 4217 code like EUR", field=field)
    return code


@dataclass(frozen=True, slots=True)
class Money:
    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        check_currency(self.currency)
        if not -MAX_MINOR <= self.amount_minor <= MAX_MINOR:
            raise InvalidInputError(
                f"amount {self.amount_minor} is out of range", field="amount_minor"
            )


def money_text(minor: int, currency: str, *, symbol: bool = True) -> str:
    """An amount in minor units as a reader expects it (1701 EUR → €17.01; ``symbol=False``:
    EUR 17.01, for documents whose fonts lack currency signs), babel's English format."""
    major = Decimal(minor) / minor_per_major(currency)
    if symbol:
        return str(format_currency(major, currency, locale="en"))
    return f"{currency} {format_decimal(major, '#,##0.00', locale='en')}"

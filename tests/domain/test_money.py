"""An amount typed in major units becomes exact minor units, or a clear error."""

from __future__ import annotations

import pytest

from crosspromo.domain.money import parse_major
from crosspromo.errors import InvalidInputError


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [("1,500.50", "EUR", 150_050), ("", "EUR", 0), (" 12 ", "JPY", 12), ("1.5", "KWD", 1_500),
     ("0.125", "EUR", 12), ("0.135", "EUR", 14), ("1234567890123.45", "EUR", 123456789012345)],
)  # fmt: skip
def test_major_units_become_exact_minor_units(text: str, currency: str, minor: int) -> None:
    assert parse_major(text, currency) == minor  # half to even; never through a float


@pytest.mark.parametrize("text", ["ten", "nan", "inf", "-1", "1e30"])
def test_what_is_not_an_amount_is_named(text: str) -> None:
    with pytest.raises(InvalidInputError, match=f"budget {text!r}"):
        parse_major(text, "EUR", "budget")

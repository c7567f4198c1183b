"""Numbers typed as text: ASCII digits pass, and int() reads every one that does."""

from __future__ import annotations

import pytest

from crosspromo.domain.clock import parse_month
from crosspromo.domain.text import digits
from crosspromo.errors import InvalidInputError


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0", True), ("2026", True), ("", False), ("²", False), ("1²", False), ("٣", False),
     ("-1", False), (" 1", False), ("1.0", False)],
)  # fmt: skip
def test_only_ascii_digits_pass(text: str, expected: bool) -> None:
    assert digits(text) is expected
    if expected:
        assert int(text) >= 0


@pytest.mark.parametrize("text", ["2026-1²", "²⁰²⁶-12", "2026-١٢"])
def test_a_month_in_other_digits_is_refused_clearly(text: str) -> None:
    with pytest.raises(InvalidInputError, match="is not YYYY-MM"):
        parse_month(text)

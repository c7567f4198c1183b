"""Terms as data: the template is complete and valid, every rule of the schema names what is
wrong, and two versions are compared field by field."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from crosspromo.errors import InvalidInputError
from crosspromo.services.agree.terms import (
    CommissionChoice,
    Terms,
    diff,
    parse_terms,
    read_terms,
    template,
)
from tests.cli.test_cli import cli_here


def _with(change: dict[str, Any]) -> dict[str, Any]:
    document = template("acme", "beans").document()
    for path, value in change.items():
        *parents, last = path.split(".")
        node: Any = document
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[int(last) if last.isdigit() else last] = value
    return document


def test_the_template_is_complete_and_reads_back() -> None:
    made = template("acme", "beans")
    assert parse_terms(made.document()) == made
    assert {p.org for p in made.parties} == {"acme", "beans"}
    shown = cli_here("agreements", "template", "--brand", "acme", "--partner", "beans",
                     "--format", "json")  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert read_terms(shown.stdout, "template") == made


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"contributions.0.cost_share_bp": 6000}, "add up to 10000 basis points"),
        (
            {
                "commission.rules.1.kind": "percent",
                "commission.rules.1.rate_bp": 500,
                "commission.rules.1.flat_minor": None,
            },
            "a lead has no amount",
        ),
        ({"commission.rules.0.flat_minor": 100}, "exactly its own amount"),
        ({"commission.rules.0.rate_bp": 10_001}, "commission.rules.0.rate_bp"),
        (
            {
                "commission.rules.0.kind": "tiered",
                "commission.rules.0.rate_bp": None,
                "commission.rules.0.tiers": [{"from_count": 5, "rate_bp": 1000}],
            },
            "tiers start",
        ),
        ({"end": "2026-12-31"}, "the end is before the start"),
        ({"parties.1.role": "brand"}, "one brand, one partner"),
        ({"commission.currency": "euro"}, "commission.currency"),
        (
            {
                "commission.rules.0.flat_minor": -1,
                "commission.rules.0.rate_bp": None,
                "commission.rules.0.kind": "flat",
            },
            "commission.rules.0.flat_minor",
        ),
        ({"data_sharing.overlap_level": "everything"}, "data_sharing.overlap_level"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_what_is_wrong_is_named(change: dict[str, Any], named: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        parse_terms(_with(change), "terms.json")
    assert named in refused.value.message
    assert refused.value.message.startswith("terms.json: ")


def test_two_versions_are_compared_in_lines() -> None:
    before = template("acme", "beans")
    after = Terms.model_validate(_with({"commission.rules.0.rate_bp": 1200,
                                        "termination.notice_days": 60,
                                        "data_sharing.overlap_level": "records"}))  # fmt: skip
    assert diff(before, after) == [
        "commission.rules[0].rate_bp: 1000 → 1200",
        'data_sharing.overlap_level: "counts" → "records"',
        "termination.notice_days: 30 → 60",
    ]
    assert diff(after, after) == []


def test_terms_that_are_not_json_are_named() -> None:
    with pytest.raises(InvalidInputError, match=r"terms\.json is not JSON"):
        read_terms("{", "terms.json")
    assert json.loads(template().model_dump_json())["format"] == "crosspromo-terms/1"


def test_a_template_with_chosen_commission_rules_and_start() -> None:
    made = template("acme", "beans", CommissionChoice(Decimal("12.5"), 150, 14, "USD"),
                    date(2026, 6, 1))  # fmt: skip
    assert parse_terms(made.document()) == made
    c = made.commission
    assert (c.currency, c.holding_days) == ("USD", 14)
    assert [(r.applies_to, r.kind, r.rate_bp, r.flat_minor) for r in c.rules] == [
        ("sale", "percent", 1250, None), ("lead", "flat", None, 150)]  # fmt: skip
    assert (made.start, made.end) == (date(2026, 6, 1), date(2026, 12, 31))
    only_sales = template("acme", "beans", CommissionChoice(Decimal(10)))
    assert [r.kind for r in only_sales.commission.rules] == ["percent"]
    with pytest.raises(InvalidInputError, match="at most two decimals"):
        template("acme", "beans", CommissionChoice(Decimal("10.125")))
    with pytest.raises(InvalidInputError, match="commission: currency"):
        template("acme", "beans", CommissionChoice(Decimal(10), currency="euro"))
    assert template() == template("your-brand", "your-partner", CommissionChoice())

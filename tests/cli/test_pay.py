"""The Pay commands as the issue names them: terms from `agreements template` with commission
flags, `commissions compute` (idempotent) and `summary`, fraud holds decided, `payouts run`,
`export` as CSV and as a SEPA file that validates against the pain.001.001.03 schema shipped
with sepaxml, and `mark-paid`; the exact JSON shapes."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

import sepaxml
import xmlschema

from crosspromo.domain import OrgKind
from crosspromo.domain.conversions import CodeKind, ConversionKind
from crosspromo.services.accounts.organizations import create_organization
from crosspromo.services.agree.agreements import accept
from crosspromo.services.track.conversions import ConversionInput, create_code, record_conversions
from crosspromo.store.database import Database
from tests.cli.test_cli import cli_here

PAIN_001 = Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.03.xsd"


def _json(*args: str, db: Database) -> object:
    done = cli_here(*args, "--format", "json", db_url=str(db.settings.database_url))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_commissions_and_payouts_from_the_command_line(sqlite_db: Database, tmp_path: Path) -> None:
    db, url = sqlite_db, str(sqlite_db.settings.database_url)
    brand = create_organization(db, "acme", "Acme", OrgKind.BRAND).id
    partner = create_organization(db, "beans", "Beans", OrgKind.PARTNER).id
    terms = _json(
        "agreements",
        "template",
        "--brand",
        "acme",
        "--partner",
        "beans",
        "--percent-of-sale",
        "10",
        "--per-lead-minor",
        "200",
        "--holding-days",
        "30",
        "--currency",
        "EUR",
        "--start",
        "2026-01-01",
        db=db,
    )
    assert isinstance(terms, dict)
    assert terms["start"] == "2026-01-01"
    assert [
        (r["applies_to"], r["kind"], r.get("rate_bp"), r.get("flat_minor"))
        for r in terms["commission"]["rules"]
    ] == [("sale", "percent", 1000, None), ("lead", "flat", None, 200)]
    assert terms["commission"]["holding_days"] == 30
    (tmp_path / "terms.json").write_text(json.dumps(terms))
    made = _json(
        "agreements",
        "propose",
        "--org",
        "acme",
        "--partner",
        "beans",
        "--terms",
        str(tmp_path / "terms.json"),
        db=db,
    )
    assert isinstance(made, dict)
    accept(db, partner, made["partnership_id"], 1)
    create_code(db, brand, "beans", "BEANS", CodeKind.REFERRAL)
    for kind, day, amount, order in [
        (ConversionKind.LEAD, "2026-03-01", 0, None),
        (ConversionKind.SALE, "2026-03-02", 12_345, "o1"),
        (ConversionKind.SALE, "2026-03-03", 5_000, "o1"),
    ]:
        record_conversions(
            db,
            brand,
            [
                ConversionInput(
                    kind,
                    datetime.fromisoformat(f"{day}T10:00:00+00:00"),
                    amount,
                    None if kind is ConversionKind.LEAD else "EUR",
                    referral_code="BEANS",
                    order_id=order,
                )
            ],
        )

    first = _json("commissions", "compute", "--org", "acme", "--as-of", "2026-04-15", db=db)
    assert first == {"as_of": "2026-04-15", "lines": 3, "approved": 2, "held": 1}
    assert _json("commissions", "compute", "--org", "acme", "--as-of", "2026-04-15", db=db) == {
        "as_of": "2026-04-15",
        "lines": 0,
        "approved": 0,
        "held": 0,
    }
    summary = _json("commissions", "summary", "--org", "acme", "--as-of", "2026-04-15", db=db)
    assert summary == {
        "partners": [
            {
                "partner": "beans",
                "currency": "EUR",
                "pending_minor": 0,
                "approved_minor": 200 + 1234,
                "paid_minor": 0,
                "held_minor": 500,
                "reversed_minor": 0,
            }
        ]
    }
    held = _json("commissions", "holds", "--org", "acme", db=db)
    assert isinstance(held, list)
    assert [(h["check"], h["conversion_id"]) for h in held] == [("duplicate_order", 3)]
    assert "claimed before by conversion 2" in held[0]["reason"]
    decided = _json(
        "commissions",
        "decide",
        "--org",
        "acme",
        "--hold",
        str(held[0]["id"]),
        "--decision",
        "reject",
        "--note",
        "a replayed order",
        db=db,
    )
    assert isinstance(decided, dict)
    assert (decided["status"], decided["note"]) == ("rejected", "a replayed order")

    for org, holder, iban in [
        ("acme", "Acme GmbH", "DE89 3704 0044 0532 0130 00"),
        ("beans", "Beans SARL", "FR14 2004 1010 0505 0001 3M02 606"),
    ]:
        shown = _json("payouts", "details", "--org", org, "--holder", holder, "--iban", iban, db=db)
        assert isinstance(shown, dict)
        assert shown["iban"].endswith(iban.replace(" ", "")[-4:])
        assert iban.replace(" ", "")[4:-4] not in shown["iban"]  # masked
    bad = cli_here(
        "payouts",
        "details",
        "--org",
        "beans",
        "--holder",
        "B",
        "--iban",
        "DE89 3704 0044 0532 0130 01",
        db_url=url,
    )
    assert bad.returncode != 0
    assert "IBAN" in bad.stderr

    run = _json("payouts", "run", "--org", "acme", "--as-of", "2026-04-15", db=db)
    assert isinstance(run, dict)
    assert [{k: v for k, v in p.items() if k != "id"} for p in run["payouts"]] == [
        {"partner": "beans", "currency": "EUR", "amount_minor": 1434, "lines": 2}
    ]
    payout = str(run["payouts"][0]["id"])
    sepa, table = tmp_path / "payout.xml", tmp_path / "payout.csv"
    for fmt, out in (("sepa", sepa), ("csv", table)):
        done = cli_here(
            "payouts",
            "export",
            "--org",
            "acme",
            "--payout",
            payout,
            "--format",
            fmt,
            "--out",
            str(out),
            db_url=url,
        )
        assert done.returncode == 0, done.stderr
    xmlschema.XMLSchema(str(PAIN_001)).validate(str(sepa))  # raises when it does not hold
    document = sepa.read_text()
    assert '<InstdAmt Ccy="EUR">14.34</InstdAmt>' in document
    assert "FR1420041010050500013M02606" in document
    assert "DE89370400440532013000" in document
    rows = list(csv.DictReader(io.StringIO(table.read_text())))
    assert (rows[0]["amount_minor"], rows[0]["partner"], rows[0]["status"]) == (
        "1434",
        "beans",
        "open",
    )

    paid = _json(
        "payouts",
        "mark-paid",
        "--org",
        "acme",
        "--payout",
        payout,
        "--reference",
        "BANK-REF-1",
        db=db,
    )
    assert isinstance(paid, dict)
    assert (paid["status"], paid["reference"]) == ("paid", "BANK-REF-1")
    after = _json("commissions", "summary", "--org", "acme", "--as-of", "2026-04-15", db=db)
    assert isinstance(after, dict)
    assert after["partners"][0]["paid_minor"] == 1434
    assert after["partners"][0]["held_minor"] == 0  # rejected: owed nothing
    trial = _json("ledger", "trial-balance", "--org", "beans", db=db)
    assert trial == {
        "currencies": [{"currency": "EUR", "debits_minor": 2868, "credits_minor": 2868}]
    }
    future = cli_here(
        "commissions", "compute", "--org", "acme", "--as-of", "2099-01-01", db_url=url
    )
    assert future.returncode != 0
    assert "in the future" in future.stderr

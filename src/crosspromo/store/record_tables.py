"""Tables of what the parties sign and owe: each organization's signing keys, each
partnership's signed record, and the double-entry ledger. Records and the ledger are
append-only in the database (migrations 0017 and 0018)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from crosspromo.store.columns import BigId, UTCDateTime, metadata, org_ref

signing_keys = Table(  # each organization's Ed25519 keys for the partnership records
    "signing_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    org_ref("org_id"),
    Column("public_key", String(64), nullable=False),  # hex
    Column("fingerprint", String(64), nullable=False, unique=True),  # SHA-256 of the key, hex
    Column("private_key", Text, nullable=True),  # sealed; null: the organization holds it
    Column("created_at", UTCDateTime, nullable=False),
    Column("retired_at", UTCDateTime, nullable=True),
    Index("ix_signing_keys_org_id", "org_id"),
)

record_entries = Table(  # each partnership's signed record; append-only (migration 0017)
    "record_entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "partnership_id",
        Integer,
        ForeignKey("partnerships.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("idx", Integer, nullable=False),  # its place in the record, from 0
    Column("kind", String(16), nullable=False),
    org_ref("signer_org_id"),
    Column("hash", String(64), nullable=False),
    Column("document", Text, nullable=False),  # the entry, canonical JSON (RFC 8785)
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("partnership_id", "idx", name="uq_record_entries_place"),
)

ledger_transactions = Table(  # append-only (migration 0018): corrections are new transactions
    "ledger_transactions",
    metadata,
    Column("id", BigId, primary_key=True),
    org_ref("org_id"),  # the organization whose action it records (the brand, for commissions)
    Column("key", String(200), nullable=False, unique=True),  # posting it again changes nothing
    Column("kind", String(32), nullable=False),
    Column("memo", String(500), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

ledger_postings = Table(  # append-only (migration 0018)
    "ledger_postings",
    metadata,
    Column("id", BigId, primary_key=True),
    Column(
        "transaction_id",
        BigId,
        ForeignKey("ledger_transactions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    org_ref("org_id"),
    Column("account", String(32), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),  # > 0 debit, < 0 credit
    Column("counterparty_org_id", Integer, nullable=True),  # the other party it concerns (0019)
    Index("ix_ledger_postings_org_account", "org_id", "account", "currency"),
    Index("ix_ledger_postings_counterparty", "org_id", "counterparty_org_id", "account"),
    Index("ix_ledger_postings_transaction_id", "transaction_id"),
)

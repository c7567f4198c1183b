"""Import touchpoints (ad impressions, e-mail opens, visits ... from other systems) for
attribution journeys: every row valid, or nothing stored. A touchpoint's ``touch_id`` is its
sender's id, so importing the same file again adds nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crosspromo.domain.clock import aware_time
from crosspromo.domain.conversions import TouchKind
from crosspromo.errors import InvalidInputError
from crosspromo.security import customer_id_hashes
from crosspromo.services.accounts.secrets import identity_secret
from crosspromo.services.files.tabular import Imported, TabularFile
from crosspromo.services.track.conversions import MAX_LENGTHS
from crosspromo.store.database import Database
from crosspromo.store.repositories import OrganizationRepository, TouchpointRepository

COLUMNS = ("touch_id", "customer_external_id", "channel", "occurred_at", "kind", "partner")
REQUIRED = ("touch_id", "customer_external_id", "channel", "occurred_at")
MAX_ROWS = 5_000_000
MAX_CHANNEL = 64


def import_touchpoints(db: Database, org_id: int, path: Path) -> Imported:
    """Store the touchpoints in ``path`` (.csv or .parquet); rows already there are skipped."""
    source = TabularFile.open(path, COLUMNS, REQUIRED, MAX_ROWS)
    count: int = source.table.num_rows
    columns = {name: source.table.column(name).to_pylist() for name in source.table.column_names}
    with db.transaction() as session:
        slugs = {s for s in columns.get("partner", ()) if s}
        partners = {
            slug: org.id
            for slug in slugs
            if (org := OrganizationRepository(session).find_slug(slug)) is not None
        }
        rows = [_row(org_id, source, i, columns, partners) for i in range(count)]
        secret = identity_secret(db, session)
        ids = [r.pop("_customer") for r in rows]
        for row, customer_hash in zip(rows, customer_id_hashes(secret, org_id, ids), strict=True):
            row["customer_hash"] = customer_hash
        added = TouchpointRepository(session).add_new(rows)
    return Imported(str(path), count, added)


def _row(
    org_id: int,
    source: TabularFile,
    index: int,
    columns: dict[str, list[Any]],
    partners: dict[str, int],
) -> dict[str, Any]:
    def fail(column: str, message: str) -> InvalidInputError:
        where = f"{source.path.name}, {source.where} {source.position(index)}"
        return InvalidInputError(f"{where}, column {column}: {message}", column=column)

    def text(column: str) -> str:
        value = columns[column][index] if column in columns else None
        return "" if value is None else str(value).strip()

    for column in REQUIRED:
        if not text(column):
            raise fail(column, "is empty")
    for column, limit in (
        ("touch_id", 200),
        ("customer_external_id", MAX_LENGTHS["customer_external_id"]),
        ("channel", MAX_CHANNEL),
    ):
        if len(text(column)) > limit:
            raise fail(column, f"is longer than {limit} characters")
    channel = text("channel")
    if ">" in channel:
        raise fail("channel", f"{channel!r}: '>' separates the channels of a path")
    try:
        occurred = aware_time(columns["occurred_at"][index])
    except ValueError as exc:
        raise fail("occurred_at", str(exc)) from None
    kind = text("kind") or TouchKind.IMPRESSION.value
    if kind not in TouchKind.__members__.values():
        raise fail("kind", f"{kind!r} is not one of {', '.join(TouchKind)}")
    partner = text("partner")
    if partner and partner not in partners:
        raise fail("partner", f"no organization with slug {partner!r}")
    return {
        "org_id": org_id,
        "touch_id": text("touch_id"),
        "_customer": text("customer_external_id"),
        "kind": kind,
        "channel": channel,
        "partner_org_id": partners[partner] if partner else None,
        "occurred_at": occurred,
    }

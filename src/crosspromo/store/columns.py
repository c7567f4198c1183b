"""The column types every table shares: big ids, aware UTC datetimes, a reference to an
organization. Migrations use them as the tables do."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Dialect, ForeignKey, Integer, TypeDecorator

BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; crosspromo stores aware UTC datetimes only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def org_ref(name: str = "org_id", *, primary_key: bool = False) -> Column[int]:
    """A required reference to an organization; rows go when their organization goes."""
    return Column(
        name,
        Integer,
        ForeignKey("organizations.id", ondelete="CASCADE"),
        nullable=False,
        primary_key=primary_key,
    )

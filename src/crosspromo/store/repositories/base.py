"""Base of the repositories: one Session; unique violations on insert become conflicts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crosspromo.errors import ConflictError


def utcnow() -> datetime:
    return datetime.now(UTC)


class Repository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _insert(self, table: Any, values: dict[str, Any], conflict: str) -> int:
        """Insert one row in a savepoint; a unique violation becomes a ConflictError."""
        try:
            with self.session.begin_nested():
                new_id = self.session.execute(
                    insert(table).values(**values).returning(table.c.id)
                ).scalar_one()
        except IntegrityError as exc:
            raise ConflictError(conflict) from exc
        return int(new_id)

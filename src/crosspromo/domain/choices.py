"""One of a fixed set: a value read as a member of an enumeration, or an error that names the
value and every choice."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from crosspromo.errors import InvalidInputError

E = TypeVar("E", bound=StrEnum)


def one_of(kind: type[E], value: E | str, name: str, field: str | None = None) -> E:
    """``value`` as a member of ``kind``; ``name`` says what it is in the error (and is its
    ``field``, unless one is given)."""
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        raise InvalidInputError(
            f"{name} {value!r} is not one of: {choices}", field=field or name
        ) from None

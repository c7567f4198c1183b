"""The terms versions a brand pays under: those both parties accepted in which it is the brand,
each governing the conversions from its start (the newest that has started, if not ended)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from crosspromo.domain.agreement import replay
from crosspromo.domain.record import Entry


@dataclass(frozen=True, slots=True)
class Paying:
    """A terms version both parties accepted under which ``brand`` pays commissions."""

    version: int
    commission: Mapping[str, Any]
    start: date
    end: date | None


def paying_versions(entries: Sequence[Entry], brand_slug: str) -> list[Paying]:
    """The versions of a record both parties accepted in which ``brand_slug`` is the brand."""
    state = replay(entries)
    found = []
    for offer in state.offers:
        roles = {p["org"]: p["role"] for p in offer.terms["parties"]}
        if len(state.accepted.get(offer.version, ())) == 2 and roles.get(brand_slug) == "brand":
            end = offer.terms.get("end")
            found.append(
                Paying(
                    offer.version,
                    offer.terms["commission"],
                    date.fromisoformat(offer.terms["start"]),
                    None if end is None else date.fromisoformat(end),
                )
            )
    return found

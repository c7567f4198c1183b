"""Complementary or competing: two organizations' needs and products compared in meaning.

Each side is two texts: its need (description and categories: whom it serves, for what) and
its products (each offering). Need similarity is the cosine of the need embeddings; product
similarity the highest cosine between any two offerings. A partner serving a related need
with different products complements (outdoor gear and trail coffee); a similar category with
the same product competes (two coffee roasters). Complementarity = need x (1 - product).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from crosspromo.analytics.discovery.embeddings import Encoder, Matrix


class Relation(StrEnum):
    COMPETITOR = "competitor"
    COMPLEMENT = "complement"
    UNRELATED = "unrelated"


@dataclass(frozen=True, slots=True)
class Offering:
    """What complementarity reads of an organization."""

    key: str
    description: str
    categories: tuple[str, ...]
    offerings: tuple[str, ...]

    def need(self) -> str:
        return " ".join([self.description, *self.categories]).strip()


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Cosine levels that separate the relations; each encoder has its own scale."""

    same_product: float
    related_need: float
    strong: float  # a complementarity this high counts as full marks in the score


THRESHOLDS = {
    "all-MiniLM-L6-v2": Thresholds(same_product=0.62, related_need=0.2, strong=0.35),
    "tf-idf": Thresholds(same_product=0.35, related_need=0.05, strong=0.15),
}


@dataclass(frozen=True, slots=True)
class Pair:
    a: str
    b: str
    need_similarity: float
    product_similarity: float
    shared_categories: tuple[str, ...]
    complementarity: float
    relation: Relation
    closest: tuple[str, str] | None  # the two most similar offerings
    strength: float = 0.0  # complementarity on the score's 0-1 scale

    def summary(self) -> str:
        if self.relation is Relation.COMPETITOR:
            close = f" ('{self.closest[0]}' vs '{self.closest[1]}')" if self.closest else ""
            return f"competitor: the same kind of product{close}"
        if self.relation is Relation.COMPLEMENT:
            return (
                f"complement: related needs ({self.need_similarity:.2f}) "
                f"with different products ({self.product_similarity:.2f})"
            )
        return f"unrelated needs ({self.need_similarity:.2f})"


def _clip(value: float) -> float:
    return float(min(max(value, 0.0), 1.0))


def compare(items: Sequence[Offering], encoder: Encoder) -> dict[tuple[str, str], Pair]:
    """Every unordered pair of ``items`` (keyed both ways)."""
    needs = encoder.encode([i.need() for i in items])
    flat = [o for i in items for o in i.offerings]
    owners = np.array([n for n, i in enumerate(items) for _ in i.offerings], dtype=np.int64)
    products: Matrix = encoder.encode(flat) if flat else np.zeros((0, 1), dtype=np.float32)
    levels = THRESHOLDS.get(encoder.name, THRESHOLDS["tf-idf"])
    out: dict[tuple[str, str], Pair] = {}
    for x in range(len(items)):
        for y in range(x + 1, len(items)):
            need = _clip(float(needs[x] @ needs[y]))
            product, closest = 0.0, None
            rows_x, rows_y = np.flatnonzero(owners == x), np.flatnonzero(owners == y)
            if len(rows_x) and len(rows_y):
                sims = products[rows_x] @ products[rows_y].T
                at = np.unravel_index(int(np.argmax(sims)), sims.shape)
                product = _clip(float(sims[at]))
                closest = (flat[rows_x[at[0]]], flat[rows_y[at[1]]])
            shared = tuple(sorted(set(items[x].categories) & set(items[y].categories)))
            if product >= levels.same_product and (shared or need >= levels.related_need):
                relation = Relation.COMPETITOR
            elif need >= levels.related_need:
                relation = Relation.COMPLEMENT
            else:
                relation = Relation.UNRELATED
            value = 0.0 if relation is Relation.COMPETITOR else need * (1.0 - product)
            strength = _clip(value / levels.strong)
            a, b = items[x].key, items[y].key
            out[(a, b)] = Pair(a, b, need, product, shared, value, relation, closest, strength)
            back = None if closest is None else (closest[1], closest[0])
            out[(b, a)] = Pair(b, a, need, product, shared, value, relation, back, strength)
    return out

"""The ecosystem as a graph (networkx): organizations as nodes, an edge per pair that overlaps
or complements, and bundles: groups of three or more partners who all complement each other
(cliques of the complement edges, none of them competitors)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import networkx as nx

from crosspromo.analytics.discovery.complementarity import Pair, Relation


@dataclass(frozen=True, slots=True)
class Bundle:
    members: tuple[str, ...]
    strength: float  # mean complementarity strength over the bundle's pairs


def ecosystem(
    nodes: Mapping[str, Mapping[str, Any]],
    pairs: Mapping[tuple[str, str], Pair],
    overlaps: Mapping[tuple[str, str], float],
) -> nx.Graph:
    """``nodes``: attributes per organization; ``overlaps``: the measured overlap rate of each
    ordered pair (the share of a's customers that b also has). An edge names its ``first``
    organization; ``overlap_first`` and ``overlap_second`` are the two sides' rates."""
    graph = nx.Graph()
    for key, attrs in nodes.items():
        graph.add_node(key, **{k: v for k, v in attrs.items() if v is not None})
    for (a, b), pair in pairs.items():
        if a >= b or a not in nodes or b not in nodes:
            continue
        rates = (("overlap_first", overlaps.get((a, b))), ("overlap_second", overlaps.get((b, a))))
        measured: dict[str, Any] = {k: v for k, v in rates if v is not None}
        if measured:
            measured["first"] = a  # overlap_first: the share of a's customers that b has
        if pair.relation is Relation.UNRELATED and not measured:
            continue
        graph.add_edge(
            a, b, relation=str(pair.relation), complementarity=round(pair.strength, 6),
            need_similarity=round(pair.need_similarity, 6),
            product_similarity=round(pair.product_similarity, 6), **measured,
        )  # fmt: skip
    return graph


def bundles(
    graph: nx.Graph, sizes: Iterable[int] = (3, 4), around: str | None = None
) -> list[Bundle]:
    """Groups whose every pair complements, strongest first (with ``around`` in each, if
    given)."""
    complements = nx.Graph(
        (a, b, d) for a, b, d in graph.edges(data=True) if d.get("relation") == "complement"
    )
    wanted = set(sizes)
    found: dict[tuple[str, ...], float] = {}
    for clique in nx.find_cliques(complements):
        for size in wanted:
            for members in combinations(sorted(clique), size):
                if around is not None and around not in members:
                    continue
                strengths = [
                    complements[a][b]["complementarity"] for a, b in combinations(members, 2)
                ]
                found[members] = sum(strengths) / len(strengths)
    ranked = sorted(found.items(), key=lambda kv: (-kv[1], kv[0]))
    return [Bundle(m, s) for m, s in ranked]


def graphml(graph: nx.Graph) -> str:
    return "\n".join(nx.generate_graphml(graph))

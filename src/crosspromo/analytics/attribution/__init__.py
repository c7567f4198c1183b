"""Multi-touch attribution: heuristic models, the exact Markov removal effect and Shapley values,
all over aggregated journeys (distinct paths with their conversion and null counts)."""

from crosspromo.analytics.attribution.heuristics import HEURISTICS, heuristic
from crosspromo.analytics.attribution.markov import MarkovAttribution, conversion_probability
from crosspromo.analytics.attribution.paths import Attribution, Paths
from crosspromo.analytics.attribution.shapley import shapley

MODELS = (*HEURISTICS, "markov", "shapley")

__all__ = [
    "HEURISTICS",
    "MODELS",
    "Attribution",
    "MarkovAttribution",
    "Paths",
    "conversion_probability",
    "heuristic",
    "shapley",
]

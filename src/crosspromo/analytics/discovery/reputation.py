"""Reputation from public mentions and engagement against a category benchmark.

Sentiment is VADER's compound score (Hutto & Gilbert 2014), in [-1, 1]: a lexicon and rules
made for short social-media text. A handful of mentions says little, so the mean is shrunk
toward neutral as if ``prior`` neutral mentions had also been seen.
"""

from __future__ import annotations

import functools
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

POSITIVE = 0.05  # VADER's own thresholds for a positive / negative text
NEGATIVE = -0.05
ABOVE_BENCHMARK = 1.15


@functools.cache
def _analyzer() -> object:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def sentiment(texts: Sequence[str]) -> npt.NDArray[np.float64]:
    """VADER compound score of each text."""
    analyzer = _analyzer()
    return np.array(
        [analyzer.polarity_scores(t)["compound"] for t in texts],  # type: ignore[attr-defined]
        dtype=np.float64,
    )


@dataclass(frozen=True, slots=True)
class Reputation:
    mentions: int
    mean: float | None  # plain mean compound score
    positive_share: float | None
    negative_share: float | None
    score: float  # shrunk mean mapped to [0, 1]; 0.5 is neutral or unknown

    def summary(self) -> str:
        if not self.mentions:
            return "no public mentions imported"
        assert self.mean is not None
        assert self.positive_share is not None
        return (
            f"{self.mentions} mentions, {self.positive_share:.0%} positive, "
            f"mean sentiment {self.mean:+.2f}"
        )


def reputation(compounds: npt.ArrayLike, prior: float = 5.0) -> Reputation:
    values = np.asarray(compounds, dtype=float)
    if values.size == 0:
        return Reputation(0, None, None, None, 0.5)
    shrunk = values.sum() / (values.size + prior)
    return Reputation(
        mentions=int(values.size),
        mean=float(values.mean()),
        positive_share=float((values >= POSITIVE).mean()),
        negative_share=float((values <= NEGATIVE).mean()),
        score=float((shrunk + 1.0) / 2.0),
    )


@dataclass(frozen=True, slots=True)
class Engagement:
    rate: float | None  # interactions per follower
    benchmark: float | None  # the category's median rate
    ratio: float | None  # rate / benchmark
    above: bool  # at least 15% above the category's benchmark
    peers: str = "its category's"  # what the benchmark is the median of

    def summary(self) -> str:
        if self.rate is None:
            return "no engagement figures"
        if self.ratio is None:
            return f"engagement {self.rate:.1%} (no category benchmark)"
        verdict = "above" if self.above else "not above"
        return (
            f"engagement {self.rate:.1%}, {self.ratio:.2f}x {self.peers} {self.benchmark:.1%} "
            f"({verdict} the benchmark by 15%)"
        )


def benchmarks(rates: Mapping[str, Sequence[float]]) -> dict[str, float]:
    """The median engagement rate of each category (from the profiles known here, or given)."""
    return {cat: statistics.median(r) for cat, r in rates.items() if r}


def engagement(
    rate: float | None, benchmark: float | None, peers: str = "its category's"
) -> Engagement:
    if rate is None:
        return Engagement(None, benchmark, None, False, peers)
    if not benchmark:
        return Engagement(rate, benchmark, None, False, peers)
    ratio = rate / benchmark
    return Engagement(rate, benchmark, ratio, ratio >= ABOVE_BENCHMARK, peers)

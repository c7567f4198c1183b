"""Customers drawn from the BG/NBD and Gamma-Gamma generative processes, with known parameters,
so the fitted models can be checked against the truth.

A customer buys once at time 0, then as a Poisson process with rate lambda ~ Gamma(r, alpha)
(rate alpha), and after each repeat purchase drops out with probability p ~ Beta(a, b). Each
transaction's value is Gamma(p_spend, nu) with nu ~ Gamma(q, v).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from crosspromo.sample.tracking import SAMPLE_TODAY

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]


@dataclass(frozen=True)
class Truth:
    r: float
    alpha: float
    a: float
    b: float
    p: float = 6.0
    q: float = 4.0
    v: float = 15.0


@dataclass(frozen=True)
class Histories:
    """Per customer: the times of every purchase after the first (``times``, grouped by
    customer via ``offsets``), their values, the first purchase's value, and T."""

    T: FloatArray
    offsets: IntArray
    times: FloatArray
    values: FloatArray
    first_value: FloatArray

    @property
    def frequency(self) -> IntArray:
        return np.diff(self.offsets)


def summaries(truth: Truth, T: FloatArray, rng: np.random.Generator) -> tuple[IntArray, FloatArray]:
    """(x, t_x) for customers of ages ``T`` without drawing each purchase: x = min(N(T), J)
    with N(T) ~ Poisson(lambda T) and J ~ Geometric(p) purchases until dropping out; given
    N(T) = n the x-th purchase time is T times the x-th of n uniform order statistics,
    Beta(x, n - x + 1)."""
    lam = rng.gamma(truth.r, 1 / truth.alpha, len(T))
    drop = rng.beta(truth.a, truth.b, len(T))
    n = rng.poisson(lam * T)
    x = np.minimum(n, rng.geometric(np.clip(drop, 1e-12, 1.0)))
    t_x = np.zeros(len(T))
    bought = x > 0
    t_x[bought] = T[bought] * rng.beta(x[bought], n[bought] - x[bought] + 1)
    return x.astype(np.int64), t_x


def histories(truth: Truth, T: FloatArray, rng: np.random.Generator) -> Histories:
    """Every purchase of customers of ages ``T``, with values."""
    x, t_x = summaries(truth, T, rng)
    offsets = np.concatenate([[0], np.cumsum(x)]).astype(np.int64)
    owner = np.repeat(np.arange(len(T)), x)
    # given x purchases with the last at t_x, the first x - 1 are uniform on (0, t_x)
    times = rng.uniform(0, 1, len(owner)) * t_x[owner]
    last = offsets[1:][x > 0] - 1
    times[last] = t_x[x > 0]
    order = np.lexsort((times, owner))
    times = times[order]
    nu = rng.gamma(truth.q, 1 / truth.v, len(T))
    values = rng.gamma(truth.p, 1 / nu[owner])
    first_value = rng.gamma(truth.p, 1 / nu)
    return Histories(T, offsets, times, values, first_value)


def transaction_log(
    truths: dict[str, Truth],
    customers: dict[str, int],
    start: date,
    weeks: float,
    rng: np.random.Generator,
) -> pa.Table:
    """A purchase log (customer, date, amount, source) of customers acquired from each source
    over the first half of ``weeks`` weeks after ``start`` and observed to the end, each source
    with its own true parameters (rates per week). Amounts are in currency units, to cents."""
    parts = []
    first_id = 1
    for source, truth in truths.items():
        count = customers[source]
        joined = rng.uniform(0, weeks / 2, count)
        story = histories(truth, weeks - joined, rng)
        owner = np.repeat(np.arange(count), story.frequency)
        times = np.concatenate([joined, joined[owner] + story.times])
        who = np.concatenate([np.arange(count), owner]) + first_id
        values = np.concatenate([story.first_value, story.values])
        days = np.floor(times * 7).astype(np.int64)
        parts.append(
            pa.table(
                {
                    "customer": pa.array([f"c{n}" for n in who]),
                    "date": pa.array(np.datetime64(start) + days.astype("timedelta64[D]")),
                    "amount": pa.array(np.round(values, 2)),
                    "source": pa.array([source] * len(who)),
                }
            )
        )
        first_id += count
    return pa.concat_tables(parts).sort_by([("date", "ascending"), ("customer", "ascending")])


ORGANIC_TRUTH = Truth(r=0.8, alpha=5.0, a=0.9, b=3.0, p=6.0, q=4.0, v=15.0)
PARTNER_TRUTHS = (  # partners bring customers who buy more often and more
    Truth(r=1.2, alpha=5.0, a=0.7, b=3.5, p=6.0, q=4.0, v=20.0),
    Truth(r=0.6, alpha=5.0, a=1.2, b=2.0, p=6.0, q=4.0, v=12.0),
)
WEEKS = 78.0
START = SAMPLE_TODAY - timedelta(weeks=WEEKS)  # the purchases run up to the sample's today
ONLY_PURCHASES_UNTIL = date(2026, 9, 30)  # the brand's journeys and experiment sales come later


@dataclass(frozen=True)
class SamplePurchases:
    brand: str
    truths: dict[str, Truth]
    log: pa.Table  # customer (external id), date, amount, source

    def truth(self) -> dict[str, Any]:
        return {
            "brand": self.brand,
            "start": START.isoformat(),
            "end": SAMPLE_TODAY.isoformat(),
            "only_purchases_until": ONLY_PURCHASES_UNTIL.isoformat(),
            "weeks": WEEKS,
            "purchases": self.log.num_rows,
            "sources": {name: vars(t) for name, t in self.truths.items()},
        }


def generate_purchases(
    seed: int, brand: str, partners: tuple[str, ...], customers: list[str]
) -> SamplePurchases:
    """Purchases of ``customers`` over the 78 weeks to the sample's today: half acquired
    organically, the
    rest through ``partners`` (at most two), each source with its own known parameters."""
    rng = np.random.default_rng([seed, 7])
    chosen = partners[: len(PARTNER_TRUTHS)]
    truths = {"organic": ORGANIC_TRUTH, **dict(zip(chosen, PARTNER_TRUTHS, strict=False))}
    share = len(customers) // 2 // max(len(chosen), 1)
    sizes = {"organic": len(customers) - share * len(chosen), **dict.fromkeys(chosen, share)}
    log = transaction_log(truths, sizes, START, WEEKS, rng)
    numbers = np.array([int(c[1:]) - 1 for c in log.column("customer").to_pylist()])
    ids = np.array(customers, dtype=object)[numbers]
    return SamplePurchases(brand, truths, log.set_column(0, "customer", pa.array(ids.tolist())))

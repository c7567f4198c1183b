"""Comparing results computed by two engines."""

from __future__ import annotations

import pytest


def close(a: object, b: object, rel: float = 1e-9) -> bool:
    """Equal up to the last bits of floating point sums (Spark adds in another order). Fitted
    parameters of flat likelihoods move further with such bits: compare them with a larger
    ``rel``."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k], rel) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(close(x, y, rel) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return a == pytest.approx(b, rel=rel, abs=1e-12)
    return a == b

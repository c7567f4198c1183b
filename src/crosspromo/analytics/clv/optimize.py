"""Reading the optimizer's verdict on a likelihood fit."""

from __future__ import annotations

import numpy as np
from scipy.optimize import OptimizeResult

STATIONARY = 1e-6  # largest gradient component (of the mean log-likelihood) taken as an optimum


def verdict(found: OptimizeResult) -> tuple[bool, str | None]:
    """(converged, note). L-BFGS-B reports an abnormal line search when it stands at the
    optimum and cannot improve on it within floating point; a vanishing gradient says the fit
    is done all the same."""
    if found.success or float(np.max(np.abs(found.jac))) < STATIONARY:
        return True, None
    return False, f"the optimizer stopped early: {found.message}"

"""Heavy optional parts are imported lazily; a missing one names the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

from crosspromo.errors import MissingExtraError


def require(module: str, extra: str) -> ModuleType:
    """Import ``module`` or raise MissingExtraError telling which extra provides it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(
            f"{module} is not installed: install the extra with pip install 'crosspromo[{extra}]'",
            extra=extra,
        ) from None

from __future__ import annotations

import sys

import pytest

from crosspromo.engine.optional import require
from crosspromo.engine.spark import spark_session
from crosspromo.errors import MissingExtraError


def test_present_module_is_returned() -> None:
    assert require("json", "none").dumps([1]) == "[1]"


def test_missing_spark_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'crosspromo\[spark\]'") as info:
        spark_session()
    assert info.value.exit_code == 8

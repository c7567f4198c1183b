"""A value read as one of an enumeration's members, or an error naming every choice."""

from __future__ import annotations

import pytest

from crosspromo.domain import Role
from crosspromo.domain.choices import one_of
from crosspromo.domain.experiments import ExperimentMetric
from crosspromo.errors import InvalidInputError


def test_a_member_or_its_value_is_taken() -> None:
    assert one_of(Role, "analyst", "role") is Role.ANALYST
    assert one_of(ExperimentMetric, ExperimentMetric.VALUE, "metric") is ExperimentMetric.VALUE


def test_anything_else_is_named_with_every_choice() -> None:
    with pytest.raises(InvalidInputError) as raised:
        one_of(ExperimentMetric, "clicks", "metric")
    assert raised.value.message == "metric 'clicks' is not one of: converted, value"
    assert raised.value.details["field"] == "metric"
    with pytest.raises(InvalidInputError) as other_field:
        one_of(Role, "", "consent purpose", "consents")
    assert other_field.value.details["field"] == "consents"

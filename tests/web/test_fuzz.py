"""Property-based requests generated from our OpenAPI schema (bounded): no 5xx, and every
response matches what the schema documents (status, content type, body).

Schemathesis is driven directly through Hypothesis (its pytest collection hooks do not work
with the pytest version we pin)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.web.conftest import World

CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
SETTINGS = settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


# The operations are dealt round-robin into shards, so the work spreads over test processes;
# together the shards cover every operation.
SHARDS = 6


def _operations(world: World, shard: int | None = None) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", world.client.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8
    return operations if shard is None else operations[shard::SHARDS]


@pytest.mark.parametrize("shard", range(SHARDS))
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_conforms_to_its_schema(world: World, mode: GenerationMode, shard: int) -> None:
    """Valid and deliberately invalid requests alike get documented answers, never a 5xx."""
    headers = world.auth("acme")
    for operation in _operations(world, shard):
        takes_input = any([operation.body, operation.path_parameters, operation.query])
        if mode is GenerationMode.NEGATIVE and not takes_input:
            continue  # nothing to make invalid

        @SETTINGS
        @given(case=operation.as_strategy(mode))
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        check()


def test_api_without_key_is_always_401(world: World) -> None:
    for operation in _operations(world):
        if not operation.path.startswith("/api/"):
            continue

        @settings(SETTINGS, max_examples=8)
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            response = case.call()
            assert response.status_code == 401, response.text

        check()

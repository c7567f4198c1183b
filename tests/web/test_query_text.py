"""Text in a query parameter with NUL or another control character is refused (422) before it
reaches the store: PostgreSQL cannot hold NUL, and the driver's error was a 500 (found by the
schema fuzzer: ``POST /api/v1/overlap/offers?partner=%00``)."""

from __future__ import annotations

import pytest

from tests.web.conftest import World


def _requests(world: World) -> list[tuple[str, str, dict[str, str]]]:
    campaign = world.campaign_ids["acme"]
    return [
        ("POST", "/api/v1/overlap/offers", {"partner": "{}"}),
        ("GET", "/api/v1/strategies/recommend",
         {"goal": "sales", "budget_minor": "1000", "weeks": "4", "partner": "{}"}),
        ("GET", "/api/v1/churn", {"baseline": "{}"}),
        ("POST", f"/api/v1/campaigns/{campaign}/assets", {"filename": "{}"}),
        ("POST", f"/api/v1/campaigns/{campaign}/assets", {"filename": "a.png", "name": "{}"}),
    ]  # fmt: skip


@pytest.mark.parametrize("bad", ["\x00", "bee\x00s", "\x07", "a\x1bb"])
def test_control_characters_in_query_text_are_refused(world: World, bad: str) -> None:
    for method, path, params in _requests(world):
        filled = {name: value.format(bad) for name, value in params.items()}
        response = world.client.request(
            method, path, params=filled, headers=world.auth("acme"), content=b""
        )
        assert response.status_code == 422, (path, filled, response.text)

"""How a result declares a field that only some results carry (a bootstrap interval, a sketch's
error bound, values by source): left out of the JSON, for the API and the CLI alike, when
it is None."""

from __future__ import annotations

from pydantic import Field

WHEN_GIVEN = Field(exclude_if=lambda value: value is None)

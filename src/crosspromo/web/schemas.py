"""What every route of the REST API shares: the problem document of an error, the envelope of a
list, the base of request bodies, and the shapes of ids in paths. Responses are the services'
own result types; request bodies are declared beside their routes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator

T = TypeVar("T")

# Ids as the database stores them: 32-bit for most rows, 64-bit for customers and events.
SmallId = Annotated[int, Path(ge=1, le=2**31 - 1)]
BigId = Annotated[int, Path(ge=1, le=2**63 - 1)]
SLUG = r"^[a-z0-9-]+$"  # an organization's slug
OrgSlug = Annotated[str, Path(min_length=1, max_length=64, pattern=SLUG)]
PartnerSlug = Annotated[
    str | None, Query(min_length=1, max_length=64, pattern=SLUG, description="a partner's slug")
]
LinkCode = Annotated[str, Path(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class FieldProblem(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """An error, as RFC 9457 problem details (served as application/problem+json)."""

    type: str
    title: str
    status: int
    detail: str
    code: str = Field(description="stable error code; see the README's table")
    instance: str
    errors: list[FieldProblem] | None = Field(default=None, description="each invalid field")


def problem_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "model": Problem,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: problem_response("the body is not valid JSON"),
    401: problem_response("missing, malformed, wrong or revoked API key"),
    404: problem_response("no such resource for this organization"),
    409: problem_response("conflicts with the current state"),
    413: problem_response("the body is over the size limit"),
    422: problem_response("a field is invalid; `errors` names each"),
}


class Listing(BaseModel, Generic[T]):
    """A list of results and how many there are."""

    items: list[T]
    count: int

    @classmethod
    def of(cls, items: Sequence[T]) -> Listing[T]:
        return cls(items=list(items), count=len(items))


class Body(BaseModel):
    """A request body: unknown fields refused, text trimmed and free of control characters."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        """Text may not carry NUL or other control characters (PostgreSQL refuses NUL)."""
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str) and any(ord(c) < 32 and c not in "\t\n" for c in text):
                raise ValueError("must not contain control characters")
        return value


From = Annotated[
    date | None,
    Query(alias="from", description="first day (UTC); default: 30 days up to the last day"),
]
To = Annotated[
    date | None,
    Query(
        alias="to", description="last day (UTC); default: the latest day with clicks, else today"
    ),
]
Since = Annotated[
    date | None, Query(alias="from", description="first day (UTC); default: the first there is")
]
Until = Annotated[
    date | None, Query(alias="to", description="last day (UTC), included; default: the last")
]

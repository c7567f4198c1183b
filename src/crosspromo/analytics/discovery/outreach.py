"""A drafted first message to a candidate partner, citing the evidence behind the match."""

from __future__ import annotations

from collections.abc import Mapping
from string import Template

from crosspromo.errors import InvalidInputError

DEFAULT_TEMPLATE = Template(
    """Subject: $our_name x $their_name: a partnership idea

Hi $their_name team,

I lead partnerships at $our_name. We think our customers and yours would both gain from
working together, and the numbers agree:

$evidence

Would you be open to a short call to explore a first campaign together?

Best regards,
$our_name"""
)
FIELDS = ("our_name", "their_name", "evidence")


def draft(values: Mapping[str, str], evidence: list[str], template: str | None = None) -> str:
    """Fill ``template`` (``$our_name``, ``$their_name``, ``$evidence`` and any other value
    given); unknown placeholders are an error naming them."""
    chosen = Template(template) if template is not None else DEFAULT_TEMPLATE
    filled = {**values, "evidence": "\n".join(f"- {line}" for line in evidence)}
    try:
        return chosen.substitute(filled)
    except KeyError as exc:
        raise InvalidInputError(
            f"the outreach template uses ${exc.args[0]}, which is not known; "
            f"use {', '.join('$' + f for f in FIELDS)}",
            field="template",
        ) from None
    except ValueError as exc:
        raise InvalidInputError(
            f"the outreach template is malformed: {exc}", field="template"
        ) from None

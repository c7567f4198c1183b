"""A drafted first message to a candidate partner: only what that partner should read (the
audience both sides share, how the offerings complement each other, why both gain); the
internal evidence (target bands, competitor flags, sentiment and benchmarks) stays on the
sender's side of the screen."""

from __future__ import annotations

from collections.abc import Mapping
from string import Template

from crosspromo.errors import InvalidInputError

DEFAULT_TEMPLATE = Template(
    """Subject: $our_name x $their_name: a partnership idea

Hi $their_name team,

I lead partnerships at $our_name. We think our customers and yours would both gain from
working together:

$evidence

Would you be open to a short call to explore a first campaign together?

Best regards,
$our_name"""
)
FIELDS = ("our_name", "their_name", "evidence")


def pitch(
    *,
    shared: int | None,
    ours: tuple[str, ...],
    theirs: tuple[str, ...],
    complement: bool,
    our_audience: int | None,
    their_audience: int | None,
) -> list[str]:
    """The lines of an introduction a partner may read: the audience both sides share (a
    count both learned in the overlap session), the offerings side by side when they
    complement each other, and what each side gains."""
    lines = []
    if shared:
        lines.append(
            f"about {shared:,} people already buy from both of us, so our brands are known to "
            "each other's customers"
        )
    if complement and ours and theirs:
        lines.append(
            f"your {_listed(theirs)} and our {_listed(ours)} serve related needs without "
            "competing: each of us can offer the other's customers something they do not "
            "have yet"
        )
    reach = [n for n in (our_audience, their_audience) if n]
    if len(reach) == 2:
        lines.append(
            f"together we reach about {sum(reach):,} people; a joint offer, bundle or content "
            "piece would put each of us in front of the other's audience"
        )
    lines.append("both sides measure what the partnership brings, with the same numbers")
    return lines


def _listed(items: tuple[str, ...], most: int = 2) -> str:
    shown = [f"'{i}'" for i in items[:most]]
    return " and ".join(shown) if len(shown) < 3 else ", ".join(shown)


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

"""Journeys from touch and conversion events, as an Ibis expression (no connection here).

``events`` has one row per event: ``customer`` (string), ``at`` (timestamp), ``channel`` and
``partner`` (strings; null on conversions, ``partner`` null for the brand's own touches),
``converted`` (true on conversions) and ``value`` (the conversion's worth, 0 on touches).

A customer's touches up to and including the instant of a conversion form that conversion's
journey; the next journey starts after it. Of a journey only the touches within ``lookback`` of
its end count (the end is the conversion, or for a journey that never converted, its last
touch). Journeys that end without a conversion are the nulls. The expression reduces all of this
to distinct paths with their conversion, value and null totals; a conversion with no touch in
its window has no path and is counted apart by :func:`conversion_totals`.
"""

from __future__ import annotations

from datetime import timedelta

import ibis

SEPARATOR = " > "
OWN = "own"  # the label of touches no partner made, when journeys are told by partner
DIMENSIONS = ("channel", "partner")
SOURCE = "source"  # journeys told by who made each touch: a partner, or the brand's channel
PARTNER_PREFIX, OWN_PREFIX = "partner:", "own:"  # a source label: ``partner:slug``, ``own:email``


def journey_paths(events: ibis.Table, lookback: timedelta, by: str = "channel") -> ibis.Table:
    """Distinct paths of labels (``by`` channel, partner or source: the partner who made the
    touch, or for the brand's own touches their channel) with ``conversions``, ``value`` and
    ``nulls``, sorted by path."""
    if by not in (*DIMENSIONS, SOURCE):
        raise ValueError(f"journeys are told by channel, partner or source, not {by!r}")
    e = events
    if by == "partner":
        e = e.mutate(channel=ibis.ifelse(e.converted, e.channel, e.partner.fill_null(OWN)))
    elif by == SOURCE:
        own = ibis.literal(OWN_PREFIX).concat(e.channel)
        e = e.mutate(
            channel=ibis.ifelse(
                e.partner.isnull(), own, ibis.literal(PARTNER_PREFIX).concat(e.partner)
            )
        )
    # A conversion sorts after touches at the same instant, so it closes their journey.
    earlier = ibis.window(group_by=e.customer, order_by=[e.at, e.converted], rows=(None, -1))
    e = e.mutate(journey=e.converted.cast("int64").sum().over(earlier).fill_null(0))
    whole = ibis.window(group_by=[e.customer, e.journey])
    e = e.mutate(
        ends=e.at.max().over(whole),
        outcome=e.converted.cast("int64").max().over(whole),
        worth=e.value.sum().over(whole),
    )
    touches = e.filter(~e.converted, e.at >= e.ends - ibis.interval(seconds=_seconds(lookback)))
    journeys = touches.group_by(["customer", "journey", "outcome", "worth"]).aggregate(
        touched=ibis.struct({"at": touches.at, "label": touches.channel}).collect()
    )
    # Sorting the (time, label) pairs orders each path; equal times fall back to the label.
    journeys = journeys.mutate(
        path=journeys.touched.sort().map(lambda touch: touch.label).join(SEPARATOR)
    )
    return (
        journeys.group_by("path")
        .aggregate(
            conversions=journeys.outcome.sum(),
            value=(journeys.worth * journeys.outcome.cast("float64")).sum(),
            nulls=(1 - journeys.outcome).sum(),
        )
        .order_by("path")
    )


def aggregate_paths(journeys: ibis.Table) -> ibis.Table:
    """Journey rows already told as paths (``path``, ``converted``, ``value``) reduced to
    distinct paths with ``conversions``, ``value`` and ``nulls``, sorted by path."""
    outcome = journeys.converted.cast("int64")
    return (
        journeys.group_by("path")
        .aggregate(
            conversions=outcome.sum(),
            value=ibis.ifelse(journeys.converted, journeys.value, 0.0).sum(),
            nulls=(1 - outcome).sum(),
        )
        .order_by("path")
    )


def conversion_totals(events: ibis.Table) -> ibis.Table:
    """One row: all ``conversions`` and their ``value``, with or without a journey."""
    converted = events.filter(events.converted)
    return converted.aggregate(
        conversions=converted.count(), value=converted.value.sum().fill_null(0.0)
    )


def _seconds(lookback: timedelta) -> int:
    seconds = int(lookback.total_seconds())
    if seconds <= 0:
        raise ValueError("the lookback window must be positive")
    return seconds

"""Line charts drawn on the server as SVG coordinates: no chart library, nothing for the
browser to run (the dashboard's CSP allows no inline scripts)."""

from __future__ import annotations

from dataclasses import dataclass

PALETTE = ("#2f6fed", "#12805c", "#b54708", "#7a5af8", "#c11574", "#0e9384", "#475467", "#d92d20")


@dataclass(frozen=True, slots=True)
class Line:
    name: str
    color: str
    points: str
    total: int | None  # the legend shows it (counts)


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    left: int
    bottom: int
    lines: list[Line]
    y_ticks: list[tuple[float, int]]
    x_labels: list[tuple[float, str]]


def line_chart(
    days: list[str],
    series: dict[str, list[int]],
    width: int = 900,
    height: int = 220,
    trim: int = 5,
    totals: bool = True,
) -> Chart:
    """One line per series over ``days`` (equal length lists), scaled to fit; x labels are
    the days without their first ``trim`` characters (the year of an ISO date). ``totals``:
    the legend gives each series' sum (counts); not for shares, where a sum means nothing."""
    left, right, top, bottom = 44, 12, 10, height - 24
    highest = max([1, *(v for values in series.values() for v in values)])
    top_value = -(-highest // 4) * 4  # a multiple of 4, so the 5 ticks are whole numbers
    step = (width - left - right) / max(len(days) - 1, 1)

    def y(value: float) -> float:
        return bottom - (bottom - top) * value / top_value

    lines = [
        Line(
            name=name,
            color=PALETTE[i % len(PALETTE)],
            points=" ".join(f"{left + j * step:.1f},{y(v):.1f}" for j, v in enumerate(values)),
            total=sum(values) if totals else None,
        )
        for i, (name, values) in enumerate(sorted(series.items()))
    ]
    ticks = [(y(top_value * k // 4), top_value * k // 4) for k in range(5)]
    every = max(len(days) // 6, 1)
    labels = [(left + j * step, day[trim:]) for j, day in enumerate(days) if j % every == 0]
    return Chart(width, height, left, bottom, lines, ticks, labels)


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    color: str
    title: str  # shown on hover


@dataclass(frozen=True, slots=True)
class BarChart:
    width: int
    height: int
    left: int
    bottom: int
    bars: list[Bar]
    y_ticks: list[tuple[float, str]]
    x_labels: list[tuple[float, str]]
    legend: list[tuple[str, str]]  # (name, color)
    band: tuple[float, float, str] | None = None  # (y top, height, label): a shaded target


def bar_chart(
    groups: list[str],
    series: dict[str, list[float]],
    width: int = 900,
    height: int = 260,
    band: tuple[float, float, str] | None = None,
) -> BarChart:
    """Grouped bars: one group per entry of ``groups``, one bar per series (in given order);
    ``band`` = (low, high, label) shades a target range of values."""
    left, right, top, bottom = 52, 12, 10, height - 24
    values_and_band = [v for values in series.values() for v in values]
    if band is not None:
        values_and_band.append(band[1])
    highest = max([0.0, *values_and_band]) or 1.0
    slot = (width - left - right) / max(len(groups), 1)
    bar = slot * 0.8 / max(len(series), 1)

    def y(value: float) -> float:
        return bottom - (bottom - top) * value / highest

    bars = [
        Bar(
            x=left + g * slot + slot * 0.1 + s * bar,
            y=y(value),
            width=max(bar - 1, 1),
            height=bottom - y(value),
            color=PALETTE[s % len(PALETTE)],
            title=f"{groups[g]} · {name}: {value:,.1f}",
        )
        for s, (name, values) in enumerate(series.items())
        for g, value in enumerate(values)
    ]
    ticks = [(y(highest * k / 4), f"{highest * k / 4:,.0f}") for k in range(5)]
    labels = [(left + (g + 0.5) * slot, name) for g, name in enumerate(groups)]
    legend = [(name, PALETTE[s % len(PALETTE)]) for s, name in enumerate(series)]
    shade = None if band is None else (y(band[1]), y(band[0]) - y(band[1]), band[2])
    return BarChart(width, height, left, bottom, bars, ticks, labels, legend, shade)


@dataclass(frozen=True, slots=True)
class Segment:
    x: float
    width: float
    color: str
    title: str


@dataclass(frozen=True, slots=True)
class StackRow:
    label: str
    y: float
    segments: list[Segment]
    end_x: float
    text: str
    muted: bool


@dataclass(frozen=True, slots=True)
class StackChart:
    width: int
    height: int
    left: int
    row_height: int
    rows: list[StackRow]
    ticks: list[tuple[float, str]]
    legend: list[tuple[str, str]]


def stacked_bars(
    rows: list[tuple[str, dict[str, float], str, bool]],
    parts: list[str],
    width: int = 900,
    row_height: int = 28,
) -> StackChart:
    """One horizontal bar per row (label, {part: value}, text at the end, muted), each part a
    coloured segment in the order of ``parts``; negative parts are left out of the bar."""
    left, right = 190, 150
    highest = max([0.0, *(sum(max(v, 0.0) for v in r[1].values()) for r in rows)]) or 1.0
    scale = (width - left - right) / highest
    colors = {p: PALETTE[i % len(PALETTE)] for i, p in enumerate(parts)}
    out = []
    for i, (label, values, text, muted) in enumerate(rows):
        x = float(left)
        segments = []
        for part in parts:
            value = max(values.get(part, 0.0), 0.0)
            segments.append(
                Segment(x, value * scale, colors[part], f"{label} · {part}: {value:.3f}")
            )
            x += value * scale
        out.append(StackRow(label, row_height * i + 4, segments, x, text, muted))
    ticks = [(left + scale * highest * k / 4, f"{highest * k / 4:.2f}") for k in range(5)]
    height = row_height * len(rows) + 28
    return StackChart(width, height, left, row_height, out, ticks, list(colors.items()))


@dataclass(frozen=True, slots=True)
class Interval:
    label: str
    y: float
    low_x: float
    high_x: float
    mid_x: float
    color: str
    text: str


@dataclass(frozen=True, slots=True)
class IntervalChart:
    width: int
    height: int
    left: int
    zero_x: float
    rows: list[Interval]
    ticks: list[tuple[float, str]]


def interval_chart(
    rows: list[tuple[str, float, float, float, bool]], width: int = 900, row_height: int = 30
) -> IntervalChart:
    """One horizontal interval per row (label, estimate, low, high, significant), on a shared
    axis of relative lift with a line at zero; significant rows are drawn in colour."""
    left, right = 220, 20
    span = max([0.01, *(abs(v) for _, m, lo, hi, _ in rows for v in (m, lo, hi))])
    height = row_height * len(rows) + 30

    def x(value: float) -> float:
        return left + (width - left - right) * (value + span) / (2 * span)

    intervals = [
        Interval(
            label,
            row_height * i + row_height / 2,
            x(low),
            x(high),
            x(mid),
            PALETTE[1] if significant else PALETTE[6],
            f"{mid:+.1%} ({low:+.1%} to {high:+.1%})",
        )
        for i, (label, mid, low, high, significant) in enumerate(rows)
    ]
    ticks = [(x(span * k / 2), f"{span * k / 2:+.0%}") for k in range(-2, 3)]
    return IntervalChart(width, height, left, x(0.0), intervals, ticks)

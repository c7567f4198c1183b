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
    total: int


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
    days: list[str], series: dict[str, list[int]], width: int = 900, height: int = 220
) -> Chart:
    """One line per series over ``days`` (equal length lists), scaled to fit."""
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
            total=sum(values),
        )
        for i, (name, values) in enumerate(sorted(series.items()))
    ]
    ticks = [(y(top_value * k // 4), top_value * k // 4) for k in range(5)]
    every = max(len(days) // 6, 1)
    labels = [(left + j * step, day[5:]) for j, day in enumerate(days) if j % every == 0]
    return Chart(width, height, left, bottom, lines, ticks, labels)

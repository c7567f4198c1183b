from __future__ import annotations

from crosspromo.web.charts import line_chart


def test_ticks_are_whole_and_lines_fit() -> None:
    chart = line_chart(["2026-01-01", "2026-01-02", "2026-01-03"], {"b": [0, 3, 1], "a": [2, 2, 2]})
    assert [value for _, value in chart.y_ticks] == [0, 1, 2, 3, 4]
    assert [line.name for line in chart.lines] == ["a", "b"]
    assert [line.total for line in chart.lines] == [6, 4]
    for line in chart.lines:
        for point in line.points.split():
            x, y = map(float, point.split(","))
            assert chart.left <= x <= chart.width
            assert 0 <= y <= chart.bottom


def test_empty_chart() -> None:
    chart = line_chart(["2026-01-01"], {})
    assert chart.lines == []
    assert chart.y_ticks[-1][1] == 4

"""A line chart as SVG text, for the feedback page's recorded curves (a student's loss
against the reference's): axes with round ticks, a linear or log scale on each, a
legend. Written directly rather than drawn by matplotlib, which took 0.16 s of the
grader's time per page (docs/PERFORMANCE.md); the class report's few figures still are.

Every value a student chose is a number here (a gap where it is not finite); every text
is escaped. A chart whose values cannot be placed (1.7e308 and -1.7e308 on one axis) is
None, and the page goes without it.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

WIDTH, HEIGHT = 640, 360
LEFT, RIGHT, TOP, BOTTOM = 72, 16, 34, 48  # the plot area's margins
FONT = 'font-family="system-ui,sans-serif" font-size="12"'


@dataclass(frozen=True)
class Line:
    label: str
    values: list[float | None]
    color: str
    dashed: bool = False


@dataclass(frozen=True)
class Axis:
    """One axis: the values' range on it, linear or log, and where it is drawn."""

    low: float
    high: float
    log: bool
    start: float  # pixels where `low` is drawn
    end: float  # and where `high` is

    def at(self, value: float) -> float:
        if self.log:
            value, low, high = (math.log10(v) for v in (value, self.low, self.high))
        else:
            low, high = self.low, self.high
        return self.start + (value - low) / (high - low) * (self.end - self.start)

    def ticks(self) -> list[float]:
        if self.log:
            first, last = (
                math.floor(math.log10(self.low)),
                math.ceil(math.log10(self.high)),
            )
            step = max(1, math.ceil((last - first) / 6))
            return [
                10.0**e
                for e in range(first, last + 1, step)
                if self.low <= 10.0**e <= self.high
            ]
        return _round_ticks(self.low, self.high)


def svg(
    lines: list[Line], title: str, xlabel: str, ylabel: str, xlog: bool, ylog: bool
) -> str | None:
    """The chart, or None when no line has two finite values or they cannot be
    placed."""
    finite = [
        (i + 1, v)
        for line in lines
        for i, v in enumerate(line.values)
        if v is not None and math.isfinite(v) and (v > 0 or not ylog)
    ]
    if len(finite) < 2:
        return None
    xs, ys = [x for x, _ in finite], [y for _, y in finite]
    x = _axis(min(xs), max(xs), xlog, LEFT, WIDTH - RIGHT)
    y = _axis(min(ys), max(ys), ylog, HEIGHT - BOTTOM, TOP)
    if x is None or y is None:
        return None
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" {FONT}>',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        _text(WIDTH / 2, 20, title, 'text-anchor="middle" font-size="14"'),
        _text(WIDTH / 2, HEIGHT - 10, xlabel, 'text-anchor="middle"'),
        _text(
            16,
            HEIGHT / 2,
            ylabel,
            f'text-anchor="middle" transform="rotate(-90 16 {HEIGHT / 2})"',
        ),
    ]
    for tick in x.ticks():
        at = x.at(tick)
        parts.append(_grid(at, TOP, at, HEIGHT - BOTTOM))
        parts.append(
            _text(at, HEIGHT - BOTTOM + 16, _label(tick), 'text-anchor="middle"')
        )
    for tick in y.ticks():
        at = y.at(tick)
        parts.append(_grid(LEFT, at, WIDTH - RIGHT, at))
        parts.append(_text(LEFT - 6, at + 4, _label(tick), 'text-anchor="end"'))
    parts.append(
        f'<rect x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" '
        f'height="{HEIGHT - TOP - BOTTOM}" fill="none" stroke="#333"/>'
    )
    for line in lines:
        parts += _polylines(line, x, y, ylog)
    parts += _legend(lines)
    parts.append("</svg>")
    return "".join(parts)


def _axis(low: float, high: float, log: bool, start: float, end: float) -> Axis | None:
    if log:
        low, high = low / 1.5, high * 1.5
    elif low == high:
        low, high = low - max(1.0, abs(low)) / 2, high + max(1.0, abs(high)) / 2
    else:
        pad = (high - low) * 0.05
        low, high = low - pad, high + pad
    spans = (high - low, math.log10(high) - math.log10(low)) if log else (high - low,)
    if not all(math.isfinite(s) and s > 0 for s in spans):
        return None  # too far apart to place on one axis, or nothing between
    return Axis(low, high, log, start, end)


def _round_ticks(low: float, high: float) -> list[float]:
    """About five ticks at 1, 2 or 5 times a power of ten."""
    raw = (high - low) / 5
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(low / step)
    return [n * step for n in range(first, first + 12) if n * step <= high]


def _polylines(line: Line, x: Axis, y: Axis, ylog: bool) -> list[str]:
    """The line's runs of drawable values (a value that is not breaks it)."""
    runs: list[list[str]] = [[]]
    last_pixel = None
    for i, value in enumerate(line.values):
        if value is None or not math.isfinite(value) or (ylog and value <= 0):
            runs.append([])
            last_pixel = None
            continue
        point = (round(x.at(i + 1), 1), round(y.at(value), 1))
        if (
            last_pixel is None
            or max(abs(point[0] - last_pixel[0]), abs(point[1] - last_pixel[1])) >= 0.5
        ):  # many epochs within half a pixel: one point
            runs[-1].append(f"{point[0]},{point[1]}")
            last_pixel = point
    dash = ' stroke-dasharray="6 4"' if line.dashed else ""
    return [
        f'<polyline fill="none" stroke="{line.color}" stroke-width="1.6"{dash} '
        f'points="{" ".join(run)}"/>'
        for run in runs
        if len(run) >= 2
    ]


def _legend(lines: list[Line]) -> list[str]:
    parts = []
    for n, line in enumerate(lines):
        top = TOP + 10 + 18 * n
        dash = ' stroke-dasharray="6 4"' if line.dashed else ""
        left = WIDTH - RIGHT - 130
        parts.append(
            f'<line x1="{left}" y1="{top}" x2="{left + 24}" y2="{top}" '
            f'stroke="{line.color}" stroke-width="1.6"{dash}/>'
        )
        parts.append(_text(left + 30, top + 4, line.label, ""))
    return parts


def _grid(x1: float, y1: float, x2: float, y2: float) -> str:
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#ddd"/>'
    )


def _text(x: float, y: float, text: str, extra: str) -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" {extra}>{html.escape(text[:80])}</text>'


def _label(value: float) -> str:
    return f"{value:g}"

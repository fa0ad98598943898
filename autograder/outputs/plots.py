"""Figures embedded in HTML pages as data URIs: the class report's small matplotlib
figures as base64 PNG (the Agg renderer, no pyplot, no display), and the feedback page's
recorded curves against the reference as SVG (`line_chart`, written directly: one per
submission, where matplotlib's time counted).
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .line_chart import Line, svg

SIZE = (6.4, 3.6)  # inches; at 100 dpi a plot fits a page column
# text entries of an artifact that style its plot
STYLE_KEYS = ("title", "xlabel", "ylabel", "xscale", "yscale")
COLORS = {"reference": "#888888", "student": "#d9480f"}
# legend names of the usual series
LABELS = {"reference": "expected", "student": "your code"}


def data_uri(figure: Figure) -> str:
    """The figure as a `data:image/png;base64,...` URI for an <img src>."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode(
        "ascii"
    )


def series_of(artifact: dict) -> dict[str, list[float | None]]:
    """The numeric series of a recorded artifact (lists with at least two values), by
    name."""
    return {
        key: value
        for key, value in artifact.items()
        if isinstance(value, list) and len(value) >= 2 and key not in STYLE_KEYS
    }


def curves(name: str, artifact: dict) -> str | None:
    """A line chart of every series of an artifact (e.g. the student's loss curve and
    the reference's), as a `data:image/svg+xml` URI for an <img src>; None when there
    is none, or when the values cannot be drawn (the student chose them: 1.7e308,
    say)."""
    series = series_of(artifact)
    if not series:
        return None
    lines = [
        Line(
            LABELS.get(label, label),
            [_number(v) for v in values],
            COLORS.get(label, "#1971c2"),
            dashed=label == "reference",
        )
        for label, values in series.items()
    ]
    chart = svg(
        lines,
        str(artifact.get("title", name.replace("_", " "))),
        str(artifact.get("xlabel", "step")),
        str(artifact.get("ylabel", name.replace("_", " "))),
        xlog=artifact.get("xscale") == "log",
        ylog=artifact.get("yscale") == "log"
        and all(v > 0 for line in lines for v in line.values if v is not None),
    )
    if chart is None:
        return None
    encoded = base64.b64encode(chart.encode("utf-8")).decode("ascii")
    return "data:image/svg+xml;base64," + encoded


def _number(value) -> float | None:
    """A recorded value as a float; None (a gap) for what is not one."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return float(value)
    except OverflowError:  # an int past any float
        return None


def histogram(values: Sequence[float], maximum: float, title: str, xlabel: str) -> str:
    """A histogram of scores from 0 to `maximum`, one bin per point (at most 20
    bins)."""
    figure = Figure(figsize=SIZE)
    axes = figure.subplots()
    bins = max(1, min(20, math.ceil(maximum))) if maximum > 0 else 1
    axes.hist(
        list(values),
        bins=bins,
        range=(0, max(maximum, 1e-9)),
        color="#4263eb",
        edgecolor="white",
    )
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.set_ylabel("submissions")
    locator = axes.yaxis.get_major_locator()
    if isinstance(locator, MaxNLocator):  # the default AutoLocator is one
        locator.set_params(integer=True)
    return data_uri(figure)


def bars(
    labels: Sequence[str],
    values: Sequence[float],
    title: str,
    ylabel: str,
    top: float = 1.0,
) -> str:
    """A bar chart of one value per label (e.g. the pass rate of each part, 0..1)."""
    figure = Figure(figsize=SIZE)
    axes = figure.subplots()
    axes.bar(list(labels), list(values), color="#2f9e44")
    axes.set_ylim(0, top)
    axes.set_title(title)
    axes.set_ylabel(ylabel)
    axes.tick_params(axis="x", labelrotation=20)
    return data_uri(figure)

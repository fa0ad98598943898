"""Small matplotlib figures embedded in HTML pages as base64 PNG (the Agg renderer, no
pyplot, no display).

Used by the student feedback (a recorded curve against the reference) and the class
report.
"""

from __future__ import annotations

import base64
import io
import math
import warnings
from collections.abc import Sequence

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

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
    """A line plot of every series of an artifact (e.g. the student's loss curve and the
    reference's); None when there is none, or when the values cannot be drawn (the
    student chose them: 1.7e308, say)."""
    series = series_of(artifact)
    if not series:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _curves(name, artifact, series)
    except (ValueError, OverflowError, ArithmeticError, RuntimeError, MemoryError):
        return None


def _curves(name: str, artifact: dict, series: dict[str, list[float | None]]) -> str:
    figure = Figure(figsize=SIZE)
    axes = figure.subplots()
    finite_positive = True
    for label, values in series.items():
        ys = [math.nan if v is None else float(v) for v in values]
        finite_positive &= all(y > 0 for y in ys if not math.isnan(y))
        axes.plot(
            range(1, len(ys) + 1),
            ys,
            label=LABELS.get(label, label),
            color=COLORS.get(label),
            linestyle="--" if label == "reference" else "-",
            linewidth=1.6,
        )
    axes.set_title(str(artifact.get("title", name.replace("_", " "))))
    axes.set_xlabel(str(artifact.get("xlabel", "step")))
    axes.set_ylabel(str(artifact.get("ylabel", name.replace("_", " "))))
    if artifact.get("xscale") in ("linear", "log"):
        axes.set_xscale(artifact["xscale"])
    if artifact.get("yscale") == "log" and finite_positive:
        axes.set_yscale("log")
    axes.grid(alpha=0.3)
    axes.legend()
    return data_uri(figure)


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

"""The feedback page's line chart as SVG: what it draws of the values a student's code chose (gaps
for what is not finite, nothing for what cannot be placed), on linear and log axes, with every text
escaped."""

from __future__ import annotations

import math
from xml.etree import ElementTree

import pytest

from autograder.outputs.line_chart import Line, svg

SVG = "{http://www.w3.org/2000/svg}"


def chart(lines, xlog=False, ylog=False, title="loss"):
    text = svg(lines, title, "epoch", "error", xlog, ylog)
    return text, (ElementTree.fromstring(text) if text else None)


def test_each_line_is_drawn_with_its_legend_and_round_ticks():
    _, tree = chart([Line("your code", [3.0, 2.0, 1.5, 1.2], "#d9480f"),
                     Line("expected", [3.0, 1.0, 0.5, 0.25], "#888888", dashed=True)])
    polylines = tree.findall(f"{SVG}polyline")
    assert [p.get("stroke") for p in polylines] == ["#d9480f", "#888888"]
    assert polylines[1].get("stroke-dasharray") and not polylines[0].get("stroke-dasharray")
    assert all(len(p.get("points").split()) == 4 for p in polylines)
    texts = [t.text for t in tree.iter(f"{SVG}text")]
    assert {"loss", "epoch", "error", "your code", "expected"} <= set(texts)
    assert {"1", "2", "3"} <= set(texts)  # ticks at round values


def test_a_log_axis_has_its_decades_and_leaves_out_what_it_cannot_show():
    values = [10.0 / (i + 1) for i in range(1000)]
    values[10] = -1.0  # no place on a log axis: a gap
    _, tree = chart([Line("your code", values, "#d9480f")], xlog=True, ylog=True)
    texts = [t.text for t in tree.iter(f"{SVG}text")]
    assert {"1", "10", "100", "1000"} <= set(texts)
    runs = tree.findall(f"{SVG}polyline")
    assert len(runs) == 2  # before and after the gap
    xs = [float(point.split(",")[0]) for run in runs for point in run.get("points").split()]
    assert len(xs) < 700 and xs == sorted(xs)  # many epochs on one pixel are one point


@pytest.mark.parametrize("values", [
    [1.7e308, -1.7e308, 1.7e308],  # no axis holds both
    [math.nan, math.inf, None],  # nothing to draw
    [5.0],  # one point is no line
])
def test_values_no_chart_can_place_give_none(values):
    assert chart([Line("your code", values, "#d9480f")])[0] is None


def test_gaps_and_flat_lines_are_drawn():
    _, tree = chart([Line("your code", [1.0, 1.0, None, 1.0, 1.0, math.nan], "#d9480f")])
    assert len(tree.findall(f"{SVG}polyline")) == 2


def test_every_text_is_escaped():
    text, tree = chart([Line("<b>x</b>", [1.0, 2.0], "#d9480f")], title='</svg><script>alert(1)</script>')
    assert "<script>" not in text and "<b>" not in text
    assert tree.find(f"{SVG}text").text == "</svg><script>alert(1)</script>"[:80]

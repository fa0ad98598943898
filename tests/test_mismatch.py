"""The failure a student reads and how values are shown in it."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.mismatch import Mismatch, call_text, show


@pytest.mark.parametrize("value, text", [
    (9.0, "9.0"), (100000.0, "100000.0"), (1e-7, "1e-07"), (1 / 3, "0.333333"),
    (float("inf"), "inf"), (float("nan"), "nan"), (np.float32(2.5), "2.5"), (3, "3"),
    (np.array(2.0), "2.0"), (np.array([1.0, 4.0]), "np.array([1., 4.])"),
    (np.arange(20.0), "an array of shape (20,)"), ((1.0,), "(1.0,)"), ((1.0, 2), "(1.0, 2)"),
    ("abc", "'abc'"), ([1, 2], "[1, 2]"), (None, "None"),
])
def test_show(value, text):
    assert show(value) == text


def test_show_cuts_long_text():
    text = show("x" * 500)
    assert len(text) == 80 and text.endswith("...")


def test_call_text_reads_like_the_call():
    assert call_text("square", 3.0) == "square(3.0)"
    assert call_text("update", np.array([1.0, 2.0]), 0.5, eta=np.zeros((5, 5))) == \
        "update(np.array([1., 2.]), 0.5, eta=an array of shape (5, 5))"
    assert call_text("nothing") == "nothing()"


def test_mismatch_is_an_assertion_error():
    assert issubclass(Mismatch, AssertionError)


def test_show_never_renders_a_huge_value_whole():
    value = [[0] * 100_000] * 300  # 60 MB as text
    text = show(value)
    assert len(text) <= 80 and text.startswith("[[0, 0, 0")
    assert len(show("'" * 10_000_000)) <= 80 and len(show(10 ** 4000)) <= 80

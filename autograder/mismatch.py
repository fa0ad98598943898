"""The failure a student reads, and how values are shown in it.

A `Mismatch` is an AssertionError whose message is the student's feedback: what was
called, what came back and what was expected, each shown short (`show`, `call_text`),
never a huge value whole. The comparisons of hidden suites raise it, and so does the
session when a call's answer cannot be one.
"""

from __future__ import annotations

import reprlib
from typing import Any

import numpy as np

_SHORT = reprlib.Repr()
_SHORT.maxlist = _SHORT.maxtuple = 8
_SHORT.maxlevel = 3
_SHORT.maxstring = _SHORT.maxother = 90
_SHORT.maxlong = 40


class Mismatch(AssertionError):
    """A student's value is not the expected one; the message is the student's
    feedback."""


def show(value: Any) -> str:
    """A short, readable rendering of a value for feedback."""
    if isinstance(value, np.ndarray):
        if value.size > 12:
            return f"an array of shape {value.shape}"
        body = np.array2string(
            value, precision=6, separator=", ", suppress_small=False
        ).replace("\n", "")
        return f"np.array({body})" if value.ndim else f"{value.item()!r}"
    if isinstance(value, (float, np.floating)):
        text = f"{float(value):.6g}"
        return text if any(c in text for c in ".einf") else text + ".0"
    if isinstance(value, tuple) and len(value) <= 4:
        return (
            "("
            + ", ".join(show(v) for v in value)
            + ("," if len(value) == 1 else "")
            + ")"
        )
    text = _SHORT.repr(value)  # never the whole repr of a value a student made huge
    return text if len(text) <= 80 else text[:77] + "..."


def call_text(name: str, *args: Any, **kwargs: Any) -> str:
    inside = [show(a) for a in args] + [f"{k}={show(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(inside)})"

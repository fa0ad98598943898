"""Comparisons for hidden tests (the `check` fixture), done in the grader on plain data.

Each failure is a `Mismatch` (`mismatch.py`) whose message is the feedback a student
reads: what was called, what came back and what was expected, on one small input, in one
or two lines.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..course.config import Tolerance
from ..mismatch import Mismatch, show
from ..running.protocol import Unsupported


def numeric(got: Any, call: str) -> np.ndarray:
    """The student's value as a numeric array, or a Mismatch saying why it is not
    one."""
    if got is None:
        raise Mismatch(f"{call} returned None; did you forget the `return` statement?")
    if isinstance(got, Unsupported):
        raise Mismatch(
            f"{call} returned {got.description}, not a number or a numpy array"
        )
    if isinstance(got, str):
        raise Mismatch(f"{call} returned the text {show(got)}, not a number")
    try:
        array = np.asarray(got)
    except (ValueError, TypeError):
        raise Mismatch(
            f"{call} returned {show(got)}, which is not a regular array of numbers"
        ) from None
    if array.dtype.kind not in "biuf":
        raise Mismatch(
            f"{call} returned {show(got)}, which is not a real number or array of real "
            "numbers"
        )
    return array


def named_arrays(
    got: Any, shapes: dict[str, tuple[int, ...]], call: str
) -> dict[str, np.ndarray]:
    """A returned tuple (or list) of several results as float arrays by name, each of
    its shape in `shapes` (in the order returned), or a Mismatch naming the first that
    is not."""
    if not (isinstance(got, (tuple, list)) and len(got) == len(shapes)):
        raise Mismatch(f"{call} returned {show(got)}, not ({', '.join(shapes)})")
    arrays = {}
    for (name, shape), value in zip(shapes.items(), got):
        try:
            array = numeric(value, call)
        except Mismatch:
            kind = "a number" if shape == () else "an array of numbers"
            raise Mismatch(
                f"{call} returned {name} {show(value)}, not {kind}"
            ) from None
        if array.shape != shape:
            raise Mismatch(
                f"{call} returned {name} of shape {array.shape}, expected {shape}"
            )
        arrays[name] = array.astype(float)
    return arrays


class Checker:
    """The `check` fixture: numeric comparisons with the assignment's tolerances."""

    def __init__(self, tolerance: Tolerance):
        self.tolerance = tolerance

    def close(
        self,
        got: Any,
        expected: Any,
        call: str,
        rtol: float | None = None,
        atol: float | None = None,
    ) -> np.ndarray:
        """Pass when `got` has `expected`'s shape and values (within tolerance); return
        it as an array."""
        array = numeric(got, call)
        want = np.asarray(expected)
        if array.shape != want.shape:
            raise Mismatch(f"{call} returned {_shape(array)}, expected {_shape(want)}")
        rtol = self.tolerance.rtol if rtol is None else rtol
        atol = self.tolerance.atol if atol is None else atol
        good = elementwise_close(array, want, rtol, atol)
        if not np.all(good):
            close = near_miss(array, want, good, rtol)
            if want.ndim and want.size > 12:
                index = tuple(int(i) for i in np.argwhere(~good)[0])
                raise Mismatch(
                    f"{call}: at index {index} got {show(array[index])}, "
                    f"expected {show(want[index])}{close}"
                )
            raise Mismatch(
                f"{call} returned {show(array if array.ndim else array.item())}, "
                f"expected {show(want if want.ndim else want.item())}{close}"
            )
        return array

    def first_difference(self, got: np.ndarray, expected: np.ndarray) -> int | None:
        """Flat index of the first value of `got` not close to `expected` (same shapes),
        or None."""
        with np.errstate(all="ignore"):
            good = np.isclose(
                got, expected, rtol=self.tolerance.rtol, atol=self.tolerance.atol
            )
        return None if good.all() else int(np.flatnonzero(~good)[0])

    def true(self, condition: bool, message: str) -> None:
        if not condition:
            raise Mismatch(message)


# a value off by less than this (relatively) is close: the feedback says how close
NEAR = 1e-3


def near_miss(got: np.ndarray, want: np.ndarray, good: np.ndarray, rtol: float) -> str:
    """A second line for a mismatch whose wrong values are all within NEAR of the
    expected ones: how far off they are and what commonly causes it; '' otherwise."""
    with np.errstate(all="ignore"):
        wrong_got, wrong_want = got.astype(float)[~good], want.astype(float)[~good]
        relative = np.abs(wrong_got - wrong_want) / np.maximum(
            np.abs(wrong_want), np.finfo(float).tiny
        )
    if not relative.size or not np.all(np.isfinite(relative)) or relative.max() >= NEAR:
        return ""
    return (
        f"\nThat is close: off by a relative {relative.max():.1e}, where the tolerance "
        f"is {rtol:g}. A small constant added to avoid log(0) or a division by zero, "
        "or clipping, commonly causes a difference this small: compute the formula "
        "itself"
    )


def _shape(array: np.ndarray) -> str:
    return "a single number" if array.ndim == 0 else f"an array of shape {array.shape}"


def elementwise_close(
    array: np.ndarray, want: np.ndarray, rtol: float, atol: float
) -> np.ndarray:
    """Which elements of `array` are close to `want` (nan where nan is expected)."""
    with np.errstate(all="ignore"):
        return np.isclose(
            array.astype(float),
            want.astype(float),
            rtol=rtol,
            atol=atol,
            equal_nan=True,
        )

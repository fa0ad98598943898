"""Fixtures shared by the gradient-descent hidden tests: comparisons with the reference, the points
of the release, and a probe that tells whether a student's function changed its arguments.

Every comparison is made in the grader on plain data. When a call on a whole array goes wrong, the
feedback repeats the call on the first wrong element (or point), so the student reads one small
input with its expected and actual value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from autograder.checks import Mismatch, call_text, numeric, show
from autograder.errors import AutograderError
from autograder.misconceptions import Catalogue

# Public helper run in the student's namespace: it calls one of the notebook's functions and sends
# back the arguments as they are afterwards. It holds nothing secret; the grader compares.
PROBE = "autograder_call_keeping_inputs"
PROBE_SOURCE = f'''
def {PROBE}(name, *args):
    result = globals()[name](*args)
    return result, args
'''


@dataclass
class Compare:
    """Calls a student's function and the reference's with the same arguments and compares them."""

    student: Any
    reference: Any
    check: Any
    misconceptions: Catalogue = field(default_factory=Catalogue)  # known mistakes, named in the feedback

    def __call__(self, name: str, *args: Any, rows: bool = False) -> np.ndarray:
        """Compare name(*args); `rows`: on a mismatch, retry row by row (a batch of points) instead of element by element."""
        expected = getattr(self.reference, name)(*args)
        got = self.student.call(name, *args)
        try:
            return self.check.close(got, expected, call_text(name, *args))
        except Mismatch:
            tolerance = self.check.tolerance
            with self.misconceptions.diagnosing(name, args, got, expected, tolerance.rtol, tolerance.atol):
                self._first_wrong_one(name, args, got, expected, rows)
                raise

    def _first_wrong_one(self, name: str, args: tuple, got: Any, expected: Any, rows: bool) -> None:
        """Raise the Mismatch of the call on the first wrong element or point, if that call is wrong too."""
        want = np.asarray(expected)
        try:
            array = numeric(got, name)
        except Mismatch:
            return
        if want.size < 2 or array.shape != want.shape:
            return
        tol = self.check.tolerance
        with np.errstate(all="ignore"):
            good = np.isclose(array.astype(float), want.astype(float), rtol=tol.rtol, atol=tol.atol, equal_nan=True)
        index = tuple(np.argwhere(~good)[0])
        if rows:  # the first argument is the batch of points; the others stay as they are
            single = (np.asarray(args[0])[index[0]], *args[1:])
        else:
            single = tuple(arg if np.ndim(arg) == 0 else np.broadcast_to(arg, want.shape)[index] for arg in args)
        try:
            value = self.student.call(name, *single)
        except AutograderError:
            return  # the message about the whole array stays the feedback
        self.check.close(value, getattr(self.reference, name)(*single), call_text(name, *single))


@pytest.fixture
def compare(student, reference, check, misconceptions) -> Compare:
    return Compare(student, reference, check, misconceptions)


@pytest.fixture
def call_keeping_inputs(student):
    """call_keeping_inputs(name, *args) -> (result, args afterwards), from the student's notebook."""
    student.exec(PROBE_SOURCE)

    def call(name: str, *args: Any):
        value = student.call(PROBE, name, *args)
        if not (isinstance(value, tuple) and len(value) == 2):
            raise Mismatch(f"{call_text(name, *args)} could not be checked for changed arguments")
        return value

    return call


@pytest.fixture
def unchanged():
    """unchanged(name, before, after, names): a Mismatch naming the first argument a call changed in place."""
    return assert_unchanged


def assert_unchanged(name: str, before: tuple, after: tuple, names: tuple[str, ...]) -> None:
    for label, old, new in zip(names, before, after):
        if np.shape(old) != np.shape(new) or not np.array_equal(np.asarray(old), np.asarray(new)):
            raise Mismatch(f"{call_text(name, *before)} changed its argument `{label}` from {show(old)} "
                           f"to {show(new)}; compute new values instead of changing the ones passed in (no `+=`)")


@pytest.fixture
def points(reference, assignment, settings, memo) -> tuple[np.ndarray, np.ndarray]:
    """(features, targets) of the released data file, read in the grader once per batch."""
    if "points" not in memo:
        memo["points"] = reference.load_data(assignment.release_dir / settings["data"])
    return memo["points"]

"""Fixtures shared by the student-admissions hidden tests: comparisons with the reference and the training data.

Every comparison is made in the grader on plain data. When a batched call on many values goes
wrong, the feedback repeats the call on the first wrong element, so the student reads one small
input with its expected and actual value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from autograder.checks import Mismatch, call_text, numeric, show
from autograder.errors import AutograderError, NotPlainData, StudentError
from autograder.misconceptions import Catalogue, inputs_after
from autograder.session import MissingFunction

# float32 keeps about 7 significant digits, and formulas that subtract from 1 (tanh form, 1 - s)
# lose some of them near 0: calls with a float32 argument get these tolerances.
FLOAT32_TOLERANCE = (1e-5, 1e-6)


@dataclass
class Compare:
    """The `compare` fixture: call the student's function once on a batch of inputs, compare with the reference."""

    student: Any
    reference: Any
    check: Any
    misconceptions: Catalogue = field(default_factory=Catalogue)  # known mistakes, named in the feedback

    def __call__(self, name: str, *args: Any, per_element: bool = True) -> None:
        """Mismatch or the student's error on a wrong call; with `per_element`, told on the first wrong element."""
        expected = getattr(self.reference, name)(*args)
        try:
            got = self.student.call(name, *args)
        except (StudentError, NotPlainData) as error:
            if per_element and not isinstance(error, MissingFunction):
                self._call_on_element(name, args, 0)  # raises its own, smaller, error if it has one
            raise
        try:
            self._close(name, args, got, expected)
        except Mismatch:
            with self.misconceptions.diagnosing(name, args, got, expected, *self._tolerance(args),
                                                after=lambda: inputs_after(self.student, name, args)):
                index = self._first_wrong(args, got, expected) if per_element else None
                element = None if index is None else self._call_on_element(name, args, index)
                if element is not None:
                    value, single = element
                    self._close(name, single, value, getattr(self.reference, name)(*single))
                raise  # that element is right on its own (or was not tried): the batched message stays

    def _close(self, name: str, args: tuple, got: Any, expected: Any) -> None:
        rtol, atol = self._tolerance(args)
        text = call_text(name, *(Spelled(f"np.float32({show(float(a))})") if isinstance(a, np.float32) else a
                                 for a in args))
        self.check.close(got, expected, text, rtol=rtol, atol=atol)

    def _tolerance(self, args: tuple) -> tuple[float, float]:
        if any(np.asarray(arg).dtype == np.float32 for arg in args):
            return FLOAT32_TOLERANCE
        return self.check.tolerance.rtol, self.check.tolerance.atol

    def _first_wrong(self, args: tuple, got: Any, expected: Any) -> int | None:
        """Flat index of the first element not close to the reference, when `got` is an array of the right shape."""
        want = np.asarray(expected)
        try:
            array = numeric(got, "")
        except Mismatch:
            return None
        if want.size < 2 or array.shape != want.shape:
            return None
        rtol, atol = self._tolerance(args)
        with np.errstate(all="ignore"):
            good = np.isclose(array.astype(float), want.astype(float), rtol=rtol, atol=atol, equal_nan=True)
        wrong = np.flatnonzero(~good.ravel())
        return int(wrong[0]) if wrong.size else None

    def _call_on_element(self, name: str, args: tuple, index: int) -> tuple[Any, tuple] | None:
        """(value, arguments) of the call on element `index` of the array arguments; the student's error
        if that call raises one; None if there are no array arguments or the call timed out or crashed."""
        if all(np.ndim(arg) == 0 for arg in args):
            return None
        shape = np.broadcast_shapes(*(np.shape(arg) for arg in args))
        single = tuple(arg if np.ndim(arg) == 0 else np.broadcast_to(arg, shape).flat[index] for arg in args)
        try:
            return self.student.call(name, *single), single
        except (StudentError, NotPlainData) as error:
            raise error from None
        except AutograderError:
            return None


class Spelled:
    """A value shown in feedback by its Python spelling, e.g. np.float32(-8.0), so a student can repeat the call."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


def pytest_collection_modifyitems(items) -> None:
    """The training runs last, so that its timeout or crash cannot cost the function parts."""
    items.sort(key=lambda item: item.path.name == "test_training.py")


@pytest.fixture
def compare(student, reference, check, misconceptions) -> Compare:
    return Compare(student, reference, check, misconceptions)


@dataclass(frozen=True)
class Prepared:
    """The released data set split as the lesson does: training and test features and targets."""

    features: np.ndarray
    targets: np.ndarray
    features_test: np.ndarray
    targets_test: np.ndarray


@pytest.fixture
def prepared(reference, assignment, settings, memo) -> Prepared:
    """Read and split in the grader, once per batch."""
    if "prepared" not in memo:
        data = reference.load_data(assignment.release_dir / settings["data"])
        memo["prepared"] = Prepared(*reference.prepare_data(data))
    return memo["prepared"]

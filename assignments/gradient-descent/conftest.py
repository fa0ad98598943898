"""Fixtures shared by the gradient-descent hidden tests: comparisons with the reference, the points
of the release, and a check that a student's function left its arguments as they were.

Comparisons use the engine's `compare` fixture (autograder/suite/compare.py): when a call on a whole
array goes wrong, the feedback repeats the call on the first wrong element (or point, `rows=True`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from autograder.authoring import Mismatch, call_text, show


@pytest.fixture(scope="session")
def compare(compare):
    """The engine's `compare`; a student's error is told on the call as made, not on one element."""
    return dataclasses.replace(compare, element_errors=False)


@pytest.fixture
def unchanged():
    """unchanged(name, before, after, names): a Mismatch naming the first argument a call changed in place."""
    return assert_unchanged


def assert_unchanged(name: str, before: tuple, after: tuple, names: tuple[str, ...]) -> None:
    for label, old, new in zip(names, before, after):
        if np.shape(old) != np.shape(new) or not np.array_equal(np.asarray(old), np.asarray(new)):
            raise Mismatch(f"{call_text(name, *before)} changed its argument `{label}` from {show(old)} "
                           f"to {show(new)}; compute new values instead of changing the ones passed in (no `+=`)")


@pytest.fixture(scope="session")
def points(reference, assignment, settings, memo) -> tuple[np.ndarray, np.ndarray]:
    """(features, targets) of the released data file, read in the grader once per batch."""
    if "points" not in memo:
        memo["points"] = reference.load_data(assignment.release_dir / settings["data"])
    return memo["points"]

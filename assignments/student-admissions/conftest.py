"""Fixtures shared by the student-admissions hidden tests: the training data.

Comparisons with the reference use the engine's `compare` fixture (autograder/suite/compare.py): a
batched call that goes wrong is told on its first wrong element, and a student's error too.
The engine decides the order of the parts (the training first, then each function's part before
those in which it stands in for the reference: autograder/suite/dependencies.py), so the suite does
not sort its tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest


@dataclass(frozen=True)
class Prepared:
    """The released data set split as the lesson does: training and test features and targets."""

    features: np.ndarray
    targets: np.ndarray
    features_test: np.ndarray
    targets_test: np.ndarray


@pytest.fixture(scope="session")
def prepared(reference, assignment, settings, memo, cached) -> Prepared:
    """Read and split in the grader once per course (`cached` keys it by the data file's content)."""
    if "prepared" not in memo:
        memo["prepared"] = Prepared(*cached(reference.training_data, assignment.release_dir / settings["data"]))
    return memo["prepared"]

"""Hidden tests of the whole training: the lesson's provided `train` run with the student's four functions.

The provided procedure is taken from the master (so an edited copy in the submission does not
count) and run once per submission in the worker, on the released points read here in the grader.
The reference run is done once per course (the `cached` fixture). Final weights and bias and the loss curve are compared
closely (most of the points); the accuracy and a falling loss are worth less.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from autograder.authoring import (Mismatch, NotPlainData, StudentError, WorkerCrashed, WorkerTimeout, call_text,
                                  named_arrays, show)

RESULTS = ("weights", "bias", "losses", "accuracies")


@dataclass
class Run:
    """What one training run gave: (weights, bias, losses, accuracies), or the error it stopped with."""

    call: str
    value: Any = None
    error: Exception | None = None

    def results(self, n_features: int, epochs: int) -> dict[str, np.ndarray]:
        """The four results as float arrays of the right shapes, or the student's error / a Mismatch."""
        if self.error is not None:
            raise self.error
        shapes = dict(zip(RESULTS, ((n_features,), (), (epochs,), (epochs,))))
        return named_arrays(self.value, shapes, self.call)


def arguments(points, settings) -> tuple:
    return (*points, settings["epochs"], settings["learnrate"], settings["seed"])


@pytest.fixture(scope="session")  # one pytest session is one submission: one run, dropped with it
def training(student, master, points, settings) -> Run:
    """The student's training run, once per submission (its error too, told by every test)."""
    args = arguments(points, settings)
    run = Run(call_text("train", *args))
    try:
        student.exec(master["train"])
        run.value = student.call("train", *args, timeout=settings["training_timeout"])
    except (StudentError, NotPlainData, WorkerTimeout, WorkerCrashed) as error:
        run.error = error
    return run


@pytest.fixture
def trained(training, points, settings) -> dict[str, np.ndarray]:
    """The student's training results, or the error the run stopped with."""
    return training.results(points[0].shape[1], settings["epochs"])


@pytest.fixture
def expected(reference, points, settings, cached) -> dict[str, np.ndarray]:
    """The reference's training results, computed once per course (kept on disk by `cached`)."""
    return dict(zip(RESULTS, cached(reference.train, *arguments(points, settings))))


@pytest.mark.points(1.25)
def test_final_weights_and_bias(trained, expected, check):
    """training with your functions ends at the expected weights and bias"""
    for name in ("weights", "bias"):
        got, want = trained[name], np.asarray(expected[name], dtype=float)
        check.true(check.first_difference(np.atleast_1d(got), np.atleast_1d(want)) is None,
                   f"after training, the {name} {'are' if name == 'weights' else 'is'} {show(got[()])}, "
                   f"expected {show(want[()])}")


@pytest.mark.points(1.25)
@pytest.mark.tolerance(rtol=1e-4, atol=1e-5)  # the losses come from error_formula: as its own tests, an eps may guard it
def test_loss_curve(trained, expected, check):
    """the mean log-loss after every epoch is the expected one"""
    got, want = trained["losses"], expected["losses"]
    epoch = check.first_difference(got, want)
    if epoch is not None:
        raise Mismatch(f"the mean log-loss after epoch {epoch + 1} is {show(got[epoch])}, expected {show(want[epoch])}")


@pytest.mark.points(0.75)
def test_accuracy(trained, expected, settings, check):
    """the share of points on the right side of the line is close to the expected one in every epoch"""
    got, want = trained["accuracies"], expected["accuracies"]
    margin = settings["accuracy_margin"]
    far = np.flatnonzero(np.abs(got - want) > margin + 1e-12)
    if far.size:
        epoch = int(far[0])
        raise Mismatch(f"after epoch {epoch + 1} the accuracy is {got[epoch]:.3f}, expected {want[epoch]:.3f} "
                       f"(within {margin:g})")


@pytest.mark.visible
@pytest.mark.points(0.75)
def test_loss_decreases(trained, settings, check):
    """the mean log-loss goes down from the first epoch to the last"""
    losses = trained["losses"]
    bad = np.flatnonzero(~np.isfinite(losses))
    if bad.size:
        raise Mismatch(f"the mean log-loss after epoch {bad[0] + 1} is {show(losses[bad[0]])}, not a number")
    check.true(losses[-1] < losses[0], f"the mean log-loss went from {losses[0]:.4f} after epoch 1 "
               f"to {losses[-1]:.4f} after epoch {settings['epochs']}; it should go down")

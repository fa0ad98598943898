"""Hidden tests of the whole training: the lesson's `train_network` run with the student's four functions.

The provided procedure is taken from the master (so an edited copy in the submission does not
count) and run once per submission in the worker, on data prepared here in the grader. The
reference run is done once per course (`cached`). Weights and loss curve are compared closely (most of the
points); accuracy and a falling loss are sanity checks worth less.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from autograder.authoring import (Mismatch, NotPlainData, StudentError, WorkerCrashed, WorkerTimeout, call_text,
                                  named_arrays, show)


@dataclass
class Run:
    """What one training run gave: the (weights, losses) pair, or the error it stopped with."""

    call: str
    n_features: int
    epochs: int
    value: Any = None
    error: Exception | None = None

    def pair(self) -> tuple[np.ndarray, np.ndarray]:
        """(weights, losses) as float arrays of the right shapes; else the student's error or a Mismatch."""
        if self.error is not None:
            raise self.error
        arrays = named_arrays(self.value, {"weights": (self.n_features,), "losses": (self.epochs,)}, self.call)
        return arrays["weights"], arrays["losses"]


def arguments(prepared, settings) -> tuple:
    return prepared.features, prepared.targets, settings["epochs"], settings["learnrate"], settings["seed"]


@pytest.fixture(scope="session")  # one pytest session is one submission: one run, dropped with it
def training(student, master, prepared, settings) -> Run:
    """The student's training run, once per submission; each test reads it with `pair()`, so an
    error of the run fails every training test with the same message."""
    args = arguments(prepared, settings)
    run = Run(call_text("train_network", *args), prepared.features.shape[1], settings["epochs"])
    try:
        student.exec(master["train_network"])
        run.value = student.call("train_network", *args, timeout=settings["training_timeout"])
    except (StudentError, NotPlainData, WorkerTimeout, WorkerCrashed) as error:
        run.error = error
    return run


@pytest.fixture
def expected(reference, prepared, settings, cached) -> tuple[np.ndarray, np.ndarray]:
    """The reference's (weights, losses), trained once per course (kept on disk by `cached`)."""
    return cached(reference.train_network, *arguments(prepared, settings))


@pytest.mark.points(1.5)
def test_final_weights(training, expected, check):
    """training with your functions ends at the expected weights"""
    got, want = training.pair()[0], expected[0]
    check.true(check.first_difference(got, want) is None,
               f"after training, the weights are {show(got)}, expected {show(want)}")


@pytest.mark.points(1.5)
def test_loss_curve(training, expected, check, record):
    """the training loss after every epoch is the expected one"""
    got, want = training.pair()[1], expected[1]
    record("loss_curve", student=got, reference=want, title="training loss", xlabel="epoch",
           ylabel="mean squared error (training set)", xscale="log")  # plotted in the feedback page
    epoch = check.first_difference(got, want)
    if epoch is not None:
        raise Mismatch(f"the training loss after epoch {epoch + 1} is {show(got[epoch])}, expected {show(want[epoch])}")


@pytest.mark.points(0.5)
def test_accuracy(training, expected, reference, prepared, settings, check):
    """the trained network's test accuracy is close to the expected one"""
    weights = training.pair()[0]
    with np.errstate(all="ignore"):  # weights may be inf or nan after a diverging run
        got = reference.accuracy(prepared.features_test, prepared.targets_test, weights)
    want = reference.accuracy(prepared.features_test, prepared.targets_test, expected[0])
    margin = settings["accuracy_margin"]
    check.true(abs(got - want) <= margin, f"with the weights from training, the accuracy on the "
               f"{len(prepared.targets_test)} test records is {got:.3f}, expected {want:.3f} (within {margin:g})")


@pytest.mark.visible
@pytest.mark.points(0.5)
def test_loss_decreases(training, settings, check):
    """the training loss goes down from the first epoch to the last"""
    losses = training.pair()[1]
    bad = np.flatnonzero(~np.isfinite(losses))
    if bad.size:
        raise Mismatch(f"the training loss after epoch {bad[0] + 1} is {show(losses[bad[0]])}, not a number")
    check.true(losses[-1] < losses[0], f"the training loss went from {losses[0]:.4f} after epoch 1 "
               f"to {losses[-1]:.4f} after epoch {settings['epochs']}; it should go down")

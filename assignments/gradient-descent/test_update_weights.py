"""Hidden tests of `update_weights(x, y, weights, bias, learnrate)`: one gradient descent step, returning
the pair (new_weights, new_bias) with w_i + alpha (y - y_hat) x_i and b + alpha (y - y_hat), both from
the prediction y_hat made before the step.

It uses the student's `output_formula`; when that is what is wrong, the feedback says so.
"""

from pathlib import Path

import numpy as np
import pytest

from autograder.authoring import AutograderError, Mismatch, call_text, load_catalogue, numeric, show

X = np.array([0.5, -1.0])
WEIGHTS = np.array([0.2, 0.4])
KNOWN_MISTAKES = load_catalogue(Path(__file__).parent)  # misconceptions.py beside this file


def step(student, reference, check, *args):
    """Compare update_weights(*args) with the reference; a known mistake is named in the feedback."""
    got = student.update_weights(*args)
    expected = reference.update_weights(*args)
    with KNOWN_MISTAKES.diagnosing("update_weights", args, got, expected, check.tolerance.rtol, check.tolerance.atol):
        compare_step(student, reference, check, got, *args)


def compare_step(student, reference, check, got, *args):
    """Compare the value `got` of update_weights(*args) with the reference: a pair, in order, with the right values."""
    call = call_text("update_weights", *args)
    want_weights, want_bias = reference.update_weights(*args)
    n = np.shape(want_weights)[0]
    if not (isinstance(got, (tuple, list)) and len(got) == 2):
        raise Mismatch(f"{call} returned {show(got)}; return the pair (new_weights, new_bias)")
    got_weights, got_bias = got
    if np.ndim(got_weights) == 0 and np.shape(got_bias) == (n,):
        raise Mismatch(f"{call} returned (new_bias, new_weights); return them in the order (new_weights, new_bias)")
    try:
        check.close(got_weights, want_weights, f"{call}[0] (the new weights)")
        check.close(got_bias, want_bias, f"{call}[1] (the new bias)")
    except Mismatch as mismatch:
        raise Mismatch(f"{mismatch}{prediction_hint(student, reference, check, *args[:1], *args[2:4])}") from None


def prediction_hint(student, reference, check, x, weights, bias) -> str:
    """A note when the student's own prediction for x is already wrong."""
    try:
        got = numeric(student.output_formula(x, weights, bias), "output_formula")
        if got.shape == () and np.isclose(got, reference.output_formula(x, weights, bias),
                                          rtol=check.tolerance.rtol, atol=check.tolerance.atol):
            return ""
    except (AutograderError, Mismatch):
        pass
    return f"; note that your {call_text('output_formula', x, weights, bias)} is not right either: fix it first"


@pytest.mark.visible
def test_one_step(student, reference, check):
    """one step on a point with label 1"""
    step(student, reference, check, X, 1, WEIGHTS, 0.1, 0.1)


@pytest.mark.visible
def test_returns_weights_then_bias(student, reference, check):
    """the result is the pair (new_weights, new_bias), in this order"""
    step(student, reference, check, np.array([0.3, 0.6]), 0, np.array([-0.5, 0.25]), -0.2, 0.5)


def test_both_labels(student, reference, check):
    """labels 0 and 1 (as ints and floats) move the weights and the bias in opposite directions"""
    for y in (0, 1, 0.0, 1.0):
        step(student, reference, check, X, y, WEIGHTS, 0.1, 0.1)


def test_learning_rates(student, reference, check):
    """the step is proportional to the learning rate (0.01, 1, 0.5, 0)"""
    for learnrate in (0.01, 1, 0.5, 0.0):
        step(student, reference, check, X, 1, WEIGHTS, -0.3, learnrate)


def test_one_prediction_for_both(student, reference, check):
    """weights and bias both move by the prediction made before the step (a large step shows the difference)"""
    step(student, reference, check, np.array([2.0, -3.0]), 1, np.array([0.5, 1.0]), 0.5, 5.0)


def test_integer_bias(student, reference, check):
    """a bias of 0 given as an int (as at the start of training)"""
    step(student, reference, check, np.array([0.7, 0.2]), 0, np.array([1.0, -1.0]), 0, 0.01)


def test_random_points(student, reference, check):
    """random points, labels, weights and biases, three features"""
    rng = np.random.default_rng(204)
    for _ in range(5):
        x, weights = rng.random(3), rng.normal(size=3)
        step(student, reference, check, x, int(rng.integers(0, 2)), weights, float(rng.normal()), 0.1)


def test_inputs_unchanged(student, unchanged):
    """the point and the weights passed in stay as they were (the training keeps each epoch's weights)"""
    args = (np.array([0.5, -1.0]), 1, np.array([0.2, 0.4]), 0.1, 0.1)
    _, after = student.call_keeping_inputs("update_weights", *args)
    unchanged("update_weights", args, after, ("x", "y", "weights", "bias", "learnrate"))

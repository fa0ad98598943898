"""Hidden tests of `update_weights(weights, x, delta, learnrate)`: the new weights w + eta * delta * x.

Returning a new array and updating `weights` in place and returning it are both correct: the
student's function always gets copies of the arguments.
"""

import numpy as np
import pytest

WEIGHTS = np.array([0.1, -0.2, 0.3])
X = np.array([1.0, 0.5, -1.0])


def step(compare, *args):
    """Compare one call update_weights(*args) with the reference; feedback shows the whole vectors."""
    compare("update_weights", *args, per_element=False)


@pytest.mark.visible
def test_one_step(compare):
    """one step with Python numbers for delta and the learning rate"""
    step(compare, WEIGHTS, X, 0.2, 0.5)


def test_learning_rates(compare):
    """the step is proportional to the learning rate (0.01, 2, 0.5)"""
    for learnrate in (0.01, 2, 0.5):
        step(compare, WEIGHTS, X, 0.2, learnrate)


def test_delta_values(compare):
    """negative, numpy-scalar and zero error terms (delta = 0 leaves the weights unchanged)"""
    for delta in (-0.3, np.float64(0.125), np.float64(-1e-3), 0.0):
        step(compare, WEIGHTS, X, delta, 0.5)


def test_float32_and_float64(compare):
    """float32 and float64 weights and inputs"""
    for dtype in (np.float64, np.float32):
        step(compare, WEIGHTS.astype(dtype), X.astype(dtype), dtype(0.2), 0.5)


def test_random_vectors(compare):
    """random weights, inputs and error terms of the size used in training (6 inputs)"""
    rng = np.random.default_rng(404)
    for learnrate in (0.5, 0.05, 0.5, 1.5):
        weights, x = rng.normal(size=6), rng.random(size=6)
        step(compare, weights, x, float(rng.normal(scale=0.1)), learnrate)

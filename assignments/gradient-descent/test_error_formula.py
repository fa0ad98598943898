"""Hidden tests of `error_formula(y, output)`: the log-loss -y ln(y_hat) - (1 - y) ln(1 - y_hat), elementwise."""

import numpy as np
import pytest

# A careful log-loss guards the logarithm (an epsilon of up to 1e-6 inside it, or clipping the prediction):
# right wherever the prediction is not within that epsilon of 0 or 1, which only test_confident_predictions
# probes (a quarter of the part). The tolerance accepts the guard's effect elsewhere.
pytestmark = pytest.mark.tolerance(rtol=1e-4, atol=1e-5)

RNG = np.random.default_rng(203)
RANDOM_Y = (RNG.random(size=(5, 30)) < 0.5).astype(float)
RANDOM_OUTPUT = RNG.uniform(0.01, 0.99, size=(5, 30))


@pytest.mark.visible
def test_numbers(compare):
    """error_formula of Python numbers: labels 0 and 1, good and bad predictions"""
    for y, output in ((1, 0.5), (0, 0.5), (1, 0.9), (0, 0.2), (1.0, 0.1)):
        compare("error_formula", y, output)


def test_label_zero(compare):
    """label 0: only the term -ln(1 - y_hat) counts"""
    compare("error_formula", np.zeros(5), np.array([0.05, 0.3, 0.5, 0.7, 0.95]))


def test_label_one(compare):
    """label 1: only the term -ln(y_hat) counts"""
    compare("error_formula", np.ones(5), np.array([0.05, 0.3, 0.5, 0.7, 0.95]))


def test_mixed_labels(compare):
    """a batch of labels 0 and 1 with their predictions gives one error per point"""
    compare("error_formula", np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.0]), np.array([0.8, 0.6, 0.1, 0.45, 0.99, 0.95]))


def test_integer_labels(compare):
    """labels given as an integer array, as read from a file of 0s and 1s"""
    compare("error_formula", np.array([1, 0, 0, 1]), np.array([0.25, 0.25, 0.75, 0.75]))


def test_a_batch_of_one(compare):
    """arrays holding a single label and prediction keep their shape (1,)"""
    compare("error_formula", np.array([0.0]), np.array([0.35]))


def test_confident_predictions(compare):
    """predictions very close to 0 or 1 (1e-9 away)"""
    compare("error_formula", np.array([1.0, 0.0, 1.0, 0.0]), np.array([1 - 1e-9, 1e-9, 1e-9, 1 - 1e-9]))


def test_random_inputs(compare):
    """150 random labels and predictions in 2-D arrays"""
    compare("error_formula", RANDOM_Y, RANDOM_OUTPUT)

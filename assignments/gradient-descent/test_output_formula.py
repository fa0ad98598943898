"""Hidden tests of `output_formula(features, weights, bias)`: y_hat = sigmoid(features . weights + bias),
for one point (a number) and for a batch of points (one prediction per point).

It uses the student's `sigmoid`, so a wrong sigmoid shows here too; the feedback names the call.
"""

import numpy as np
import pytest

WEIGHTS = np.array([-2.7, -3.6])


@pytest.mark.visible
def test_one_point(compare):
    """one point with two features gives one number"""
    compare("output_formula", np.array([0.4, 0.8]), np.array([2.0, -1.0]), 0.5)


def test_points_and_biases(compare):
    """single points with negative, zero and integer biases"""
    for point, bias in ((np.array([0.1, 0.9]), -1.25), (np.array([0.7, 0.2]), 0.0), (np.array([0.0, 0.0]), 3)):
        compare("output_formula", point, WEIGHTS, bias)


def test_zero_weights(compare):
    """with zero weights the prediction is sigmoid(bias) for every point"""
    compare("output_formula", np.array([[0.2, 0.3], [0.9, 0.1]]), np.zeros(2), 0.75, rows=True)


def test_saturated_predictions(compare):
    """large weighted sums (|h| up to 500) give predictions close to 0 and 1, never nan"""
    batch = np.array([[1.0, 1.0], [-1.0, -1.0], [0.5, -0.5]])
    compare("output_formula", batch, np.array([250.0, 250.0]), 0.0, rows=True)


def test_batch_of_the_data(compare, points):
    """a batch of all 100 points of data.csv gives 100 predictions"""
    features, _ = points
    compare("output_formula", features, WEIGHTS, 3.1, rows=True)


def test_batch_of_one(compare):
    """a batch of one point (shape (1, 2)) gives an array of one prediction"""
    compare("output_formula", np.array([[0.35, 0.6]]), WEIGHTS, 0.2, rows=True)


def test_more_features(compare):
    """three features instead of two, as one point and as a batch"""
    rng = np.random.default_rng(202)
    weights, batch = rng.normal(size=3), rng.random((5, 3))
    compare("output_formula", batch[0], weights, -0.4)
    compare("output_formula", batch, weights, -0.4, rows=True)


def test_inputs_unchanged(student, unchanged):
    """the features and weights passed in stay as they were"""
    args = (np.array([[0.2, 0.5], [0.6, 0.1]]), np.array([1.5, -0.5]), 0.25)
    _, after = student.call_keeping_inputs("output_formula", *args)
    unchanged("output_formula", args, after, ("features", "weights", "bias"))

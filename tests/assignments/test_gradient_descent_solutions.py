"""The reference solutions of gradient-descent against values worked out by hand from the lesson."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from autograder.errors import DataFileError
from conftest import load_solutions, shared_data_file

ref = load_solutions("gradient_descent")
LN3 = math.log(3)  # sigmoid(ln 3) = 3/4


def test_sigmoid_hand_values_and_shapes():
    assert ref.sigmoid(0) == 0.5
    assert ref.sigmoid(LN3) == pytest.approx(0.75) and ref.sigmoid(-LN3) == pytest.approx(0.25)
    x = np.linspace(-5, 5, 12).reshape(3, 4)
    np.testing.assert_allclose(ref.sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-12)
    assert np.ndim(ref.sigmoid(0.3)) == 0


def test_sigmoid_stable_for_large_inputs():
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        np.testing.assert_array_equal(ref.sigmoid(np.array([-1e4, 0.0, 1e4])), [0.0, 0.5, 1.0])


def test_output_formula_one_point_and_batch():
    weights, bias = np.array([2.0, -1.0]), LN3
    assert ref.output_formula(np.array([0.5, 1.0]), weights, bias) == pytest.approx(0.75)  # 1 - 1 + ln 3
    batch = np.array([[0.5, 1.0], [0.0, 0.0], [1.0, 2.0 + 2 * LN3]])
    np.testing.assert_allclose(ref.output_formula(batch, weights, bias), [0.75, 0.75, 0.25])


def test_error_formula_hand_values():
    assert ref.error_formula(1, 0.75) == pytest.approx(-math.log(0.75))
    assert ref.error_formula(0, 0.75) == pytest.approx(-math.log(0.25))
    np.testing.assert_allclose(ref.error_formula(np.array([1.0, 0.0]), np.array([0.5, 0.5])), [math.log(2)] * 2)


def test_update_weights_is_a_step_against_the_gradient():
    """(new - old) / learnrate equals minus the numerical gradient of the log-loss at the old values."""
    x, y, weights, bias, rate = np.array([0.3, -0.8]), 1, np.array([0.4, 0.1]), -0.2, 0.01
    new_weights, new_bias = ref.update_weights(x, y, weights, bias, rate)

    def loss(w, b):
        return ref.error_formula(y, ref.output_formula(x, w, b))

    eps = 1e-6
    gradient = [(loss(weights + eps * e, bias) - loss(weights - eps * e, bias)) / (2 * eps) for e in np.eye(2)]
    gradient_b = (loss(weights, bias + eps) - loss(weights, bias - eps)) / (2 * eps)
    np.testing.assert_allclose((new_weights - weights) / rate, -np.array(gradient), rtol=1e-6)
    assert (new_bias - bias) / rate == pytest.approx(-gradient_b, rel=1e-6)
    np.testing.assert_array_equal(weights, [0.4, 0.1])


def test_train_returns_history_and_per_epoch_curves():
    rng = np.random.default_rng(0)
    features, targets = rng.random((12, 2)), rng.integers(0, 2, 12).astype(float)
    history = []
    weights, bias, losses, accuracies = ref.train(features, targets, epochs=7, learnrate=0.5, seed=3, history=history)
    assert len(history) == 7 and losses.shape == accuracies.shape == (7,)
    np.testing.assert_array_equal(history[-1][0], weights)
    assert history[-1][1] == bias and not np.array_equal(history[0][0], weights)
    out = ref.output_formula(features, weights, bias)
    assert losses[-1] == pytest.approx(np.mean(ref.error_formula(targets, out)))
    assert accuracies[-1] == np.mean((out > 0.5) == targets)


def test_load_data_names_the_bad_cell(tmp_path):
    bad = tmp_path / "points.csv"
    bad.write_text("0.1,0.2,1\n0.3,abc,0\n")
    with pytest.raises(DataFileError, match=r"row 2, column 'x2': 'abc' is not a number"):
        ref.load_data(bad)
    bad.write_text("0.1,0.2,2\n")
    with pytest.raises(DataFileError, match=r"row 1, column 'label'.*0 or 1"):
        ref.load_data(bad)
    with pytest.raises(DataFileError, match="file not found"):
        ref.load_data(tmp_path / "missing.csv")


def test_the_lessons_points_load_and_train():
    features, targets = ref.load_data(shared_data_file("gradient_descent_points.csv"))
    assert features.shape == (100, 2) and set(targets) == {0.0, 1.0}
    assert ref.train(features, targets)[3][-1] >= 0.9

"""The reference solutions of student-admissions against values worked out by hand from the lesson."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from autograder.errors import DataFileError
from conftest import load_solutions, shared_data_file

ref = load_solutions("student_admissions")
LN3 = math.log(3)  # sigmoid(ln 3) = 1 / (1 + 1/3) = 3/4, so sigmoid'(ln 3) = 3/4 * 1/4 = 3/16


@pytest.fixture(scope="module")
def bundled():
    return ref.prepare_data(ref.load_data(ref.BUNDLED_DATA))


@pytest.fixture(scope="module")
def trained(bundled):
    features, targets, _, _ = bundled
    return ref.train_network(features, targets)


def test_sigmoid_hand_values():
    assert ref.sigmoid(0) == 0.5
    assert ref.sigmoid(LN3) == pytest.approx(0.75)
    assert ref.sigmoid(-LN3) == pytest.approx(0.25)
    assert isinstance(ref.sigmoid(0.0), float)


@pytest.mark.parametrize("x", [np.array(0.3), np.linspace(-5, 5, 7), np.linspace(-5, 5, 12).reshape(3, 4)])
def test_sigmoid_elementwise_keeps_shape(x):
    result = ref.sigmoid(x)
    assert np.shape(result) == x.shape
    np.testing.assert_allclose(result, 1 / (1 + np.exp(-x)), rtol=1e-12)


def test_sigmoid_float32_stays_float32():
    assert ref.sigmoid(np.array([0.0, 1.0], dtype=np.float32)).dtype == np.float32


def test_sigmoid_stable_for_large_inputs():
    x = np.array([-1e4, -1000.0, 0.0, 1000.0, 1e4])
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        result = ref.sigmoid(x)
        assert ref.sigmoid(-1e4) == 0.0 and ref.sigmoid(1e4) == 1.0
    assert not np.isnan(result).any()
    np.testing.assert_array_equal(result, [0.0, 0.0, 0.5, 1.0, 1.0])


def test_sigmoid_prime_hand_values():
    assert ref.sigmoid_prime(0) == 0.25
    assert ref.sigmoid_prime(LN3) == pytest.approx(3 / 16)
    assert ref.sigmoid_prime(-LN3) == pytest.approx(3 / 16)
    assert ref.sigmoid_prime(np.zeros((2, 3))).shape == (2, 3)


def test_error_term_hand_values():
    # y = 1, y_hat = sigmoid(0) = 0.5: delta = (1 - 0.5) * 0.25 = 0.125
    assert ref.error_term(1, 0.5, 0) == 0.125
    # y = 0, y_hat = sigmoid(ln 3) = 0.75: delta = (0 - 0.75) * 3/16 = -9/64
    assert ref.error_term(0, 0.75, LN3) == pytest.approx(-9 / 64)
    assert ref.error_term(0.75, 0.75, LN3) == 0


def test_one_delta_rule_step_by_hand():
    # w = (0.5, -1.0), x = (0.8, 0.4): h = 0.4 - 0.4 = 0, y_hat = 0.5, sigmoid'(0) = 0.25.
    # y = 1: delta = 0.5 * 0.25 = 0.125; eta = 0.5: w <- w + 0.5 * 0.125 * x = (0.55, -0.975)
    weights, x, y, eta = np.array([0.5, -1.0]), np.array([0.8, 0.4]), 1.0, 0.5
    h = np.dot(x, weights)
    output = ref.sigmoid(h)
    delta = ref.error_term(y, output, h)
    assert (h, output, delta) == (0.0, 0.5, 0.125)
    np.testing.assert_allclose(ref.update_weights(weights, x, delta, eta), [0.55, -0.975])


def test_update_weights_returns_new_array():
    weights, x = np.array([0.5, -1.0]), np.array([0.8, 0.4])
    before = weights.copy()
    updated = ref.update_weights(weights, x, 0.125, 0.5)
    assert updated is not weights
    np.testing.assert_array_equal(weights, before)
    np.testing.assert_array_equal(ref.update_weights(weights, x, 0.0, 0.5), before)


def test_load_data_bundled_file():
    data = ref.load_data(ref.BUNDLED_DATA)
    assert list(data.columns) == ["admit", "gre", "gpa", "rank"]
    assert data.shape == (400, 4)
    assert data["rank"].dtype == np.int64 and data["gpa"].dtype == np.float64


@pytest.mark.parametrize(("line", "column"), [("1,380,3.6,5", "rank"), ("2,380,3.6,1", "admit")])
def test_load_data_rejects_out_of_range_codes(tmp_path, line, column):
    path = tmp_path / "admissions.csv"
    path.write_text(f"admit,gre,gpa,rank\n0,500,3.0,2\n{line}\n")
    with pytest.raises(DataFileError) as caught:
        ref.load_data(path)
    assert (caught.value.row, caught.value.column) == (2, column)
    assert str(path) in str(caught.value)


def test_prepare_data_shapes_and_columns(bundled):
    features, targets, features_test, targets_test = bundled
    assert features.shape == (360, 6) and targets.shape == (360,)
    assert features_test.shape == (40, 6) and targets_test.shape == (40,)
    for array in bundled:
        assert array.dtype == np.float64
    np.testing.assert_array_equal(features[:, 2:].sum(axis=1), 1.0)  # exactly one rank column set
    assert features[:, :2].max() <= 1.0 and features[:, :2].min() > 0.0


def test_prepare_data_split_order():
    data = pd.DataFrame({"admit": [0, 1, 0, 1, 1], "gre": [800, 400, 200, 600, 720],
                         "gpa": [4.0, 2.0, 3.0, 3.6, 2.8], "rank": [1, 2, 3, 4, 2]})
    by_hand = np.array([  # gre / 800, gpa / 4, rank_1 .. rank_4
        [1.0, 1.0, 1, 0, 0, 0],
        [0.5, 0.5, 0, 1, 0, 0],
        [0.25, 0.75, 0, 0, 1, 0],
        [0.75, 0.9, 0, 0, 0, 1],
        [0.9, 0.7, 0, 1, 0, 0],
    ])
    features, targets, features_test, targets_test = ref.prepare_data(data, seed=7, test_fraction=0.4)
    train_idx = np.random.default_rng(7).choice(5, size=3, replace=False)  # training keeps this order
    test_idx = sorted(set(range(5)) - set(train_idx))  # test keeps file order
    np.testing.assert_allclose(features, by_hand[train_idx])
    np.testing.assert_allclose(features_test, by_hand[test_idx])
    np.testing.assert_array_equal(targets, data["admit"].to_numpy()[train_idx])
    np.testing.assert_array_equal(targets_test, data["admit"].to_numpy()[test_idx])


def test_prepare_data_keeps_all_rank_columns():
    data = pd.DataFrame({"admit": [0, 1], "gre": [800, 400], "gpa": [4.0, 2.0], "rank": [2, 2]})
    features, _, _, _ = ref.prepare_data(data, test_fraction=0.0)
    np.testing.assert_array_equal(features[:, 2:], [[0, 1, 0, 0], [0, 1, 0, 0]])


def test_train_network_is_deterministic(bundled):
    features, targets, _, _ = bundled
    first = ref.train_network(features, targets, epochs=3)
    second = ref.train_network(features, targets, epochs=3)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert first[1].shape == (3,) and first[1].dtype == np.float64


def test_train_network_uses_the_module_functions(bundled, monkeypatch):
    # The notebook runs the same source with the student's functions, looked up by name at call time
    features, targets, _, _ = bundled
    monkeypatch.setattr(ref, "update_weights", lambda weights, x, delta, learnrate: weights)
    weights, _ = ref.train_network(features, targets, epochs=1)
    initial = np.random.default_rng(42).normal(scale=1 / 6**0.5, size=6)
    np.testing.assert_array_equal(weights, initial)


def test_training_on_bundled_data(bundled, trained):
    _, _, features_test, targets_test = bundled
    weights, losses = trained
    assert losses.shape == (1000,) and losses[-1] < losses[0]
    assert ref.accuracy(features_test, targets_test, weights) >= 0.65


def test_training_on_original_data():
    data = ref.load_data(shared_data_file("student_data.csv"))
    features, targets, features_test, targets_test = ref.prepare_data(data)
    weights, _ = ref.train_network(features, targets)
    assert ref.accuracy(features_test, targets_test, weights) >= 0.70


def test_main_reports_a_broken_file(tmp_path, capsys):
    assert ref.main(["student_admissions.py", str(tmp_path / "missing.csv")]) == 1
    assert "missing.csv: file not found" in capsys.readouterr().err

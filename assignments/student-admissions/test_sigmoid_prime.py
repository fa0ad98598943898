"""Hidden tests of `sigmoid_prime(x)`: sigmoid(x) * (1 - sigmoid(x)), elementwise."""

import numpy as np
import pytest

RANDOM_X = np.random.default_rng(202).normal(scale=5.0, size=(8, 50))


@pytest.mark.visible
def test_numbers(compare):
    """sigmoid_prime of Python numbers: floats and ints, zero, positive and negative"""
    for x in (0.0, 2, -1.5, 1):
        compare("sigmoid_prime", x)


def test_array_shapes(compare):
    """sigmoid_prime of 0-d, 1-D and 2-D arrays keeps their shape"""
    for x in (np.array(0.3), np.linspace(-4.0, 4.0, 9), np.zeros((2, 3)), np.arange(-6.0, 6.0).reshape(3, 4)):
        compare("sigmoid_prime", x)


def test_large_magnitudes(compare):
    """sigmoid_prime of large inputs (|x| = 10, 50, 500) is close to 0, never nan"""
    compare("sigmoid_prime", np.array([-500.0, -50.0, -10.0, 10.0, 50.0, 500.0]))


def test_float32_and_float64(compare):
    """sigmoid_prime of float32 and float64 arrays"""
    x = np.linspace(-8.0, 8.0, 17)
    for dtype in (np.float64, np.float32):
        compare("sigmoid_prime", x.astype(dtype))


def test_random_inputs(compare):
    """sigmoid_prime of 400 random inputs in one 2-D array"""
    compare("sigmoid_prime", RANDOM_X)

"""Hidden tests of `sigmoid(x)`: 1 / (1 + e^-x), elementwise, for numbers and arrays of any shape."""

import numpy as np
import pytest

RANDOM_X = np.random.default_rng(201).normal(scale=4.0, size=(6, 40))


@pytest.mark.visible
def test_numbers(compare):
    """sigmoid of Python numbers: zero, floats and ints, positive and negative"""
    for x in (0.0, 1.5, -2, 3, -0.25):
        compare("sigmoid", x)


def test_array_shapes(compare):
    """sigmoid of 0-d, 1-D and 2-D arrays keeps their shape"""
    for x in (np.array(-0.7), np.linspace(-5.0, 5.0, 11), np.zeros((3, 2)), np.arange(-4.0, 4.0).reshape(2, 4)):
        compare("sigmoid", x)


def test_large_magnitudes(compare):
    """sigmoid of large inputs (|x| = 20, 100, 800) is close to 0 or 1, never nan"""
    compare("sigmoid", np.array([-800.0, -100.0, -20.0, 20.0, 100.0, 800.0]))


def test_random_inputs(compare):
    """sigmoid of 240 random inputs in one 2-D array"""
    compare("sigmoid", RANDOM_X)

"""Hidden tests of `error_term(y, output, h)`: delta = (y - y_hat) * f'(h).

Every call gets a consistent pair output = sigmoid(h), computed by the reference, so a wrong
`sigmoid` does not cost points here.
"""

import numpy as np
import pytest

RANDOM_H = np.random.default_rng(303).normal(scale=3.0, size=(8, 50))
RANDOM_Y = (np.random.default_rng(304).random(size=(8, 50)) < 0.5).astype(float)


def delta_of(compare, reference, y, h):
    """Compare error_term(y, sigmoid(h), h) with the reference."""
    compare("error_term", y, reference.sigmoid(h), h)


@pytest.mark.visible
def test_numbers(compare, reference):
    """error_term of Python numbers: targets 0 and 1, outputs too low and too high"""
    for y, h in ((1.0, 0.5), (0, 2), (1, -1.5), (0.0, -0.25)):
        compare("error_term", y, float(reference.sigmoid(h)), h)


def test_array_shapes(compare, reference):
    """error_term of 0-d, 1-D and 2-D arrays keeps their shape"""
    y = np.array([0.0, 1.0, 1.0, 0.0, 0.0, 1.0])
    h = np.linspace(-3.0, 3.0, 6)
    for shape in ((), (6,), (2, 3)):
        size = int(np.prod(shape))
        delta_of(compare, reference, y[:size].reshape(shape), h[:size].reshape(shape))


def test_large_magnitudes(compare, reference):
    """error_term for large |h| (10, 50, 500), where the slope f'(h) is close to 0"""
    h = np.array([-500.0, -50.0, -10.0, -10.0, 10.0, 10.0, 50.0, 500.0])
    y = np.array([1.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0])
    delta_of(compare, reference, y, h)


def test_float32_and_float64(compare, reference):
    """error_term of float32 and float64 arrays"""
    h = np.linspace(-4.0, 4.0, 9)
    y = (np.arange(9) % 2).astype(float)
    for dtype in (np.float64, np.float32):
        delta_of(compare, reference, y.astype(dtype), h.astype(dtype))


def test_random_inputs(compare, reference):
    """error_term of 400 random targets and inputs in 2-D arrays"""
    delta_of(compare, reference, RANDOM_Y, RANDOM_H)

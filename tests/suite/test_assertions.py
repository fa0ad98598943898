"""Comparisons in the grader and the feedback a student reads when one fails."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.suite.assertions import Checker, named_arrays, numeric
from autograder.course.config import Tolerance
from autograder.mismatch import Mismatch
from autograder.running.protocol import Unsupported


@pytest.fixture
def check():
    return Checker(Tolerance(rtol=1e-6, atol=1e-8))


def feedback(check, got, expected, call="square(3.0)", **tolerances) -> str:
    with pytest.raises(Mismatch) as caught:
        check.close(got, expected, call, **tolerances)
    return str(caught.value)


# -- what is not a number --------------------------------------------------------------------------


def test_none_asks_about_the_return_statement(check):
    assert feedback(check, None, 9.0) == "square(3.0) returned None; did you forget the `return` statement?"


def test_unsupported_names_the_type(check):
    assert feedback(check, Unsupported("Liar"), 9.0) == "square(3.0) returned Liar, not a number or a numpy array"


def test_text_is_not_a_number(check):
    assert feedback(check, "9", 9.0) == "square(3.0) returned the text '9', not a number"


def test_a_ragged_list_is_not_an_array(check):
    assert feedback(check, [[1.0], [1.0, 2.0]], 9.0) == \
        "square(3.0) returned [[1.0], [1.0, 2.0]], which is not a regular array of numbers"


def test_complex_numbers_are_not_real(check):
    assert "not a real number" in feedback(check, 9 + 0j, 9.0)


def test_numeric_accepts_bools_ints_and_lists():
    assert numeric(True, "f()").dtype.kind == "b"
    assert np.array_equal(numeric([1, 2], "f()"), [1, 2])
    assert numeric((1.5, 2.5), "f()").shape == (2,)


# -- shapes and values -----------------------------------------------------------------------------


@pytest.mark.parametrize("got, expected, text", [
    (np.array([1.0, 4.0]), np.array([1.0, 4.0, 9.0]), "an array of shape (2,), expected an array of shape (3,)"),
    (np.array([9.0]), 9.0, "an array of shape (1,), expected a single number"),
    (9.0, np.array([9.0]), "a single number, expected an array of shape (1,)"),
    (np.ones((3, 1)), np.ones(3), "an array of shape (3, 1), expected an array of shape (3,)"),
])
def test_wrong_shape(check, got, expected, text):
    assert feedback(check, got, expected) == f"square(3.0) returned {text}"


def test_a_wrong_number_shows_call_expected_and_got(check):
    assert feedback(check, 8.0, 9.0) == "square(3.0) returned 8.0, expected 9.0"


def test_a_wrong_small_array_shows_both_arrays(check):
    text = feedback(check, np.array([1.0, 5.0]), np.array([1.0, 4.0]), call="square(np.array([1., 2.]))")
    assert text == "square(np.array([1., 2.])) returned np.array([1., 5.]), expected np.array([1., 4.])"


def test_a_wrong_large_array_points_at_the_first_wrong_element(check):
    expected = np.arange(20.0)
    got = expected.copy()
    got[7], got[9] = 8.0, 0.0
    assert feedback(check, got, expected) == "square(3.0): at index (7,) got 8.0, expected 7.0"
    got2 = np.ones((4, 5))
    got2[2, 3] = 2.0
    assert feedback(check, got2, np.ones((4, 5))) == "square(3.0): at index (2, 3) got 2.0, expected 1.0"


def test_nan_where_a_number_is_expected(check):
    assert feedback(check, float("nan"), 9.0) == "square(3.0) returned nan, expected 9.0"


def test_close_values_pass_and_come_back_as_an_array(check):
    array = check.close([1.0 + 1e-9, 4.0], np.array([1.0, 4.0]), "f()")
    assert isinstance(array, np.ndarray) and array.shape == (2,)
    check.close(9.0 * (1 + 5e-7), 9.0, "f()")  # within rtol
    check.close(np.array([np.nan, np.inf]), np.array([np.nan, np.inf]), "f()")  # same non-finite values
    check.close(np.int64(9), 9.0, "f()")
    check.close(np.array(True), True, "f()")


def test_tolerances_from_the_assignment_and_per_call(check):
    feedback(check, 9.0 * (1 + 1e-5), 9.0)  # outside the assignment's rtol
    check.close(9.0 * (1 + 1e-5), 9.0, "f()", rtol=1e-4)
    loose = Checker(Tolerance(rtol=0.1, atol=0.0))
    loose.close(9.5, 9.0, "f()")
    feedback(loose, 9.5, 9.0, atol=0.0, rtol=0.01)


def test_true_raises_the_given_feedback(check):
    check.true(1 < 2, "never shown")
    with pytest.raises(Mismatch, match="^the loss must go down$"):
        check.true(False, "the loss must go down")


def test_first_difference_is_the_first_value_out_of_tolerance():
    check = Checker(Tolerance(rtol=1e-6, atol=1e-8))
    want = np.array([0.5, 0.25, 0.125])
    assert check.first_difference(want * (1 + 1e-9), want) is None
    assert check.first_difference(np.array([0.5, 0.3, 0.2]), want) == 1


def test_named_arrays_unpacks_results_by_name_and_says_which_one_is_wrong():
    shapes = {"weights": (2,), "bias": ()}
    got = named_arrays((np.array([1, 2]), 0.5), shapes, "train(x)")
    assert list(got) == ["weights", "bias"] and got["weights"].dtype == float and got["bias"].shape == ()
    with pytest.raises(Mismatch, match=r"train\(x\) returned 3, not \(weights, bias\)"):
        named_arrays(3, shapes, "train(x)")
    with pytest.raises(Mismatch, match=r"returned bias 'b', not a number"):
        named_arrays(([1.0, 2.0], "b"), shapes, "train(x)")
    with pytest.raises(Mismatch, match=r"returned weights 'w', not an array of numbers"):
        named_arrays(("w", 1.0), shapes, "train(x)")
    with pytest.raises(Mismatch, match=r"returned weights of shape \(3,\), expected \(2,\)"):
        named_arrays(([1.0, 2.0, 3.0], 1.0), shapes, "train(x)")


def test_a_value_close_to_the_expected_one_says_how_close(check):
    text = feedback(check, np.array([0.693145, 1.0]), np.array([0.693147, 1.0]), "f(x)")
    assert text.splitlines()[1].startswith("That is close: off by a relative 2.9e-06, where the tolerance is 1e-06")
    assert "\n" not in feedback(check, 2.0, 3.0)  # far off: nothing more to say

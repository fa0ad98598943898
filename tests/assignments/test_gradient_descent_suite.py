"""The hidden suite of gradient-descent, run by the real grader on the released notebook filled in
right, and with the mistakes students make: each costs the tests that should catch it, and only those."""

from __future__ import annotations

import nbformat
import pytest

from autograder.course.config import load_assignment
from autograder.grade import Grader
from answers import GRADIENT_DESCENT as ANSWERS
from conftest import REPO

pytestmark = pytest.mark.slow

IN_PLACE = ("def update_weights(x, y, weights, bias, learnrate):\n"
            "    d_error = y - output_formula(x, weights, bias)\n"
            "    weights += learnrate * d_error * x\n"
            "    return weights, bias + learnrate * d_error")
SWAPPED = ANSWERS["update_weights"].replace("return weights + learnrate * d_error * x, bias + learnrate * d_error",
                                            "return bias + learnrate * d_error, weights + learnrate * d_error * x")
TWO_PREDICTIONS = ("def update_weights(x, y, weights, bias, learnrate):\n"
                   "    weights = weights + learnrate * (y - output_formula(x, weights, bias)) * x\n"
                   "    return weights, bias + learnrate * (y - output_formula(x, weights, bias))")
WRONG_SIGN = "def error_formula(y, output):\n    return y * np.log(output) + (1 - y) * np.log(1 - output)"


@pytest.fixture(scope="module")
def assignment():
    return load_assignment("gradient-descent", REPO)


@pytest.fixture(scope="module")
def grader(assignment):
    with Grader(assignment) as grader:
        yield grader


@pytest.fixture
def submit(assignment, grader, tmp_path):
    """Grade the released notebook with the answer cells filled in (`changes` replace some of them)."""

    def submit(**changes):
        notebook = nbformat.read(assignment.release_notebook, as_version=4)
        for cell in notebook.cells:
            name = cell.metadata.get("nbgrader", {}).get("grade_id")
            if name in ANSWERS:
                cell.source = changes.get(name, ANSWERS[name])
        path = tmp_path / "student.ipynb"
        nbformat.write(notebook, path)
        return grader.grade("student", path)

    return submit


def failed(result) -> dict[str, set[str]]:
    return {part.name: {t.name for t in part.tests if t.outcome != "passed"} for part in result.parts
            if any(t.outcome != "passed" for t in part.tests)}


def test_master_full_marks_stubs_zero(assignment, grader):
    master = grader.grade("master", assignment.master_notebook)
    assert (master.status, master.score, master.max_score) == ("graded", 12.0, 12.0)
    stubs = grader.grade("release", assignment.release_notebook)
    assert (stubs.status, stubs.score) == ("graded", 0.0)
    assert {t.outcome for p in stubs.parts for t in p.tests} == {"failed"}
    assert "NotImplementedError" in stubs.part("sigmoid").tests[0].feedback


def test_a_different_correct_solution_gets_full_marks(submit):
    result = submit()
    assert result.score == 12.0, failed(result)


def test_changing_the_weights_in_place_costs_only_that_check(submit):
    result = submit(update_weights=IN_PLACE)
    assert failed(result) == {"update_weights": {"test_inputs_unchanged"}}
    (test,) = [t for t in result.part("update_weights").tests if t.outcome == "failed"]
    assert "changed its argument `weights`" in test.feedback


def test_weights_and_bias_in_the_wrong_order(submit):
    result = submit(update_weights=SWAPPED)
    assert set(failed(result)) == {"update_weights", "training"}
    assert "test_inputs_unchanged" not in failed(result)["update_weights"]
    feedback = {t.feedback for t in result.part("update_weights").tests if t.outcome == "failed"}
    assert all("in the order (new_weights, new_bias)" in text for text in feedback)
    assert result.part("sigmoid").score == result.part("error_formula").score == pytest.approx(2.0)


def test_a_second_prediction_for_the_bias(submit):
    result = submit(update_weights=TWO_PREDICTIONS)
    assert "test_one_prediction_for_both" in failed(result)["update_weights"]
    assert {"test_final_weights_and_bias", "test_loss_curve"} <= failed(result)["training"]
    assert "(the new bias)" in next(t.feedback for t in result.part("update_weights").tests
                                    if t.name == "test_one_prediction_for_both")


def test_wrong_sign_of_the_error(submit):
    result = submit(error_formula=WRONG_SIGN)
    assert failed(result) == {"error_formula": {t.name for t in result.part("error_formula").tests},
                              "training": {"test_loss_curve", "test_loss_decreases"}}
    assert result.score == pytest.approx(12.0 - 2.0 - 1.25 - 0.75)


# -- careful code is graded as right; each function on its own -------------------------------------

GUARDED = {  # the log-loss as careful engineers write it: the logarithm guarded near 0 and 1
    "eps-1e-6": "def error_formula(y, output):\n    eps = 1e-6\n"
                "    return -y * np.log(output + eps) - (1 - y) * np.log(1 - output + eps)",
    "clipped-1e-7": "def error_formula(y, output):\n    output = np.clip(output, 1e-7, 1 - 1e-7)\n"
                    "    return -y * np.log(output) - (1 - y) * np.log(1 - output)",
}
STABLE = {  # sigmoid and log-loss in numerically stable forms
    "sigmoid": "def sigmoid(x):\n    return np.exp(-np.logaddexp(0, -x))",
    "error_formula": "def error_formula(y, output):\n    return -(y * np.log(output) + (1 - y) * np.log1p(-output))",
}


@pytest.mark.parametrize("style", sorted(GUARDED))
def test_a_guarded_log_loss_loses_only_the_tests_within_its_epsilon_of_0_or_1(submit, style):
    result = submit(error_formula=GUARDED[style])
    assert failed(result) == {"error_formula": {"test_confident_predictions"}}  # predictions 1e-9 from 0 or 1
    assert result.part("error_formula").score == pytest.approx(1.75)  # at most a quarter of the part
    assert result.part("training").score == pytest.approx(4.0)  # its loss curve is the expected one


def test_stable_forms_of_sigmoid_and_log_loss_get_full_marks(submit):
    result = submit(**STABLE)
    assert result.score == 12.0, failed(result)


def test_a_value_close_to_the_expected_one_says_how_close_and_why(submit):
    result = submit(error_formula=GUARDED["eps-1e-6"].replace("1e-6", "1e-4"))  # too large an epsilon
    feedback = " ".join(t.feedback for t in result.part("error_formula").tests if t.outcome == "failed")
    assert "That is close: off by a relative" in feedback and "avoid log(0)" in feedback


def test_a_wrong_sigmoid_costs_its_own_part_and_the_training_only(submit):
    result = submit(sigmoid="def sigmoid(x):\n    return 1 / (1 + np.exp(x))")  # sigma(-x)
    assert set(failed(result)) == {"sigmoid", "training"}  # output_formula and update_weights call it
    assert "sigmoid.positive_exponent" in {t.misconception for t in result.part("sigmoid").tests}
    notes = [t.feedback for t in result.part("output_formula").tests if t.outcome == "passed" and t.feedback]
    assert notes and "your `output_formula` is right; with your own `sigmoid`" in notes[0] and "Fix `sigmoid`" in notes[0]


def test_a_long_batch_keeps_nothing_of_the_submissions_it_graded(request):
    """A grader process grades thousands: no submission's StudentSession or pytest session may outlive it
    (a failed training run's error, with its traceback, used to keep both alive)."""
    import gc

    import _pytest.main

    from autograder.running.session import StudentSession

    assignment = load_assignment("gradient-descent", REPO)
    with Grader(assignment) as grader:
        for number in range(3):  # the released stubs: every test fails, the training run too
            assert grader.grade(f"stub-{number}", assignment.release_notebook).score == 0
        gc.collect()
        alive = [type(o).__name__ for o in gc.get_objects()
                 if isinstance(o, (StudentSession, _pytest.main.Session)) and o is not request.session]
    assert alive == []

"""The hidden suite of student-admissions, run by the real grader on the released notebook filled in:
while a function is graded only the functions it depends on stand in for the reference, so functions
that compute each other through the reference's answers earn nothing, and a right function written
on top of a wrong or missing helper keeps its points and says which helper to fix."""

from __future__ import annotations

import nbformat
import pytest

from autograder.course.config import load_assignment
from autograder.grade import Grader
from conftest import REPO

pytestmark = pytest.mark.slow

RIGHT = {
    "sigmoid": "def sigmoid(x):\n    return 1 / (1 + np.exp(-x))",
    "sigmoid_prime": "def sigmoid_prime(x):\n    return sigmoid(x) * (1 - sigmoid(x))",
    "error_term": "def error_term(y, output, h):\n    return (y - output) * sigmoid_prime(h)",
    "update_weights": "def update_weights(weights, x, delta, learnrate):\n    return weights + learnrate * delta * x",
}
# Each function computed from another's answer; in the notebook itself each one recurses without end.
# When every other graded function stood in for the reference, these four scored 8 of 12.
CIRCLE = {
    "sigmoid": "def sigmoid(x):\n    return 0.5 + np.sign(x) * np.sqrt(0.25 - sigmoid_prime(x))",  # s(1 - s) solved
    "sigmoid_prime": "def sigmoid_prime(x):\n    return error_term(1, 0, x)",  # (1 - 0) * the slope
    "error_term": "def error_term(y, output, h):\n    return update_weights(0, y - output, sigmoid_prime(h), 1)",
    "update_weights": "def update_weights(weights, x, delta, learnrate):\n"
                      "    return weights + learnrate * 4 * error_term(delta, 0, 0) * x",  # the slope at 0 is 1/4
}
WRONG_SLOPE = "def sigmoid_prime(x):\n    return x * (1 - x)"  # the slope of the output, applied to h
NO_SLOPE = "# sigmoid_prime: not done yet"
FUNCTIONS = tuple(RIGHT)


@pytest.fixture(scope="module")
def assignment():
    return load_assignment("student-admissions", REPO)


@pytest.fixture(scope="module")
def results(assignment, tmp_path_factory):
    """Each scenario graded once: the released notebook with its answer cells replaced."""
    scenarios = {"right": RIGHT, "circle": CIRCLE, "wrong-slope": {**RIGHT, "sigmoid_prime": WRONG_SLOPE},
                 "no-slope": {**RIGHT, "sigmoid_prime": NO_SLOPE}}
    folder = tmp_path_factory.mktemp("submissions")
    graded = {}
    with Grader(assignment) as grader:
        for name, answers in scenarios.items():
            notebook = nbformat.read(assignment.release_notebook, as_version=4)
            for cell in notebook.cells:
                cell.source = answers.get(cell.metadata.get("nbgrader", {}).get("grade_id"), cell.source)
            nbformat.write(notebook, folder / f"{name}.ipynb")
            graded[name] = grader.grade(name, folder / f"{name}.ipynb")
    return graded


def scores(result) -> dict[str, float]:
    return {part.name: part.score for part in result.parts}


def notes(result, part: str) -> list[str]:
    return [test.feedback for test in result.part(part).tests if test.outcome == "passed" and test.feedback]


def test_right_functions_say_which_references_stood_in_once_per_part(results):
    right = results["right"]
    assert right.score == right.max_score
    assert notes(right, "sigmoid_prime") == ["graded with the reference's `sigmoid` in place of yours"]
    assert notes(right, "error_term") == ["graded with the reference's `sigmoid_prime` in place of yours"]
    assert notes(right, "sigmoid") == notes(right, "update_weights") == notes(right, "training") == []


def test_functions_that_compute_each_other_through_the_reference_score_nothing(results):
    circle = results["circle"]
    assert circle.status == "graded" and circle.score == 0.0, scores(circle)
    for name in FUNCTIONS:  # each recurses through the student's own functions (or asks a stand-in without end)
        assert {test.outcome for test in circle.part(name).tests} == {"failed"}, name
    assert "RecursionError" in circle.part("sigmoid").tests[0].feedback


def test_a_wrong_helper_costs_its_own_part_and_the_training_only(results):
    wrong = results["wrong-slope"]
    assert scores(wrong) == {"sigmoid": 2.0, "sigmoid_prime": 0.0, "error_term": 2.0, "update_weights": 2.0,
                             "training": 0.0}
    (note,) = notes(wrong, "error_term")
    assert note.startswith("your `error_term` is right; with your own `sigmoid_prime` instead of the reference's: ")
    assert note.endswith("Fix `sigmoid_prime`: its own tests say what is wrong")


def test_a_right_function_on_top_of_a_missing_helper_keeps_its_points_and_says_to_write_it(results):
    missing = results["no-slope"]
    assert scores(missing) == {"sigmoid": 2.0, "sigmoid_prime": 0.0, "error_term": 2.0, "update_weights": 2.0,
                               "training": 0.0}
    assert all("your notebook does not define `sigmoid_prime`" in test.feedback
               for test in missing.part("sigmoid_prime").tests)
    (note,) = notes(missing, "error_term")
    assert "NameError: name 'sigmoid_prime' is not defined" in note
    assert note.endswith("Write `sigmoid_prime`: your notebook does not define it")

"""Known mistakes named in the feedback: the matching engine on plain data, the assignments'
catalogues, and every catalogued mistake injected into a released notebook and graded by the real
grader (one Grader per assignment, several mistakes per submission: one in each function)."""

from __future__ import annotations

import re

import nbformat
import numpy as np
import pytest

from autograder.mismatch import Mismatch
from autograder.course.config import load_assignment
from autograder.grade import Grader
from autograder.suite.catalogue import load_catalogue
from autograder.suite.misconceptions import FEEDBACK_CHARS, Catalogue, Diagnosed, Misconception, diagnose
from conftest import REPO

TOL = (1e-6, 1e-8)
DOUBLE = Misconception("f.doubles", lambda x: 2 * x, "You doubled x instead of adding one to it.")
SQUARE = Misconception("f.squares", lambda x: x * x, "You squared x instead of adding one to it.")
NOTHING = Misconception("f.in_place", lambda x: None, "You changed x in place and returned None.",
                        leaves_inputs=lambda x: (x + 1,))


# -- the engine ------------------------------------------------------------------------------------

def test_one_matching_formula_is_named():
    x = np.array([1.0, 3.0])
    assert diagnose([DOUBLE, SQUARE], (x,), 2 * x, x + 1, *TOL) is DOUBLE
    assert diagnose([DOUBLE, SQUARE], (x,), x * x + 1e-9, x + 1, *TOL) is SQUARE


def test_no_match_or_several_matches_name_nothing():
    x = np.array([2.0, 0.0])
    assert diagnose([DOUBLE, SQUARE], (x,), np.array([5.0, 5.0]), x + 1, *TOL) is None
    assert diagnose([DOUBLE, SQUARE], (x,), np.array([4.0, 0.0]), x + 1, *TOL) is None  # 2x == x*x here


def test_one_number_is_too_little_to_tell():
    x2 = Misconception("f.times_two", lambda x: 2 * x, "You doubled x.")
    assert diagnose([x2], (3.0,), 6.0, 4.0, *TOL) is None
    assert diagnose([x2], (np.array([3.0]),), np.array([6.0]), np.array([4.0]), *TOL) is None
    assert diagnose([x2], (np.array([3.0, 0.0]),), np.array([6.0, 0.0]), np.array([4.0, 1.0]), *TOL) is x2
    collapse = Misconception("f.sum", lambda x: np.sum(x), "You added up the whole batch.")
    x = np.array([3.0, 5.0])
    assert diagnose([collapse], (x,), 8.0, x + 1, *TOL) is collapse  # one number, where two were expected


def test_shapes_must_agree_and_numbers_only():
    x = np.array([1.0, 3.0])
    assert diagnose([DOUBLE], (x,), [[2.0, 6.0]], x + 1, *TOL) is None
    assert diagnose([DOUBLE], (x,), "2, 6", x + 1, *TOL) is None
    assert diagnose([DOUBLE], (x,), None, x + 1, *TOL) is None


def test_a_formula_that_raises_or_changes_its_inputs_harms_nothing():
    def raises(x):
        raise ZeroDivisionError

    def changes(x):
        x *= 2
        return x

    x = np.array([1.0, 3.0])
    assert diagnose([Misconception("f.raises", raises, "A."), Misconception("f.changes", changes, "B.")],
                    (x,), 2 * x, x + 1, *TOL).id == "f.changes"
    assert x.tolist() == [1.0, 3.0]


def test_pairs_match_element_by_element():
    pair = Misconception("g.swapped", lambda a, b: (b, a), "You swapped them.")
    a, b = np.array([1.0]), 2.0
    assert diagnose([pair], (a, b), (2.0, np.array([1.0])), (a, b), *TOL) is pair
    assert diagnose([pair], (a, b), [2.0, np.array([1.0])], (a, b), *TOL) is pair
    assert diagnose([pair], (a, b), (2.0, 1.0), (a, b), *TOL) is None  # shape (1,) is not a number


def test_an_in_place_mistake_is_named_only_when_it_is_seen():
    x = np.array([1.0, 3.0])
    asked = []

    def after(seen):
        return lambda: asked.append(1) or seen

    assert diagnose([NOTHING], (x,), None, x + 1, *TOL, after=after((x + 1,))) is NOTHING
    assert diagnose([NOTHING], (x,), None, x + 1, *TOL, after=after((x,))) is None  # returned None, changed nothing
    assert diagnose([NOTHING], (x,), None, x + 1, *TOL, after=after(None)) is None  # could not be observed
    assert diagnose([NOTHING], (x,), None, x + 1, *TOL) is None
    asked.clear()
    assert diagnose([NOTHING, DOUBLE], (x,), 2 * x, x + 1, *TOL, after=after((x + 1,))) is DOUBLE
    assert asked == []  # the student's arguments are asked for only when a None result needs them


def test_diagnosing_adds_the_hint_and_the_id():
    catalogue = Catalogue([DOUBLE, SQUARE, Misconception("g.doubles", lambda x: 2 * x, "Other function.")])
    x = np.array([1.0, 3.0])
    with pytest.raises(Diagnosed) as raised:
        with catalogue.diagnosing("f", (x,), 2 * x, x + 1, *TOL):
            raise Mismatch("f(np.array([1., 3.])) returned np.array([2., 6.]), expected np.array([2., 4.])")
    assert raised.value.misconception == "f.doubles"
    assert str(raised.value).splitlines() == ["f(np.array([1., 3.])) returned np.array([2., 6.]), expected "
                                              "np.array([2., 4.])", DOUBLE.hint]
    with pytest.raises(Mismatch) as plain:
        with catalogue.diagnosing("f", (x,), x + 7, x + 1, *TOL):
            raise Mismatch("f returned something else")
    assert not isinstance(plain.value, Diagnosed) and not hasattr(plain.value, "misconception")


def test_a_long_check_message_is_cut_not_the_hint():
    hint = "A hint that must be read in full. " * 10
    long = Misconception("f.long", lambda x: 2 * x, hint.strip())
    with pytest.raises(Diagnosed) as raised:
        with Catalogue([long]).diagnosing("f", (np.ones(2),), 2 * np.ones(2), 1 + np.ones(2), *TOL):
            raise Mismatch("f(1.0) returned " + "9" * 700)
    text = str(raised.value)
    assert len(text) <= FEEDBACK_CHARS and text.endswith(hint.strip()) and "..." in text


# -- every catalogued mistake, injected into a released notebook and graded ------------------------

STUDENT_ADMISSIONS_RIGHT = {  # each function on its own, so that one wrong function changes no other
    "sigmoid": "def sigmoid(x):\n    return 1 / (1 + np.exp(-x))",
    "sigmoid_prime": "def sigmoid_prime(x):\n    s = 1 / (1 + np.exp(-x))\n    return s * (1 - s)",
    "error_term": "def error_term(y, output, h):\n    return (y - output) * output * (1 - output)",
    "update_weights": "def update_weights(weights, x, delta, learnrate):\n    return weights + learnrate * delta * x",
}
STUDENT_ADMISSIONS_WRONG = {
    "sigmoid.positive_exponent": "def sigmoid(x):\n    return 1 / (1 + np.exp(x))",
    "sigmoid.minus_in_denominator": "def sigmoid(x):\n    return 1 / (1 - np.exp(-x))",
    "sigmoid_prime.of_the_input": "def sigmoid_prime(x):\n    return x * (1 - x)",
    "sigmoid_prime.sigmoid_itself": "def sigmoid_prime(x):\n    return 1 / (1 + np.exp(-x))",
    "sigmoid_prime.plus_instead_of_minus": "def sigmoid_prime(x):\n    s = 1 / (1 + np.exp(-x))\n    return s * (1 + s)",
    "error_term.missing_derivative": "def error_term(y, output, h):\n    return y - output",
    "error_term.derivative_of_output": "def error_term(y, output, h):\n"
                                       "    slope = np.exp(-output) / (1 + np.exp(-output)) ** 2\n"
                                       "    return (y - output) * slope",
    "error_term.sign_flipped": "def error_term(y, output, h):\n    return (output - y) * output * (1 - output)",
    "update_weights.subtracts_step": "def update_weights(weights, x, delta, learnrate):\n"
                                     "    return weights - learnrate * delta * x",
    "update_weights.missing_learnrate": "def update_weights(weights, x, delta, learnrate):\n    return weights + delta * x",
    "update_weights.missing_input": "def update_weights(weights, x, delta, learnrate):\n"
                                    "    return weights + learnrate * delta",
    "update_weights.in_place_without_return": "def update_weights(weights, x, delta, learnrate):\n"
                                              "    weights += learnrate * delta * x",
}
STUDENT_ADMISSIONS_UNRELATED = {  # wrong, but none of the catalogued mistakes
    "sigmoid": "def sigmoid(x):\n    return x * 2",
    "sigmoid_prime": "def sigmoid_prime(x):\n    return x * 2",
    "error_term": "def error_term(y, output, h):\n    return (y - output) * h",
    "update_weights": "def update_weights(weights, x, delta, learnrate):\n    return weights * 2",
}

PREDICTION = "1 / (1 + np.exp(-(np.dot(x, weights) + bias)))"
GRADIENT_DESCENT_RIGHT = {
    "sigmoid": "def sigmoid(x):\n    return 1 / (1 + np.exp(-x))",
    "output_formula": "def output_formula(features, weights, bias):\n"
                      "    return 1 / (1 + np.exp(-(np.dot(features, weights) + bias)))",
    "error_formula": "def error_formula(y, output):\n    return -y * np.log(output) - (1 - y) * np.log(1 - output)",
    "update_weights": "def update_weights(x, y, weights, bias, learnrate):\n"
                      f"    step = learnrate * (y - {PREDICTION})\n"
                      "    return weights + step * x, bias + step",
}
GRADIENT_DESCENT_WRONG = {
    "sigmoid.positive_exponent": "def sigmoid(x):\n    return 1 / (1 + np.exp(x))",
    "sigmoid.minus_in_denominator": "def sigmoid(x):\n    return 1 / (1 - np.exp(-x))",
    "output_formula.missing_sigmoid": "def output_formula(features, weights, bias):\n"
                                      "    return np.dot(features, weights) + bias",
    "output_formula.missing_bias": "def output_formula(features, weights, bias):\n"
                                   "    return 1 / (1 + np.exp(-np.dot(features, weights)))",
    "output_formula.sum_collapses_batch": "def output_formula(features, weights, bias):\n"
                                          "    return 1 / (1 + np.exp(-(np.sum(features * weights) + bias)))",
    "error_formula.missing_minus": "def error_formula(y, output):\n"
                                   "    return y * np.log(output) + (1 - y) * np.log(1 - output)",
    "error_formula.flipped_second_term": "def error_formula(y, output):\n"
                                         "    return -y * np.log(output) + (1 - y) * np.log(1 - output)",
    "error_formula.swapped_logs": "def error_formula(y, output):\n"
                                  "    return -y * np.log(1 - output) - (1 - y) * np.log(output)",
    "error_formula.sum_collapses_batch": "def error_formula(y, output):\n"
                                         "    return np.sum(-y * np.log(output) - (1 - y) * np.log(1 - output))",
    "error_formula.mean_collapses_batch": "def error_formula(y, output):\n"
                                          "    return np.mean(-y * np.log(output) - (1 - y) * np.log(1 - output))",
    "update_weights.prediction_after_step": "def update_weights(x, y, weights, bias, learnrate):\n"
                                            f"    weights = weights + learnrate * (y - {PREDICTION}) * x\n"
                                            f"    return weights, bias + learnrate * (y - {PREDICTION})",
    "update_weights.missing_bias_step": "def update_weights(x, y, weights, bias, learnrate):\n"
                                        f"    return weights + learnrate * (y - {PREDICTION}) * x, bias",
    "update_weights.step_sign": "def update_weights(x, y, weights, bias, learnrate):\n"
                                f"    step = learnrate * (y - {PREDICTION})\n"
                                "    return weights - step * x, bias - step",
    "update_weights.missing_learnrate": "def update_weights(x, y, weights, bias, learnrate):\n"
                                        f"    error = y - {PREDICTION}\n"
                                        "    return weights + error * x, bias + error",
}
GRADIENT_DESCENT_UNRELATED = {
    "sigmoid": "def sigmoid(x):\n    return x * 2",
    "output_formula": "def output_formula(features, weights, bias):\n    return np.dot(features, weights) * 2",
    "error_formula": "def error_formula(y, output):\n    return (y - output) * 2",
    "update_weights": "def update_weights(x, y, weights, bias, learnrate):\n    return weights * 2, bias * 2",
}
ANSWERS = {
    "student-admissions": (STUDENT_ADMISSIONS_RIGHT, STUDENT_ADMISSIONS_WRONG, STUDENT_ADMISSIONS_UNRELATED),
    "gradient-descent": (GRADIENT_DESCENT_RIGHT, GRADIENT_DESCENT_WRONG, GRADIENT_DESCENT_UNRELATED),
}
NOTATION = ("y_hat", "delta", "eta", "alpha", "sigma", "f'(h)", "x_i", "w_i")  # the lessons' symbols, spelled out


def submissions(right: dict, wrong: dict, unrelated: dict) -> dict[str, tuple[dict[str, str], dict[str, str]]]:
    """name -> (answer sources by function, the mistake injected in each wrong function): the k-th
    mistake of every function in submission k, one submission all right, one wrong but not in the catalogue."""
    by_function: dict[str, list[str]] = {}
    for mistake in wrong:
        by_function.setdefault(mistake.split(".")[0], []).append(mistake)
    made = {"all-right": ({}, {}), "unrelated": (dict(unrelated), {})}
    for k in range(max(len(ids) for ids in by_function.values())):
        injected = {function: ids[k] for function, ids in by_function.items() if k < len(ids)}
        made[f"mistakes-{k + 1}"] = ({f: wrong[m] for f, m in injected.items()}, injected)
    return {name: ({**right, **sources}, injected) for name, (sources, injected) in made.items()}


@pytest.fixture(scope="module", params=list(ANSWERS))
def graded(request, tmp_path_factory) -> dict:
    """name -> (injected mistakes by function, SubmissionResult), all graded by one Grader."""
    assignment = load_assignment(request.param, REPO)
    folder = tmp_path_factory.mktemp(request.param)
    results = {}
    with Grader(assignment) as grader:
        for name, (answers, injected) in submissions(*ANSWERS[request.param]).items():
            notebook = nbformat.read(assignment.release_notebook, as_version=4)
            for cell in notebook.cells:
                function = cell.metadata.get("nbgrader", {}).get("grade_id")
                if function in answers:
                    cell.source = answers[function]
            path = folder / f"{name}.ipynb"
            nbformat.write(notebook, path)
            results[name] = (injected, grader.grade(name, path))
    return {"assignment": assignment, "results": results}


def labels(part) -> set[str]:
    return {test.misconception for test in part.tests if test.misconception}


@pytest.mark.slow
def test_every_catalogued_mistake_is_injected(graded):
    catalogue = load_catalogue(graded["assignment"].suite_dir)
    wrong = ANSWERS[graded["assignment"].name][1]
    assert sorted(entry.id for entry in catalogue) == sorted(wrong)
    assert {entry.function for entry in catalogue} <= set(graded["assignment"].parts)


@pytest.mark.slow
def test_each_mistake_is_recognised_by_name_and_nothing_else_is_labelled(graded):
    found, expected = {}, {}
    for name, (injected, result) in graded["results"].items():
        assert result.status == "graded", result.message
        for part in result.parts:
            found[(name, part.name)] = labels(part)
            expected[(name, part.name)] = {injected[part.name]} if part.name in injected else set()
    assert found == expected


@pytest.mark.slow
def test_right_answers_get_full_marks(graded):
    result = graded["results"]["all-right"][1]
    assert result.score == result.max_score, [t.feedback for p in result.parts for t in p.tests if t.feedback]


@pytest.mark.slow
def test_unrelated_wrong_answers_fail_without_a_label(graded):
    result = graded["results"]["unrelated"][1]
    for part in result.parts:
        if part.name in ANSWERS[graded["assignment"].name][2]:
            assert part.score < part.max_score and labels(part) == set(), part.name


@pytest.mark.slow
def test_feedback_ends_with_the_hint_in_the_lessons_notation(graded):
    hints = {entry.id: entry.hint for entry in load_catalogue(graded["assignment"].suite_dir)}
    seen = set()
    for _, result in graded["results"].values():
        for part in result.parts:
            for test in part.tests:
                if test.misconception:
                    check, hint = test.feedback.rsplit("\n", 1)
                    assert hint == hints[test.misconception] and check.strip()
                    assert test.to_dict()["misconception"] == test.misconception
                    seen.add(test.misconception)
    assert seen == set(hints)
    for mistake, hint in hints.items():
        assert re.fullmatch(r"[A-Z][^\n]{60,}\.", hint), mistake
        assert any(symbol in hint for symbol in NOTATION), mistake

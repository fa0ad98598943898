"""The `compare` fixture against a real worker: one batched call, the first wrong element or row told,
float32 tolerances, the student's errors, known mistakes named; handed out by the plugin."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest

from autograder.suite.assertions import Checker, Mismatch
from autograder.suite.compare import Compare, one_of
from autograder.course.config import Tolerance
from autograder.errors import StudentError
from autograder.suite.misconceptions import Catalogue, Diagnosed, Misconception
from autograder.running.sandbox import build_launch
from autograder.running.outcomes import MissingFunction
from autograder.running.session import StudentSession
from autograder.running.worker_process import Worker
from autograder.suite.runner import Suite
from toycourse import make_course, wire


def square(x):
    return np.asarray(x, dtype=float) ** 2


REFERENCE = SimpleNamespace(
    square=square, wrong_above_two=square, wrong_in_batches=square, loose=square, loose_wrong=square,
    raises=square, wrong_raises_on_numbers=square, cube=lambda x: np.asarray(x, dtype=float) ** 3,
    score=lambda points, weights: np.dot(points, weights), grow=lambda x: np.asarray(x) + 1,
    bump=lambda weights, step: weights + step,
)
NOTEBOOK = [
    "import numpy as np",
    "def square(x):\n    return np.asarray(x, dtype=float) ** 2",
    "def wrong_above_two(x):\n    x = np.asarray(x, dtype=float)\n    return np.where(x > 2, x ** 2 + 1, x ** 2)",
    "def wrong_in_batches(x):\n    return np.asarray(x, dtype=float) ** 2 + (np.size(x) > 1)",
    "def loose(x):\n    return np.asarray(x, dtype=float) ** 2 * (1 + 3e-6)",
    "def loose_wrong(x):\n    return np.asarray(x, dtype=float) ** 2 * (1 + 1e-3)",
    "def raises(x):\n    raise ValueError('not yet')",
    "def wrong_raises_on_numbers(x):\n    if np.ndim(x) == 0:\n        raise ValueError('arrays only')\n"
    "    return np.asarray(x, dtype=float) ** 2 + 1",
    "def score(points, weights):\n    points = np.asarray(points)\n    return np.dot(points, weights) + (points[..., 0] > 0.5)",
    "def grow(x):\n    return 2 * np.asarray(x)",
    "def bump(weights, step):\n    weights += step",
]
CATALOGUE = Catalogue([
    Misconception("grow.doubles", lambda x: 2 * np.asarray(x), "You doubled x instead of adding one to it."),
    Misconception("bump.in_place", lambda weights, step: None, "You changed the weights in place and returned None.",
                  leaves_inputs=lambda weights, step: (weights + step, step)),
])


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return make_course(tmp_path_factory.mktemp("course"))


@pytest.fixture(scope="module")
def student(course):
    assignment = course.assignment()
    with Worker(build_launch(assignment.release_dir)) as worker:
        session = StudentSession(worker, wire(NOTEBOOK), assignment.limits)
        assert session.run_notebook().status == "ok"
        yield session
        session.close()


@pytest.fixture
def compare(student):
    return Compare(student, REFERENCE, Checker(Tolerance(rtol=1e-6, atol=1e-8)), CATALOGUE)


def feedback(compare, *args, **options) -> str:
    with pytest.raises((AssertionError, StudentError)) as raised:  # a Mismatch, or the student's error
        compare(*args, **options)
    return str(raised.value)


def test_a_right_answer_passes_and_gives_the_students_value(compare):
    assert compare("square", np.array([1.0, 3.0])).tolist() == [1.0, 9.0]


def test_the_first_wrong_element_is_told_on_its_own(compare):
    assert feedback(compare, "wrong_above_two", np.array([[1.0, 3.0], [4.0, 0.5]])) == \
        "wrong_above_two(3.0) returned 10.0, expected 9.0"


def test_the_batched_message_stays_when_the_element_is_right_alone_or_not_tried(compare):
    batched = "wrong_in_batches(np.array([1., 2.])) returned np.array([2., 5.]), expected np.array([1., 4.])"
    assert feedback(compare, "wrong_in_batches", np.array([1.0, 2.0])) == batched
    assert feedback(compare, "wrong_above_two", np.array([1.0, 3.0]), per_element=False) == \
        "wrong_above_two(np.array([1., 3.])) returned np.array([ 1., 10.]), expected np.array([1., 9.])"


def test_rows_tell_the_first_wrong_point_of_a_batch(compare):
    points, weights = np.array([[0.2, 0.1], [0.7, 0.1], [0.9, 0.0]]), np.array([1.0, 2.0])
    assert feedback(compare, "score", points, weights, rows=True) == \
        "score(np.array([0.7, 0.1]), np.array([1., 2.])) returned 1.9, expected 0.9"


def test_float32_arguments_get_float32_tolerances_and_their_spelling(compare):
    with pytest.raises(Mismatch):
        compare("loose", np.array([1.0, 2.0]))
    compare("loose", np.array([1.0, 2.0], dtype=np.float32))
    assert feedback(compare, "loose_wrong", np.array([2.0, 3.0], dtype=np.float32)).splitlines()[0] == \
        "loose_wrong(np.float32(2.0)) returned 4.004, expected 4.0"  # its second line says how close it is


def test_a_students_error_is_told_on_one_element_unless_turned_off(compare):
    assert feedback(compare, "raises", np.array([1.0, 2.0])).startswith("raises(1.0) raised ValueError: not yet")
    as_made = dataclasses.replace(compare, element_errors=False)
    assert feedback(as_made, "raises", np.array([1.0, 2.0])).startswith(
        "raises(np.array([1., 2.])) raised ValueError: not yet")


def test_an_element_that_raises_is_told_unless_turned_off(compare):
    assert feedback(compare, "wrong_raises_on_numbers", np.array([1.0, 2.0])).startswith(
        "wrong_raises_on_numbers(1.0) raised ValueError: arrays only")
    as_made = dataclasses.replace(compare, element_errors=False)
    assert feedback(as_made, "wrong_raises_on_numbers", np.array([1.0, 2.0])) == (
        "wrong_raises_on_numbers(np.array([1., 2.])) returned np.array([2., 5.]), expected np.array([1., 4.])")


def test_a_missing_function_is_not_tried_on_an_element(compare):
    with pytest.raises(MissingFunction) as raised:
        compare("cube", np.array([1.0, 2.0]))
    assert str(raised.value).startswith("your notebook does not define `cube`")


def test_a_known_mistake_is_named(compare):
    with pytest.raises(Diagnosed) as raised:
        compare("grow", np.array([1.0, 3.0]))
    assert raised.value.misconception == "grow.doubles"
    assert str(raised.value).splitlines() == ["grow(3.0) returned 6.0, expected 4.0",
                                              "You doubled x instead of adding one to it."]


def test_an_in_place_mistake_is_named_from_the_arguments_after_the_call(compare, student):
    weights = np.array([0.5, 1.0])
    value, (after, step) = student.call_keeping_inputs("bump", weights, 0.25)
    assert (value, after.tolist(), step) == (None, [0.75, 1.25], 0.25)
    assert weights.tolist() == [0.5, 1.0]  # the worker changed its own copy
    with pytest.raises(Diagnosed) as raised:
        compare("bump", weights, 0.25, per_element=False)
    assert raised.value.misconception == "bump.in_place"
    assert str(raised.value).startswith("bump(np.array([0.5, 1. ]), 0.25) returned None")


def test_one_of_picks_one_element_or_row():
    a, b = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([10.0, 20.0])
    assert one_of((a, b, 5.0), (1, 0), rows=False) == (3.0, 10.0, 5.0)
    assert one_of((a, b, 5.0), None, rows=False) == (1.0, 10.0, 5.0)
    assert [x.tolist() for x in one_of((a, b), (1,), rows=True)] == [[3.0, 4.0], [10.0, 20.0]]
    assert one_of((2.0, 3.0), None, rows=False) is None  # no arrays: nothing smaller
    assert one_of((a, np.ones(3)), None, rows=False) is None  # shapes that do not broadcast
    assert one_of((b,), (5,), rows=False) is None  # an index outside the arguments' shape


# -- the plugin's fixture ---------------------------------------------------------------------------

SUITE = {
    "test_square.py": '''
import numpy as np


def test_wrong(compare, memo):
    memo["compare"] = compare
    compare("square", np.array([1.0, 3.0]))
''',
    "as_made/conftest.py": '''
import dataclasses

import pytest


@pytest.fixture(scope="session")
def compare(compare):
    return dataclasses.replace(compare, element_errors=False)
''',
    "as_made/test_raises.py": '''
import numpy as np


def test_raises(compare, memo):
    memo["as made"] = compare
    compare("square", np.array([1.0, 3.0]))
''',
}


def test_the_plugin_hands_out_compare_and_a_conftest_may_adjust_it(tmp_path):
    course = make_course(tmp_path, suite=SUITE["test_square.py"])
    (course.suite_dir / "as_made").mkdir()
    for name in ("as_made/conftest.py", "as_made/test_raises.py"):
        (course.suite_dir / name).write_text(SUITE[name])
    suite = Suite(course.assignment(), course.master_node())
    notebook = ["import numpy as np\ndef square(x):\n    if np.ndim(x) == 0:\n        raise ValueError('no numbers')\n"
                "    return np.where(np.asarray(x) > 2, 0.0, np.asarray(x) ** 2)"]
    with Worker(build_launch(course.assignment().release_dir)) as worker:
        session = StudentSession(worker, wire(notebook), course.assignment().limits)
        session.run_notebook()
        outcomes = {o.name: o.feedback for o in suite.run(session)}
        session.close()
    assert outcomes["test_wrong"].startswith("square(3.0) raised ValueError: no numbers")
    assert outcomes["test_raises"] == "square(np.array([1., 3.])) returned np.array([1., 0.]), expected np.array([1., 9.])"
    memo = suite.plugin.memo_store
    assert isinstance(memo["compare"], Compare) and memo["compare"].element_errors
    assert memo["as made"].element_errors is False and memo["as made"].student is memo["compare"].student

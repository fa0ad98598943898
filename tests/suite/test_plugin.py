"""The pytest plugin: how hidden tests' exceptions become outcomes and feedback, collection, fixtures."""

from __future__ import annotations

import dataclasses

import pytest

from autograder.mismatch import Mismatch
from autograder.errors import NotPlainData, StudentError, WorkerCrashed, WorkerTimeout
from autograder.suite.plugin import classify
from autograder.running.sandbox import build_launch
from autograder.running.outcomes import MissingFunction
from autograder.running.session import StudentSession
from autograder.running.worker_process import Worker
from autograder.suite.runner import Suite
from toycourse import make_course, wire

# -- classify --------------------------------------------------------------------------------------


@pytest.mark.parametrize("error, outcome, feedback", [
    (WorkerTimeout("square(1.0) did not return within 2 s (an endless loop?)"), "timeout",
     "square(1.0) did not return within 2 s (an endless loop?)"),
    (WorkerCrashed("the notebook's process ended while running die(): exited with code 0"), "error",
     "the notebook's process ended while running die(): exited with code 0"),
    (Mismatch("square(3.0) returned 8.0, expected 9.0"), "failed", "square(3.0) returned 8.0, expected 9.0"),
    (AssertionError("plain assert with a message"), "failed", "plain assert with a message"),
    (AssertionError(), "failed", "a hidden check failed"),
    (StudentError("square(2) raised ValueError: no"), "failed", "square(2) raised ValueError: no"),
    (MissingFunction("your notebook does not define `square`"), "failed", "your notebook does not define `square`"),
    (NotPlainData("square(2) returned something the grader cannot read"), "failed",
     "square(2) returned something the grader cannot read"),
    (KeyError("epochs"), "error",
     "the hidden test 'test_x' itself failed (KeyError); please tell your instructor"),
])
def test_classify(error, outcome, feedback):
    assert classify(error, "test_x") == (outcome, feedback)


def test_classify_a_skip():
    with pytest.raises(pytest.skip.Exception) as caught:
        pytest.skip("needs the data file")
    assert classify(caught.value, "test_x") == ("error", "skipped: needs the data file")


def test_feedback_keeps_the_first_three_lines_and_600_characters():
    outcome, text = classify(AssertionError("one\n\ntwo\nthree\nfour"), "test_x")
    assert text == "one\ntwo\nthree"
    assert len(classify(AssertionError("x" * 2000), "test_x")[1]) == 600


# -- the plugin in a real pytest run against a real worker -----------------------------------------

SUITE = '''
import numpy as np
import pytest


@pytest.mark.points(1)
@pytest.mark.visible
def test_number(student, reference, check):
    """square of a single number"""
    check.close(student.square(3.0), reference.square(3.0), "square(3.0)")


def test_none(student, check):
    check.close(student.call("nothing"), 1.0, "nothing()")


def test_raises(student):
    student.call("broken", 2)


def test_hangs(student):
    student.call("loop")


def test_missing(student):
    student.call("cube", 2)


def test_buggy_hidden_test(settings):
    settings["no such key"]


def test_skipped():
    pytest.skip("not today")


@pytest.mark.part("other")
def test_fixtures(assignment, settings, master, memo, reference):
    """fixtures the suite can use"""
    assert assignment.name == "toy" and settings == {"epochs": 3}
    assert master["provided"].startswith("import numpy") and "BEGIN SOLUTION" in master["square"]
    memo["runs"] = memo.get("runs", 0) + 1
    assert reference.square(2.0) == 4.0
'''

NOTEBOOK = [
    "import numpy as np\ndef square(x):\n    return np.asarray(x, dtype=float) ** 2",
    "def nothing():\n    x = 1.0",
    "def broken(n):\n    return [1, 2][n]",
    "def loop():\n    while True:\n        pass",
]


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    toml_extra = "[suite]\nepochs = 3\n"
    course = make_course(tmp_path_factory.mktemp("course"), suite=SUITE, toml_extra=toml_extra)
    course.toml.write_text(course.toml.read_text().replace("square = 3", "square = 8\nother = 1"))
    return course


@pytest.fixture(scope="module")
def suite(course):
    return Suite(course.assignment(), course.master_node())


@pytest.fixture(scope="module")
def outcomes(course, suite):
    assignment = course.assignment()
    with Worker(build_launch(assignment.release_dir)) as worker:
        session = StudentSession(worker, wire(NOTEBOOK), dataclasses.replace(assignment.limits, call_timeout=0.5))
        session.run_notebook()
        try:
            found = {o.name: o for o in suite.run(session)}
            found["visible only"] = suite.run(session, only_visible=True)
        finally:
            session.close()
    return found


def test_collection_reads_parts_points_visibility_and_descriptions(suite):
    collected = {o.name: o for o in suite.collect()}
    assert list(collected) == ["test_number", "test_none", "test_raises", "test_hangs", "test_missing",
                               "test_buggy_hidden_test", "test_skipped", "test_fixtures"]
    number = collected["test_number"]
    assert (number.part, number.points, number.visible, number.description) == \
        ("square", 1.0, True, "square of a single number")
    assert (collected["test_none"].points, collected["test_none"].visible) == (None, False)
    assert collected["test_fixtures"].part == "other"
    assert all(o.outcome == "error" and o.feedback == "the test did not run" for o in collected.values())
    assert number.nodeid.endswith("test_square.py::test_number")


def test_a_passing_test(outcomes):
    assert (outcomes["test_number"].outcome, outcomes["test_number"].feedback) == ("passed", "")


def test_none_from_the_student_fails_with_a_hint(outcomes):
    assert outcomes["test_none"].outcome == "failed"
    assert outcomes["test_none"].feedback == "nothing() returned None; did you forget the `return` statement?"


def test_a_student_error_fails_with_the_students_line(outcomes):
    assert outcomes["test_raises"].outcome == "failed"
    assert outcomes["test_raises"].feedback == ("broken(2) raised IndexError: list index out of range "
                                                "(at cell 3, line 2, in broken: return [1, 2][n])")


def test_a_hanging_function_is_a_timeout(outcomes):
    assert outcomes["test_hangs"].outcome == "timeout"
    assert "loop() did not return within 0.5 s" in outcomes["test_hangs"].feedback


def test_a_missing_function_fails(outcomes):
    assert outcomes["test_missing"].outcome == "failed"
    assert outcomes["test_missing"].feedback.startswith("your notebook does not define `cube`")


def test_a_bug_in_the_hidden_test_is_an_error_for_the_instructor(outcomes):
    assert outcomes["test_buggy_hidden_test"].outcome == "error"
    assert "itself failed (KeyError); please tell your instructor" in outcomes["test_buggy_hidden_test"].feedback


def test_a_skipped_test_is_an_error(outcomes):
    assert (outcomes["test_skipped"].outcome, outcomes["test_skipped"].feedback) == ("error", "skipped: not today")


def test_fixtures_hand_out_the_assignment(outcomes, suite):
    assert outcomes["test_fixtures"].outcome == "passed", outcomes["test_fixtures"].feedback
    assert suite.plugin.memo_store["runs"] >= 1  # the memo outlives one run


def test_only_visible_tests_run_for_a_check(outcomes, suite):
    visible = outcomes["visible only"]
    assert [(o.name, o.outcome) for o in visible] == [("test_number", "passed")]
    assert suite.plugin.session is None  # the session is not kept after a run

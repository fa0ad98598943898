"""The callback path: while `cube` is graded, the notebook's `square` is a stand-in that asks the grader.

A toy course with two graded functions; `cube` is written with the student's `square` in most
scenarios. Hostile uses of the stand-in (a million calls, a huge argument, objects that are not
plain data, endless recursion, forged questions) must each cost that test only, within its time,
with the grader's memory bounded, and never another part or submission.
"""

from __future__ import annotations

import resource
import time
from dataclasses import dataclass

import nbformat
import pytest
from nbformat.v4 import new_code_cell
from toycourse import REFERENCE, make_course

from autograder.grade import Grader
from autograder.results import SubmissionResult

from adversarial.scenarios import CUBE_REFERENCE, GOOD_SQUARE, report
from adversarial.scenarios import TOML as ADVERSARIAL_TOML

# The adversarial course's, with both functions graded, cube declared to use square (its reference
# computes x ** 3 itself), and a part's time short enough for a test
TOML = ADVERSARIAL_TOML.replace("[limits]\n", '[functions]\ngraded = ["square", "cube"]\nuses = { cube = ["square"] }\n'
                                              '\n[limits]\npart_timeout = 15\n')

SUITES = {
    "test_square.py": '''
import numpy as np

def test_square(compare):
    """square of an array"""
    compare("square", np.array([1.0, -2.0, 0.5]))
''',
    "test_cube.py": '''
import numpy as np

def test_cube_of_numbers(compare):
    """cube of numbers"""
    for x in (2.0, -1.5):
        compare("cube", x)

def test_cube_of_an_array(compare):
    """cube of an array"""
    compare("cube", np.array([1.0, -2.0, 0.5]))
''',
}

WITH_SQUARE = "def cube(x):\n    return square(x) * x"
FORGE = '''
import fcntl, json, os, stat, struct
def forge(question):
    data = json.dumps(question).encode()
    for fd in map(int, os.listdir("/proc/self/fd")):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode) and fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY:
                os.write(fd, struct.pack("!Q", len(data)) + data)
        except OSError:
            pass
'''

SCENARIOS = {  # name -> (square, extra cells)
    "right-through-the-stand-in": (GOOD_SQUARE, [WITH_SQUARE]),
    "wrong-square-right-cube": ("def square(x):\n    return np.asarray(x, dtype=float) * 3", [WITH_SQUARE]),
    "no-square-right-cube": ("# square is not written yet", [WITH_SQUARE]),
    "a-million-calls": (GOOD_SQUARE, ["def cube(x):\n    for _ in range(1_000_000):\n        square(x)\n"
                                      "    return square(x) * x"]),
    "huge-argument": (GOOD_SQUARE, ["def cube(x):\n    square(np.zeros(5_000_000))\n    return square(x) * x"]),
    "not-plain-data": (GOOD_SQUARE, ["def cube(x):\n    return square(lambda: x) * x"]),
    "endless-recursion": (GOOD_SQUARE, ["def cube(x):\n    square(x)\n    return cube(x)"]),
    "deep-recursion": (GOOD_SQUARE, ["def cube(x, depth=0):\n    if depth < 200:\n"
                                     "        return cube(x, depth + 1)\n    return square(x) * x"]),
    "forged-question": (GOOD_SQUARE, [FORGE + "def cube(x):\n"
                                      "    forge({'event': 'reference', 'name': 'load_data', 'id': 1, 'args': []})\n"
                                      "    return square(x) * x"]),
    "question-from-a-cell": (GOOD_SQUARE, [WITH_SQUARE, FORGE + "forge({'event': 'reference', 'name': 'square', "
                                           "'id': 1, 'args': [2.0]})"]),
    "next-submission": (GOOD_SQUARE, [WITH_SQUARE, report("seen['ok'] = True")]),
    # square is wrong (its own tests say so) and never returns on 2.0, which only cube's check with
    # the student's own square reaches
    "helper-hangs-on-numbers": ("def square(x):\n    while np.ndim(x) == 0 and x == 2.0:\n        pass\n"
                                "    return np.asarray(x, dtype=float) * 3", [WITH_SQUARE]),
}


@dataclass
class Run:
    results: dict[str, SubmissionResult]
    rss_growth_mb: float
    seconds: dict[str, float]


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Run:
    course = make_course(tmp_path_factory.mktemp("standins"), toml=TOML, suite=SUITES,
                         reference=REFERENCE + CUBE_REFERENCE)
    results, seconds = {}, {}
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with Grader(course.assignment()) as grader:
        for name, (square, extra) in SCENARIOS.items():
            path = course.released_with(name, square)
            notebook = nbformat.read(path, as_version=4)
            notebook.cells += [new_code_cell(source) for source in extra]
            nbformat.write(notebook, path)
            started = time.monotonic()
            results[name] = grader.grade(name, path)
            seconds[name] = time.monotonic() - started
    return Run(results, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - rss_before, seconds)


def scores(result: SubmissionResult) -> dict[str, float]:
    return {part.name: part.score for part in result.parts}


def cube_feedback(result: SubmissionResult) -> str:
    return " | ".join(t.feedback for t in result.part("cube").tests)


def test_a_function_written_with_another_is_graded_with_the_reference_of_that_other(run):
    right = run.results["right-through-the-stand-in"]
    assert scores(right) == {"square": 3.0, "cube": 2.0}
    assert cube_feedback(right) == "graded with the reference's `square` in place of yours | "  # said once
    wrong = run.results["wrong-square-right-cube"]
    assert scores(wrong) == {"square": 0.0, "cube": 2.0}  # the points follow the function that is wrong
    assert "your `cube` is right; with your own `square`" in cube_feedback(wrong)
    assert "Fix `square`" in cube_feedback(wrong)


def test_a_function_written_on_top_of_a_missing_one_keeps_its_points_and_says_what_to_write(run):
    missing = run.results["no-square-right-cube"]
    assert scores(missing) == {"square": 0.0, "cube": 2.0}
    assert "your notebook does not define `square`" in missing.part("square").tests[0].feedback
    assert "with your own `square` instead of the reference's: cube(2.0) raised NameError" in cube_feedback(missing)
    assert "Write `square`: your notebook does not define it" in cube_feedback(missing)


def test_a_million_calls_of_the_stand_in_cost_that_test_its_time_only(run):
    result = run.results["a-million-calls"]
    assert scores(result) == {"square": 3.0, "cube": 0.0}
    assert "more than 66 times" in cube_feedback(result)  # 64 for any call and 2 for its one number
    assert run.seconds["a-million-calls"] < 15  # one call's time, then the function is not called again


def test_a_huge_argument_is_refused_in_the_notebook(run):
    result = run.results["huge-argument"]
    assert scores(result) == {"square": 3.0, "cube": 0.0}
    assert "too large to send to the grader" in cube_feedback(result)


def test_an_argument_that_is_not_plain_data_fails_that_call(run):
    result = run.results["not-plain-data"]
    assert scores(result) == {"square": 3.0, "cube": 0.0}
    assert "could not be called with these arguments" in cube_feedback(result)


def test_recursion_through_the_stand_in(run):
    assert scores(run.results["deep-recursion"]) == {"square": 3.0, "cube": 2.0}
    endless = run.results["endless-recursion"]
    assert scores(endless) == {"square": 3.0, "cube": 0.0}
    assert "more than 66 times" in cube_feedback(endless)  # each level asks once: the call's count ends it


def test_forged_questions_get_no_reference_code_and_cost_only_their_submission(run):
    forged = run.results["forged-question"]
    assert forged.status == "graded" and scores(forged)["square"] == 3.0  # its own answers only are out of step
    from_cell = run.results["question-from-a-cell"]
    assert from_cell.status == "crashed" and from_cell.score == 0  # a question outside a call ends the notebook
    assert scores(run.results["next-submission"]) == {"square": 3.0, "cube": 2.0}


def test_the_graders_memory_stays_bounded(run):
    assert run.rss_growth_mb < 300, f"the grader grew by {run.rss_growth_mb:.0f} MB"


def test_a_helper_that_hangs_only_with_the_students_own_call_costs_the_function_under_test_nothing(run):
    result = run.results["helper-hangs-on-numbers"]
    assert scores(result) == {"square": 0.0, "cube": 2.0}  # cube is right: run with its own square, it hangs
    assert "Fix `square`" in cube_feedback(result)

"""The reference process: a real one, cut at its deadline, out of memory, killed, and stopped with its grader;
then a toy course graded through it, where each bad question costs its call only, never the batch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import nbformat
import numpy as np
import psutil
import pytest
from nbformat.v4 import new_code_cell
from toycourse import make_course

from autograder.grade import Grader
from autograder.running import protocol
from autograder.running.referee import REFEREE

from adversarial.scenarios import TOML as ADVERSARIAL_TOML

REFERENCE = '''\
import os
import signal
import time

import numpy as np


def square(x, factor=1):
    while np.ndim(x) == 0 and x == 7.0:  # never returns on 7
        pass
    if np.ndim(x) == 0 and x == 13.0:  # its process is killed while it answers
        os.kill(os.getpid(), signal.SIGKILL)
    return np.asarray(x * factor, dtype=float) ** 2


def cube(x):
    return square(x) * np.asarray(x, dtype=float)


def ones(n):
    return np.ones(n)
'''


@pytest.fixture(scope="module")
def path(tmp_path_factory):
    path = tmp_path_factory.mktemp("referee") / "toy.py"
    path.write_text(REFERENCE)
    return str(path)


def ask(path: str, name: str, *args, seconds: float = 5.0, budget: int = 64) -> dict:
    assert REFEREE.start(path, time.monotonic() + 30)
    return REFEREE.ask({"path": path, "name": name, "args": protocol.encode(list(args)),
                        "kwargs": protocol.encode(()), "budget": budget, "memory_mb": 256}, seconds)


def answered(reply: dict):
    return protocol.decode(reply["value"])


def test_an_answer_is_a_round_trip_well_under_a_millisecond(path):
    ask(path, "square", 2.0)
    started = time.perf_counter()
    for _ in range(200):
        assert answered(ask(path, "square", 2.0)) == 4.0
    assert (time.perf_counter() - started) / 200 < 0.002  # about 0.2 ms here; a wide margin for a busy machine


def test_a_reference_that_never_returns_is_cut_at_the_deadline_and_replaced(path):
    first = REFEREE.process.pid if REFEREE.running else ask(path, "square", 1.0) and REFEREE.process.pid
    started = time.monotonic()
    reply = ask(path, "square", 7.0, seconds=0.5)
    assert reply == {"error": "it did not answer within 0.5 s on these arguments", "refused": True}
    assert time.monotonic() - started < 2 and not psutil.pid_exists(first)
    assert answered(ask(path, "square", 3.0)) == 9.0 and REFEREE.process.pid != first


def test_a_reference_out_of_memory_answers_so_and_its_process_is_replaced(path):
    grader = psutil.Process()
    before = grader.memory_info().rss
    reply = ask(path, "ones", 10**9)  # 8 GB, chosen by the student; the process may add 256 MB
    assert reply == {"error": "it ran out of its memory (256 MB) on these arguments", "refused": True}
    assert grader.memory_info().rss - before < 50 * 2**20 and not REFEREE.running
    assert answered(ask(path, "square", 3.0)) == 9.0


def test_a_process_killed_while_answering_costs_that_question_only(path):
    reply = ask(path, "square", 13.0)
    assert reply["refused"] and "its process ended while answering" in reply["error"]
    assert answered(ask(path, "square", 3.0)) == 9.0


def test_a_process_killed_between_questions_is_replaced_unseen(path):
    ask(path, "square", 1.0)
    os.kill(REFEREE.process.pid, signal.SIGKILL)
    time.sleep(0.1)
    assert answered(ask(path, "square", 3.0)) == 9.0


GRADER = '''
import os, signal, sys, time
from autograder.running.referee import REFEREE
assert REFEREE.start(sys.argv[1], time.monotonic() + 30)
print(REFEREE.process.pid, flush=True)
how = sys.argv[2]
if how == "killed":
    os.kill(os.getpid(), signal.SIGKILL)
if how == "os._exit":  # as a grader process of --jobs ends
    os._exit(0)
'''


@pytest.mark.parametrize("how", ["exit", "os._exit", "killed"])
def test_the_process_is_stopped_with_its_grader(path, how):
    grader = subprocess.run([sys.executable, "-c", GRADER, path, how], capture_output=True, text=True, timeout=60)
    helper = int(grader.stdout.split()[0])
    for _ in range(50):
        if not psutil.pid_exists(helper) or psutil.Process(helper).status() == psutil.STATUS_ZOMBIE:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the reference process {helper} outlived its grader ({how})")


# -- a toy course graded through it --------------------------------------------------------------

TOML = ADVERSARIAL_TOML.replace("[limits]\n", '[functions]\ngraded = ["square", "cube"]\n\n[limits]\npart_timeout = 15\n')
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
SQUARE = "def square(x, factor=1):\n    return np.asarray(x * factor, dtype=float) ** 2"
CUBES = {  # student -> the cells after the answer: its cube, which asks the stand-in for square
    "right": "return square(x) * x",
    "n-by-n": "square(np.zeros((6000, 1)), [1.0] * 6000)\nreturn square(x) * x",
    "repeated-list": "square([0.5] * 40, 10**6)\nreturn square(x) * x",
    "caught": "try:\n    square(np.zeros((6000, 1)), [1.0] * 6000)\nexcept Exception:\n    pass\n"
              "return np.asarray(x, dtype=float) ** 3",  # right, but a question it asked was over a bound
    "never-answered": "square(7.0)\nreturn square(x) * x",
    "killed-while-answering": "square(13.0)\nreturn square(x) * x",
    "too-many": "for _ in range(500):\n    square(x)\nreturn square(x) * x",
    "next-submission": "return square(x) * x",
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = make_course(tmp_path_factory.mktemp("course"), toml=TOML, suite=SUITES, reference=REFERENCE)
    grader_rss, results = psutil.Process().memory_info().rss, {}
    with Grader(course.assignment()) as grader:
        for student, body in CUBES.items():
            notebook = course.answered(SQUARE, ["def cube(x):\n" + textwrap.indent(body, "    ")])
            if student == "next-submission":  # killed between two submissions, as by an operator
                os.kill(REFEREE.process.pid, signal.SIGKILL)
            results[student] = grader.grade(student, course.write(student, notebook))
    return results, (psutil.Process().memory_info().rss - grader_rss) / 2**20


def scores(result) -> dict[str, float]:
    return {part.name: part.score for part in result.parts}


def feedback(result) -> str:
    return " | ".join(test.feedback for test in result.part("cube").tests)


def test_right_notebooks_score_full_marks_through_the_reference_process(graded):
    results, _ = graded
    assert scores(results["right"]) == scores(results["next-submission"]) == {"square": 3.0, "cube": 2.0}


@pytest.mark.parametrize("student, message", [
    ("n-by-n", "would make it build 36,000,000 numbers"),
    ("repeated-list", "would make it build 40,000,000 numbers"),
    ("caught", "the reference's square, standing in for yours in this test, could not answer: these arguments"),
    ("never-answered", "it did not answer within"),
    ("killed-while-answering", "its process ended while answering"),
    ("too-many", "more than 66 times"),
])
def test_a_question_over_a_bound_fails_its_call_with_a_message_and_nothing_else(graded, student, message):
    results, grader_growth_mb = graded
    assert results[student].status == "graded" and scores(results[student]) == {"square": 3.0, "cube": 0.0}
    assert message in feedback(results[student]), feedback(results[student])
    assert grader_growth_mb < 100 and psutil.Process(REFEREE.process.pid).memory_info().rss < 300 * 2**20

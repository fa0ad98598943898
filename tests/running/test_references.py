"""The grader's answers to the worker's stand-ins: the reference on arguments the student's code chose, held
to the size of the call under test, answered by the reference's own process (real, as in grading)."""

from __future__ import annotations

import importlib.util
import time

import numpy as np
import psutil
import pytest

from autograder.running import protocol
from autograder.running.referee import REFEREE
from autograder.running.references import FLOOR, QUESTIONS_PER_CALL, Call, answer, size

REFERENCE = '''\
import numpy as np


def scale(a, b):
    return a * b


def fails(x):
    raise ValueError("not for these")


def load_data():
    return "secret"
'''


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    path = tmp_path_factory.mktemp("reference") / "toy_reference.py"
    path.write_text(REFERENCE)
    spec = importlib.util.spec_from_file_location("toy_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def question(name: str, *args, number: int = 7) -> dict:
    return {"event": "reference", "name": name, "id": number, "args": protocol.encode(list(args)),
            "kwargs": protocol.encode(())}


def call_of(*args, isolate=("scale", "fails"), seconds: float = 10.0) -> Call:
    """The call under test, as StudentSession sends it, with `args` for arguments."""
    return Call({"op": "call", "args": protocol.encode(list(args)), "kwargs": protocol.encode(()),
                 "isolate": list(isolate)}, time.monotonic() + seconds)


def test_the_reference_answers_for_a_function_standing_in(reference):
    reply = answer(question("scale", np.array([1.0, 2.0]), 3.0), call_of(np.zeros(3)), reference)
    assert reply["answer"] == 7 and np.array_equal(protocol.decode(reply["value"]), [3.0, 6.0])


def test_only_functions_standing_in_for_this_call_are_answered(reference):
    for name in ("load_data", "__class__", "np"):
        reply = answer(question(name), call_of(1.0, isolate=("scale", "load_data")[:1]), reference)
        assert "not a function the grader stands in for" in reply["error"] and "value" not in reply


def test_what_the_reference_raises_is_the_answers_error_and_does_not_fail_the_call(reference):
    call = call_of(1.0)
    assert answer(question("fails", 1.0), call, reference)["error"] == "ValueError: not for these"
    assert call.outcome({"ok": True, "value": 1.0}) == {"ok": True, "value": 1.0}  # its code may catch it


def rss_mb(process: psutil.Process) -> float:
    return process.memory_info().rss / 2**20


@pytest.mark.parametrize("args", [
    ([1.0] * 6000, np.zeros((6000, 1))),  # a list beside an (N, 1) array: NumPy broadcasts it to N x N
    (np.zeros((6000, 1)), np.zeros(6000)),
    (10**6, [0.5] * 40),  # a number times a list repeats the list
    ((0.5,) * 40, 10**6),
    (10**8, "ab"),
])
def test_a_question_that_would_build_more_than_the_tests_own_inputs_is_refused_unrun(reference, args):
    """The N x N question took the grader to 5.2 GB: counting N + N numbers let the reference run on it.
    Now it is refused in the reference's process before the reference runs, and no process grows."""
    grader = psutil.Process()
    before = rss_mb(grader)
    call = call_of(np.zeros(3))
    reply = answer(question("scale", *args), call, reference)
    assert "value" not in reply and "would make it build" in reply["error"], str(reply)[:300]
    assert "more than the 64 the test's own inputs hold" in reply["error"]
    assert rss_mb(grader) - before < 50 and rss_mb(psutil.Process(REFEREE.process.pid)) < 200
    failed = call.outcome({"ok": True, "value": 0.0})  # even had its code caught the error, the call fails
    assert not failed["ok"] and "the reference's scale" in failed["error"]["message"]


def test_a_question_the_size_of_the_calls_own_arguments_is_answered(reference):
    x = np.ones((100, 1))
    call = call_of(x, np.ones(100))  # 100 x 100 numbers when broadcast: this test's own inputs
    assert np.shape(protocol.decode(answer(question("scale", x, np.ones(100)), call, reference)["value"])) == (100, 100)
    assert "would make it build" in answer(question("scale", x, np.ones(101)), call, reference)["error"]
    assert "value" in answer(question("scale", np.ones(FLOOR - 1), 2.0), call_of(2.0), reference)  # a test of numbers


def test_a_call_asks_a_bounded_number_of_questions(reference):
    call = call_of(np.zeros(3))
    most = QUESTIONS_PER_CALL + 2 * 3
    assert call.most_questions == most
    for number in range(1, most + 1):
        assert "value" in answer(question("scale", 1.0, 2.0, number=number), call, reference)
    reply = answer(question("scale", 1.0, 2.0, number=most + 1), call, reference)
    assert f"more than {most} times" in reply["error"]
    again = answer(question("scale", 1.0, 2.0), call, reference)["error"]
    assert again == f"an earlier question of this call was refused: {reply['error']}"
    assert not call.outcome({"ok": True, "value": 2.0})["ok"]


def test_a_call_without_time_left_gets_no_answer(reference):
    reply = answer(question("scale", 1.0, 2.0), call_of(1.0, seconds=0.0), reference)
    assert "no time left" in reply["error"]


def test_size_counts_what_broadcasting_repetition_and_nesting_build():
    assert size([np.zeros((5, 1)), np.zeros(7)]) == 35
    assert size([np.zeros((5, 1)), np.zeros(7), np.zeros(3)]) == 35  # (7,) and (3,) do not broadcast: each may
    assert size([[[1.0, 2.0]] * 3, np.zeros((4, 1, 1))]) == 24  # a nested list is a (3, 2) array to NumPy
    assert size([[1.0, [2.0, 3.0]], 10]) == 30  # a ragged list repeated 10 times
    assert size([3, "abc"]) == 9 and size([True, [1.0] * 5]) == 6
    assert size([2.5, [1.0] * 5]) == 6  # a float repeats nothing
    assert size([]) == 0 and size([1.0]) == 1

"""The grader's answers to the worker's stand-ins: the reference on arguments the student's code chose."""

from __future__ import annotations

import resource

import numpy as np

from autograder.running import protocol
from autograder.running.references import answer


class Reference:
    @staticmethod
    def scale(a, b):
        return a * b

    @staticmethod
    def fails(x):
        raise ValueError("not for these")


def question(name: str, *args, number: int = 7) -> dict:
    return {"event": "reference", "name": name, "id": number, "args": protocol.encode(list(args)),
            "kwargs": protocol.encode(())}


def test_the_reference_answers_for_a_function_standing_in():
    reply = answer(question("scale", np.array([1.0, 2.0]), 3.0), ["scale"], Reference())
    assert reply["answer"] == 7 and np.array_equal(protocol.decode(reply["value"]), [3.0, 6.0])


def test_only_functions_standing_in_for_this_call_are_answered():
    for name in ("fails", "__class__", "load_data"):
        reply = answer(question(name, 1.0), ["scale"], Reference())
        assert "not a function the grader stands in for" in reply["error"] and "value" not in reply


def test_what_the_reference_raises_is_the_answers_error():
    assert answer(question("fails", 1.0), ["fails"], Reference())["error"] == "ValueError: not for these"


def test_arguments_that_would_make_the_reference_build_a_huge_array_are_refused_unread():
    """(5000, 1) * (5000,) broadcasts to 25 million values: 200 MB in the grader, chosen by the student."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    reply = answer(question("scale", np.zeros((5000, 1)), np.zeros(5000)), ["scale"], Reference())
    assert "value" not in reply and "too large" in reply["error"], str(reply)[:200]
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - before < 100

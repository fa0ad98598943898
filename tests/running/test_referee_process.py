"""The reference process's own work, called here in-process: import by path, strict arguments, bounds
checked before the reference runs and before its answer is encoded (test_referee.py runs it as a process)."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.running import protocol, referee_process

REFERENCE = '''\
import numpy as np

CALLS = []


def scale(a, b):
    CALLS.append(1)
    return a * b


def ones(n):
    return np.ones(n)


def version():
    return {version}
'''


@pytest.fixture
def path(tmp_path):
    path = tmp_path / "reference.py"
    path.write_text(REFERENCE.format(version=1))
    return path


def ask(path, name, *args, budget=64, kwargs=()):
    return referee_process.answer({"path": str(path), "name": name, "args": protocol.encode(list(args)),
                                   "kwargs": protocol.encode(tuple(kwargs)), "budget": budget, "memory_mb": 0,
                                   "seconds": 5.0})


def calls(path) -> list:
    return referee_process._modules[str(path)][1].CALLS


def test_a_question_is_answered_with_the_references_value_as_plain_data(path):
    assert referee_process.answer({"path": str(path), "load": True}) == {"loaded": True}
    reply = ask(path, "scale", np.array([1.0, 2.0]), 3.0)
    assert np.array_equal(protocol.decode(reply["value"]), [3.0, 6.0]) and calls(path) == [1]
    assert protocol.decode(ask(path, "scale", 2.0, kwargs=[("b", 4.0)])["value"]) == 8.0


def test_arguments_that_would_build_too_much_are_refused_before_the_reference_runs(path):
    reply = ask(path, "scale", np.zeros((100, 1)), [1.0] * 100, budget=1000)
    assert reply["refused"] and "would make it build 10,000 numbers" in reply["error"]
    assert str(path) not in referee_process._modules or calls(path) == []


def test_an_answer_larger_than_the_budget_is_refused_before_it_is_encoded(path):
    assert "value" in ask(path, "ones", 64)
    reply = ask(path, "ones", 10_000)  # the arguments hold one number; the answer would hold 10,000
    assert reply == {"error": "its answer would hold 10,000 numbers, more than the 64 this test allows; pass "
                              "values of the size your function was given", "refused": True}


def test_arguments_not_in_the_protocols_form_are_an_error(path):
    reply = referee_process.answer({"path": str(path), "name": "scale", "args": {"__pickle__": "..."},
                                    "kwargs": {"__tuple__": []}, "budget": 64})
    assert reply["error"].startswith("ProtocolError") and "refused" not in reply


def test_what_the_reference_raises_is_the_error(path):
    assert ask(path, "scale", "a", "b")["error"] == "TypeError: can't multiply sequence by non-int of type 'str'"
    assert ask(path, "missing")["error"].startswith("AttributeError")


def test_an_edited_reference_is_imported_again(path):
    assert protocol.decode(ask(path, "version")["value"]) == 1
    path.write_text(REFERENCE.format(version=2) + "\n")
    assert protocol.decode(ask(path, "version")["value"]) == 2


def test_a_reference_that_does_not_import_says_why(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("def f(:\n")
    assert referee_process.answer({"path": str(broken), "load": True})["error"].startswith("SyntaxError")
    assert referee_process.answer({"path": str(tmp_path / "gone.py"), "load": True})["error"].startswith(
        "FileNotFoundError")


def test_the_limits_of_one_run_are_lifted_after_it(path):
    import resource

    before = [resource.getrlimit(which) for which in (resource.RLIMIT_AS, resource.RLIMIT_CPU)]
    reply = referee_process.answer({"path": str(path), "name": "ones", "args": protocol.encode([10]),
                                    "kwargs": protocol.encode(()), "budget": 64, "memory_mb": 4096, "seconds": 5.0})
    assert "value" in reply
    assert [resource.getrlimit(which) for which in (resource.RLIMIT_AS, resource.RLIMIT_CPU)] == before

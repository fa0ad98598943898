"""Running a notebook's cells in the child: each under its own time, and a student's
exception told as its type, its message and the student's own line."""

from __future__ import annotations

import os
import signal
import sys

import pytest

from autograder.running import framing
from autograder.running.worker.cells import NotebookRun, describe

LIMITS = {"max_output_kb": 1, "max_reply_mb": 1, "cell_timeout": 0.5}


def raised_in(source: str, filename: str = "<cell 3>") -> BaseException:
    try:
        exec(compile(source, filename, "exec"), {})
    except BaseException as error:
        return error
    raise AssertionError("nothing was raised")


def test_an_error_is_told_where_the_students_cell_raised_it():
    error = raised_in("x = 1\n1 / 0")
    assert describe(error) == {"type": "ZeroDivisionError", "message": "division by zero", "where": "cell 3, line 2, in <module>: "}


def test_a_syntax_error_names_its_line_and_provided_code_is_named_so():
    try:
        compile("def f(:\n", "<cell 2>", "exec")
    except SyntaxError as error:
        told = describe(error)
    assert told["type"] == "SyntaxError" and told["where"].startswith("cell 2, line 1: def f(:")
    assert describe(raised_in("raise KeyError('k')", "<provided>"))["where"].startswith("provided code, line 1")


def test_an_exception_whose_str_raises_is_still_told():
    class Sly(Exception):
        def __str__(self):
            raise RuntimeError("no")

    assert describe(Sly())["type"] == "Sly" and describe(Sly())["message"] == ""


@pytest.fixture
def run():
    """A NotebookRun in this process, its events read from a pipe; __main__ and SIGALRM
    put back after it."""
    main, alarm = sys.modules["__main__"], signal.getsignal(signal.SIGALRM)
    read, write = os.pipe()
    yield NotebookRun(-1, write, {"limits": LIMITS}), read
    os.close(read)
    os.close(write)
    sys.modules["__main__"] = main
    signal.signal(signal.SIGALRM, alarm)


def test_each_cell_runs_in_the_notebooks_namespace_under_its_own_time(run):
    notebook, events = run
    cells = [{"number": 1, "source": "x = 2\nprint(x)"}, {"number": 2, "source": "while True:\n    pass"},
             {"number": 3, "source": "y = x + 1"}, {"number": 4, "source": "", "skip": True}]
    outcomes = notebook.run_notebook(cells)
    assert [o["status"] for o in outcomes] == ["ok", "timeout", "ok", "skipped"]
    assert outcomes[0]["output"] == "2\n" and notebook.namespace["y"] == 3
    assert outcomes[1]["error"] == "cell 2 did not finish within 0.5 s"
    assert [framing.read_frame(events)["number"] for _ in range(3)] == [1, 2, 3]

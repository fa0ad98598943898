"""The floor of grading one submission: the time its functions alone need for the hidden suite.

The assignment's hidden suite runs in this process against `DirectStudent`, which executes the
answer cells here and calls the functions directly: no worker, no protocol, no notebook cells.
Only the time spent inside the student's functions (every check's call and the training run)
counts. No grader can be faster than that.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path

import nbformat

from autograder.course.config import load_assignment
from autograder.errors import StudentError
from autograder.running.outcomes import MissingFunction
from autograder.suite.runner import Suite

REPO = Path(__file__).resolve().parent.parent


class DirectStudent:
    """The `student` fixture without a worker: functions run in this process and are timed."""

    def __init__(self, answers: list[str]):
        self.namespace: dict = {"__name__": "__main__"}
        exec("import numpy as np", self.namespace)
        for source in answers:
            exec(source, self.namespace)
        self.inside = 0.0  # seconds spent in the student's code (wall clock)
        self.inside_cpu = 0.0  # the same in CPU seconds of this thread (not slowed down by other load)
        self.used: list[str] = []  # no stand-ins: every function calls the student's own (what isolation costs is overhead)

    def begin_part(self, part: str, isolating: bool) -> None:
        """Parts have no time budgets here."""

    def call(self, name: str, *args, timeout: float | None = None, isolation: bool | None = None, **kwargs):
        function = self.namespace.get(name)
        if function is None:
            raise MissingFunction(f"your notebook does not define `{name}`")
        args, kwargs = copy.deepcopy(args), copy.deepcopy(kwargs)  # the worker gets copies too
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            return function(*args, **kwargs)
        except Exception as error:
            raise StudentError(f"{name} raised {type(error).__name__}: {error}") from None
        finally:
            self.inside += time.perf_counter() - started
            self.inside_cpu += time.thread_time() - cpu

    def exec(self, source: str, timeout: float | None = None) -> None:
        started, cpu = time.perf_counter(), time.thread_time()
        exec(source, self.namespace)
        self.inside += time.perf_counter() - started
        self.inside_cpu += time.thread_time() - cpu

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, *args, **kwargs)


_suites: dict[str, Suite] = {}


def floor_seconds(assignment_name: str, answers: list[str], runs: int = 1) -> tuple[float, float]:
    """(wall, CPU) seconds the answers' functions spend in the hidden suite, medians over `runs`."""
    suite = _suites.get(assignment_name)
    if suite is None:
        assignment = load_assignment(assignment_name, REPO)
        suite = _suites[assignment_name] = Suite(assignment, nbformat.read(assignment.master_notebook, as_version=4))
        suite.run(DirectStudent(answers))  # warm up: imports and the reference's own run (memo)
    walls, cpus = [], []
    for _ in range(runs):
        student = DirectStudent(answers)
        suite.run(student)
        walls.append(student.inside)
        cpus.append(student.inside_cpu)
    return sorted(walls)[len(walls) // 2], sorted(cpus)[len(cpus) // 2]

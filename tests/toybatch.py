"""A graded class of the toy course for the gradebook, feedback, report and Gradescope tests.

The toy master's grade cell `test_square` is given the part's 3 points (nbgrader's max = ours), and
the hidden suite gains a test that `record`s a curve, so feedback pages have a plot to show.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from conftest import grade_here
from autograder.results import GradeReport

from toycourse import SUITE, Course, make_course

CURVE_TEST = '''

def test_curve(student, reference, check, record):
    """squares of 1 to 20 follow the expected curve"""
    x = np.arange(1.0, 21.0)
    got = student.square(x)
    record("square_curve", student=got, reference=reference.square(x), title="squares", xlabel="x")
    check.close(got, reference.square(x), call_text("square", x))
'''

ANSWERS = {
    "alice": "def square(x):\n    return np.asarray(x, dtype=float) ** 2",  # right: 3/3
    "bob": "def square(x):\n    return x * 2",  # wrong values everywhere
    "carol": "def square(x):\n    y = undefined_name\n    return y",  # raises NameError
    "dan": "def square(x):\n    return float(x) ** 2",  # numbers only: 1/3
}


def set_grade_cell_points(course: Course, points: float, grade_id: str = "test_square") -> None:
    master = nbformat.read(course.master, as_version=4)
    for cell in master.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            cell.metadata["nbgrader"]["points"] = points
    nbformat.write(master, course.master)


def toy_class(tmp_path: Path, answers: dict[str, str] = ANSWERS) -> Course:
    """The toy course with the curve test, 3 points on its grade cell and one notebook per answer."""
    course = make_course(tmp_path, suite=SUITE + CURVE_TEST)
    set_grade_cell_points(course, 3)
    for student, answer in answers.items():
        course.released_with(student, answer)
    return course


def graded_class(tmp_path: Path, answers: dict[str, str] = ANSWERS) -> tuple[Course, GradeReport]:
    course = toy_class(tmp_path, answers)
    return course, grade_here(course.assignment(), [course.submissions])


@pytest.fixture(scope="session")
def toy_graded(tmp_path_factory) -> tuple[Course, GradeReport]:
    """The toy class graded once per test session; tests must not change it (copy what they modify)."""
    return graded_class(tmp_path_factory.mktemp("toyclass") / "course")

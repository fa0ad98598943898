"""The assignment as nbgrader's gradebook records it: each part the master's grade cell
test_<part> with the same points, or a ConfigError that says which to fix."""

from __future__ import annotations

import nbformat
import pytest

from autograder.course.config import load_assignment
from autograder.errors import ConfigError
from autograder.outputs.gradebook import GradebookWriter
from autograder.outputs.master_record import part_cells

from conftest import REPO
from toybatch import set_grade_cell_points
from toycourse import make_course


def test_each_part_is_the_masters_grade_cell_test_part_with_the_same_points():
    assignment = load_assignment("student-admissions", REPO)
    master = nbformat.read(assignment.master_notebook, as_version=4)
    cells = part_cells(assignment, master)
    assert cells == {part: f"test_{part}" for part in
                     ("sigmoid", "sigmoid_prime", "error_term", "update_weights", "training")}
    points = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
              for c in master.cells if c.metadata["nbgrader"].get("grade")}
    assert [points[cells[part]] for part in assignment.parts] == [2, 2, 2, 2, 4]


def test_a_missing_grade_cell_or_other_points_is_a_config_error(tmp_path):
    course = make_course(tmp_path)  # the toy master's grade cell is worth 0 points, its part 3
    with pytest.raises(ConfigError, match=r"\[parts.square\] is worth 3 points but the master's grade cell "
                                          r"'test_square' is worth 0"):
        GradebookWriter(course.assignment(), f"sqlite:///{tmp_path / 'never.db'}")
    set_grade_cell_points(course, 3)
    master = nbformat.read(course.master, as_version=4)
    master.cells[-1].metadata["nbgrader"]["grade_id"] = "check_square"
    nbformat.write(master, course.master)
    with pytest.raises(ConfigError, match="no nbgrader grade cell 'test_square'"):
        part_cells(course.assignment(), master)
    assert not (tmp_path / "never.db").exists()

"""The assignment as nbgrader's gradebook records it: part P is the master's grade cell
`test_P` with the same points (`part_cells`), and the gradebook holds the master as
`nbgrader generate_assignment` records it (`record_master`), so nbgrader's max scores
are ours."""

from __future__ import annotations

import tempfile
from pathlib import Path

import nbformat

from ..course.config import Assignment
from ..course.generate import alembic_on_path, course_directory
from ..errors import ConfigError, GradebookError, ReleaseError
from ..running.submission import grade_id

GRADE_CELL = "test_{part}"  # the master's grade cell that holds a part's points


def part_cells(assignment: Assignment, master: nbformat.NotebookNode) -> dict[str, str]:
    """part -> grade_id of its grade cell in the master; ConfigError when one is missing
    or worth other points."""
    toml = assignment.suite_dir / "assignment.toml"
    graded = {
        grade_id(c): c.metadata["nbgrader"]
        for c in master.cells
        if c.get("metadata", {}).get("nbgrader", {}).get("grade")
    }
    cells = {}
    for part, points in assignment.parts.items():
        name = GRADE_CELL.format(part=part)
        if name not in graded:
            raise ConfigError(
                toml,
                f"parts.{part}",
                f"the master {assignment.master_notebook} has no nbgrader grade "
                f"cell '{name}' to hold this part in the gradebook; make the part's "
                "visible check an "
                f"'Autograder tests' cell with ID {name} and {points:g} points",
            )
        cell_points = float(graded[name].get("points", 0))
        if abs(cell_points - points) > 1e-9:
            raise ConfigError(
                toml,
                f"parts.{part}",
                f"is worth {points:g} points but the master's grade cell "
                f"'{name}' is worth {cell_points:g}; make them equal so nbgrader's max "
                "scores are ours",
            )
        cells[part] = name
    return cells


def record_master(assignment: Assignment, url: str) -> None:
    """The gradebook holds the assignment as `nbgrader generate_assignment` records it
    (the assignment, its notebook, every grade, solution, task and source cell with
    checksums and points, the kernelspec). When it does not (never released with the
    gradebook on, recorded in part, or other points), nbgrader's own converter records
    it, run on a scratch copy of the course so release/ is left as it is."""
    if _recorded(assignment, url):
        return
    from ..course.generate import release_into

    with tempfile.TemporaryDirectory(prefix="autograder-record-") as scratch:
        try:
            release_into(assignment, Path(scratch), database=url)
        except ReleaseError as error:
            raise GradebookError(
                f"the gradebook {url} does not hold '{assignment.name}' as nbgrader "
                f"records it, and recording it failed: {error}"
            ) from None


def _recorded(assignment: Assignment, url: str) -> bool:
    from nbgrader.api import Gradebook, MissingEntry

    with (
        alembic_on_path(),
        Gradebook(url, course_directory(assignment).course_id) as gb,
    ):
        try:
            notebook = gb.find_notebook(Path(assignment.notebook).stem, assignment.name)
        except MissingEntry:
            return False
        points = {cell.name: cell.max_score for cell in notebook.grade_cells}
        return bool(notebook.source_cells) and all(
            abs(points.get(GRADE_CELL.format(part=part), -1.0) - value) < 1e-9
            for part, value in assignment.parts.items()
        )

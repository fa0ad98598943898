"""Scores into nbgrader's gradebook through nbgrader's own API, for `nbgrader export`,
`nbgrader db` and the formgrader.

Each part P of assignment.toml is the master's nbgrader grade cell `test_P`, with the
same points, so nbgrader's max scores are ours. The gradebook holds the assignment as
`nbgrader generate_assignment` records it (`autograder release` runs it; `record_master`
runs it for a course released otherwise). Each graded submission is then stored in one
transaction: the student, the submission mirrored from the assignment as
`Gradebook.add_submission` does, and the automatic score of every part. Grading a
student again replaces the automatic scores; a grader's manual score is kept and the
cell flagged for review, as nbgrader's autograde does, and a late submission gets the
penalty of the course's LateSubmissionPlugin. The submission's time is the one read with
the graded notebook, set every time (no time: none, and no penalty). (autograded/ and
feedback/ are `course_folders.py`'s.) A run stopped half-way leaves every finished
submission stored and nothing half-written.
"""

from __future__ import annotations

import datetime
import logging
from pathlib import Path

import nbformat

from ..course.config import Assignment
from ..course.generate import alembic_on_path, course_directory
from ..errors import GradebookError, UsageError
from ..results import NbgraderFiles, SubmissionResult
from .master_record import part_cells, record_master

# nbgrader's converters log each step; the results say it all
QUIET = logging.getLogger("autograder.nbgrader")
QUIET.addHandler(logging.NullHandler())
QUIET.propagate = False


def default_url(assignment: Assignment) -> str:
    """Where nbgrader itself looks: sqlite:///<course root>/gradebook.db unless
    nbgrader_config.py says otherwise."""
    return course_directory(assignment).db_url


class GradebookWriter:
    """One open gradebook for one assignment; `record` stores a graded submission."""

    def __init__(self, assignment: Assignment, url: str | None = None):
        from nbgrader.api import Gradebook
        from sqlalchemy.exc import SQLAlchemyError

        from .late_policy import check_late_plugin

        self.assignment = assignment
        self.failed = False  # a store failed: the connection is not kept (kept_writers)
        self.cells = part_cells(
            assignment, nbformat.read(assignment.master_notebook, as_version=4)
        )
        coursedir = course_directory(assignment)
        # the course's nbgrader_config.py, as nbgrader's commands read it
        self.config = coursedir.config
        # before any score is stored
        check_late_plugin(self.config, assignment.root / "nbgrader_config.py")
        self.url = url or coursedir.db_url
        # nbgrader names notebooks by their stem
        self.notebook = Path(assignment.notebook).stem
        try:
            _make_sqlite_folder(self.url)
            # before our own connection: nbgrader writes through its own
            record_master(assignment, self.url)
            with alembic_on_path():
                self.gradebook = Gradebook(self.url, coursedir.course_id)
        except SQLAlchemyError as error:
            raise UsageError(
                f"cannot open the gradebook {self.url}: {_first_line(error)}; pass "
                "--gradebook sqlite:///PATH/gradebook.db with a folder you can write"
            ) from None
        try:
            self.cell_ids = self._grade_cells()
        except BaseException:
            self.gradebook.close()
            raise

    def _grade_cells(self) -> dict[str, str]:
        """grade cell id -> part, of the grade cells nbgrader recorded for the
        master."""
        gb, name = self.gradebook, self.assignment.name
        return {
            gb.find_grade_cell(cell, self.notebook, name).id: part
            for part, cell in self.cells.items()
        }

    def record(self, result: SubmissionResult) -> None:
        """Store one student's part scores in one transaction, replacing the automatic
        scores stored before."""
        from sqlalchemy.exc import SQLAlchemyError

        db = self.gradebook.db
        try:
            # no flush of half-built rows; all of it is committed once, below
            with db.no_autoflush:
                submission = self._submission(result.student)
            # nbgrader's time of the bytes graded, read with them; none is no time, so
            # no penalty (not the last one)
            submission.timestamp = stamp = submission_time(result.nbgrader_files)
            scores = {p.name: p.score for p in result.parts}
            for notebook in submission.notebooks:
                # as nbgrader's AssignLatePenalties starts
                notebook.late_submission_penalty = None
                for grade in notebook.grades:
                    part = self.cell_ids.get(grade.cell_id)
                    if part is not None:
                        grade.auto_score = float(scores.get(part, 0.0))
                        grade.needs_manual_grade = grade.manual_score is not None
            may_be_late = (
                stamp is not None and submission.assignment.duedate is not None
            )
            db.commit()
        except (SQLAlchemyError, ValueError, TypeError) as error:
            db.rollback()
            self.failed = True
            raise GradebookError(
                f"could not store the scores of {result.student} in {self.url}: "
                f"{_first_line(error)}; submissions stored before are kept"
            ) from None
        except BaseException:
            db.rollback()
            self.failed = True
            raise
        if may_be_late:
            self._late_penalty(result.student)

    def _late_penalty(self, student: str) -> None:
        """nbgrader's own AssignLatePenalties with the course's configuration (its
        LateSubmissionPlugin), as `nbgrader autograde` applies it after storing the
        scores."""
        from nbformat.v4 import new_notebook
        from nbgrader.preprocessors import AssignLatePenalties

        late = AssignLatePenalties(config=self.config, log=QUIET)
        try:
            late.preprocess(
                new_notebook(),
                {
                    "nbgrader": {
                        "notebook": self.notebook,
                        "assignment": self.assignment.name,
                        "student": student,
                        "db_url": self.url,
                    }
                },
            )
        except Exception as error:  # the course's plugin, or the database
            raise GradebookError(
                f"stored the scores of {student}, but nbgrader's late-submission "
                f"penalty could not be applied ({type(error).__name__}: "
                f"{_first_line(error)}); check AssignLatePenalties.plugin_class in "
                "nbgrader_config.py"
            ) from None

    def _submission(self, student_id: str):
        """The student's submission, created with the student if needed, mirroring the
        assignment (uncommitted)."""
        from nbgrader.api import Grade, MissingEntry, Student, SubmittedAssignment

        gb = self.gradebook
        try:
            submission = gb.find_submission(self.assignment.name, student_id)
        except MissingEntry:
            try:
                student = gb.find_student(student_id)
            except MissingEntry:
                student = Student(id=student_id)
                gb.db.add(student)
            submission = SubmittedAssignment(
                assignment=gb.find_assignment(self.assignment.name), student=student
            )
            gb.db.add(submission)
        for notebook in _mirrored_notebooks(gb.db, submission):
            present = {grade.cell_id for grade in notebook.grades}
            for cell in notebook.notebook.grade_cells:
                if cell.id not in present:
                    gb.db.add(Grade(cell_id=cell.id, notebook=notebook))
        return submission

    def still_current(self) -> bool:
        """Whether the gradebook still answers and holds the master's grade cells as
        when this writer was opened (not the assignment recorded again since); no
        transaction is left open."""
        try:
            current = self._grade_cells()
            self.gradebook.db.rollback()
        except Exception:  # a connection dropped, the assignment removed: not current
            return False
        return current == self.cell_ids

    def close(self) -> None:
        self.gradebook.close()

    def __enter__(self) -> GradebookWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _mirrored_notebooks(db, submission) -> list:
    """The submission's notebooks, adding those of the assignment it lacks (with their
    comments and task grades)."""
    from nbgrader.api import Comment, Grade, SubmittedNotebook

    have = {notebook.notebook_id for notebook in submission.notebooks}
    for notebook in submission.assignment.notebooks:
        if notebook.id in have:
            continue
        submitted = SubmittedNotebook(notebook=notebook, assignment=submission)
        db.add(submitted)
        for cell in notebook.solution_cells:
            db.add(Comment(cell_id=cell.id, notebook=submitted))
        for cell in notebook.task_cells:
            db.add_all(
                [
                    Comment(cell_id=cell.id, notebook=submitted),
                    Grade(cell_id=cell.id, notebook=submitted),
                ]
            )
    return list(submission.notebooks)


def submission_time(files: NbgraderFiles | None) -> datetime.datetime | None:
    """The time nbgrader reads in a submission's timestamp.txt as it was read with the
    graded notebook (`SubmissionResult.nbgrader_files`); None when there was none or it
    is not a time."""
    from nbgrader.utils import parse_utc

    if files is None or files.timestamp is None:
        return None
    try:
        return parse_utc(files.timestamp.strip())
    except (ValueError, OverflowError):
        return None


def _make_sqlite_folder(url: str) -> None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if (
        parsed.get_backend_name() == "sqlite"
        and parsed.database
        and parsed.database != ":memory:"
    ):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:300]

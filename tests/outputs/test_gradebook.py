"""nbgrader's gradebook: a real SQLite file written through nbgrader's API, read back by nbgrader's own commands."""

from __future__ import annotations

import csv
import datetime
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from nbgrader.api import Gradebook, SubmittedAssignment

from autograder.course.config import load_assignment
from autograder.errors import GradebookError
from autograder.outputs.gradebook import GradebookWriter, default_url
from autograder.verbs.release import release
from autograder.results import SubmissionResult
from autograder.running.nbgrader_files import read_files

from toybatch import set_grade_cell_points, toy_graded  # noqa: F401  (the fixture)
from toycourse import make_course

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent


def nbgrader(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=os.pathsep.join([str(BIN), os.environ.get("PATH", "")]))
    return subprocess.run([str(BIN / "nbgrader"), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120, check=True)


@pytest.fixture(scope="module")
def stored(toy_graded):
    """The toy class graded and stored in the course's own gradebook.db (nbgrader's default place)."""
    course, report = toy_graded
    with GradebookWriter(course.assignment()) as writer:
        for result in report.submissions:
            writer.record(result)
    return course, report, course.root / "gradebook.db"


def copy_of(database: Path, tmp_path: Path) -> str:
    shutil.copy(database, tmp_path / "gradebook.db")
    return f"sqlite:///{tmp_path / 'gradebook.db'}"


def scores(url: str, assignment: str = "toy") -> dict[str, tuple[float, float]]:
    with Gradebook(url) as gb:
        return {s.student.id: (s.score, s.max_score) for s in gb.assignment_submissions(assignment)}


def test_nbgrader_export_shows_our_scores(stored):
    course, report, database = stored
    assert default_url(course.assignment()) == f"sqlite:///{database}"
    nbgrader("export", "--to", "grades.csv", cwd=course.root)
    with open(course.root / "grades.csv", newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    ours = {s.student: s.score for s in report.submissions}
    assert ours == {"alice": 3.0, "bob": 0.0, "carol": 0.0, "dan": 1.0}
    assert {student: float(row["score"]) for student, row in rows.items()} == ours
    assert {row["assignment"] for row in rows.values()} == {"toy"}
    assert {float(row["max_score"]) for row in rows.values()} == {3.0}
    with Gradebook(default_url(course.assignment())) as gb:  # what `nbgrader db student list` prints
        assert sorted(student.id for student in gb.students) == sorted(ours)


def test_grading_again_replaces_the_automatic_scores_and_keeps_a_manual_one(stored, tmp_path):
    course, report, database = stored
    url = copy_of(database, tmp_path)
    with Gradebook(url) as gb:
        gb.find_grade("test_square", "toy", "toy", "carol").manual_score = 2.5
        gb.db.commit()
    again = {s.student: SubmissionResult.from_dict(s.to_dict()) for s in report.submissions}
    again["bob"].part("square").score = 3.0
    with GradebookWriter(course.assignment(), url) as writer:
        writer.record(again["bob"])
        writer.record(again["carol"])
    assert scores(url) == {"alice": (3.0, 3.0), "bob": (3.0, 3.0), "carol": (2.5, 3.0), "dan": (1.0, 3.0)}
    with Gradebook(url) as gb:
        assert gb.find_grade("test_square", "toy", "toy", "carol").needs_manual_grade
        assert not gb.find_grade("test_square", "toy", "toy", "bob").needs_manual_grade
        assert gb.db.query(SubmittedAssignment).count() == 4


def test_a_failed_write_leaves_nothing_of_that_student(stored, tmp_path):
    course, report, database = stored
    url = copy_of(database, tmp_path)
    broken = SubmissionResult.from_dict(dict(report.submissions[0].to_dict(), student="eve"))
    broken.part("square").score = "three"  # refused after the student and the submission were added
    with GradebookWriter(course.assignment(), url) as writer:
        with pytest.raises(GradebookError, match="could not store the scores of eve"):
            writer.record(broken)
        writer.record(SubmissionResult.from_dict(dict(report.submissions[3].to_dict(), student="fay")))
    with Gradebook(url) as gb:
        assert sorted(s.id for s in gb.students) == ["alice", "bob", "carol", "dan", "fay"]
    assert scores(url)["fay"] == (1.0, 3.0)


def recorded_cells(url: str, assignment: str = "toy", notebook: str = "toy") -> dict:
    """What the gradebook holds of a notebook: every cell with its kind, checksum and points, and the kernelspec."""
    with Gradebook(url) as gb:
        nb = gb.find_notebook(notebook, assignment)
        cells = {f"source {c.name}": (c.cell_type, c.checksum, c.locked) for c in nb.source_cells}
        cells.update({f"grade {c.name}": (c.cell_type, c.max_score) for c in nb.grade_cells})
        cells.update({f"solution {c.name}": () for c in nb.solution_cells})
        cells.update({f"task {c.name}": (c.max_score,) for c in nb.task_cells})
        return {"cells": cells, "kernelspec": nb.kernelspec}


def test_release_records_the_assignment_as_nbgraders_generate_assignment_does(tmp_path):
    ours = make_course(tmp_path / "ours", release=True)  # `autograder release`: nbgrader's converter, database on
    theirs = make_course(tmp_path / "theirs")
    nbgrader("generate_assignment", "toy", "--force", cwd=theirs.root)
    recorded = recorded_cells(f"sqlite:///{ours.root / 'gradebook.db'}")
    assert recorded == recorded_cells(f"sqlite:///{theirs.root / 'gradebook.db'}")
    assert {"source provided", "source square", "solution square", "grade test_square"} <= set(recorded["cells"])
    assert recorded["cells"]["source test_square"][1]  # with nbgrader's checksum
    assert "python3" in recorded["kernelspec"]


def test_grading_a_course_never_released_with_a_gradebook_records_the_master_first(stored, tmp_path):
    course, _, database = stored  # the toy course's release/ was written without nbgrader
    reference = make_course(tmp_path / "reference")
    set_grade_cell_points(reference, 3)  # as the graded course's master
    release(reference.assignment())
    assert recorded_cells(f"sqlite:///{database}") == recorded_cells(f"sqlite:///{reference.root / 'gradebook.db'}")


def test_nbgraders_generate_assignment_force_works_after_grading_and_keeps_the_scores(stored, tmp_path):
    course, report, database = stored
    shutil.copytree(course.root, tmp_path / "course")
    nbgrader("generate_assignment", "toy", "--force", cwd=tmp_path / "course")
    assert scores(f"sqlite:///{tmp_path / 'course' / 'gradebook.db'}") == scores(f"sqlite:///{database}")


LATE_POLICY = '''
import math
from nbgrader.plugins import LateSubmissionPlugin

class PointPerHour(LateSubmissionPlugin):
    def late_submission_penalty(self, student_id, score, total_seconds_late):
        return math.ceil(total_seconds_late / 3600)

c.AssignLatePenalties.plugin_class = PointPerHour
'''


def submitted_copy(result: SubmissionResult, root: Path, stamp: str) -> SubmissionResult:
    """The result as if its notebook had come through nbgrader's collect, with this timestamp.txt read with it."""
    folder = root / "submitted" / result.student / "toy"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "timestamp.txt").write_text(stamp)
    copy = SubmissionResult.from_dict(dict(result.to_dict(), notebook=str(folder / "toy.ipynb")))
    copy.nbgrader_files = read_files(folder)
    return copy


def penalties(url: str) -> dict[str, float | None]:
    with Gradebook(url) as gb:
        return {s.student.id: s.notebooks[0].late_submission_penalty for s in gb.assignment_submissions("toy")}


def test_a_late_submission_gets_the_penalty_of_the_courses_late_submission_plugin(stored, tmp_path):
    course, report, _ = stored
    root = tmp_path / "course"
    shutil.copytree(course.root, root)
    (root / "nbgrader_config.py").write_text(LATE_POLICY)
    url = f"sqlite:///{root / 'gradebook.db'}"
    with Gradebook(url) as gb:  # as `nbgrader db assignment add toy --duedate=...`
        gb.update_or_create_assignment("toy", duedate=datetime.datetime(2026, 3, 1, 12, 0))
    results = {r.student: r for r in report.submissions}  # alice 3 points, bob 0, dan 1
    assignment = load_assignment("toy", root)
    with GradebookWriter(assignment) as writer:
        writer.record(submitted_copy(results["alice"], root, "2026-03-01 13:30:00.000000 UTC"))  # 1.5 h late
        writer.record(submitted_copy(results["bob"], root, "2026-03-01 11:00:00.000000 UTC"))  # on time
        writer.record(submitted_copy(results["dan"], root, "2026-03-01 17:00:00.000000 UTC"))  # 5 h late
    assert penalties(url) == {"alice": 2.0, "bob": None, "carol": None, "dan": 1.0}  # dan's capped at his score
    nbgrader("export", "--to", "grades.csv", cwd=root)
    with open(root / "grades.csv", newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert (float(rows["alice"]["raw_score"]), float(rows["alice"]["late_submission_penalty"]),
            float(rows["alice"]["score"])) == (3.0, 2.0, 1.0)
    with GradebookWriter(assignment) as writer:  # alice resubmits on time: graded again, no penalty
        writer.record(submitted_copy(results["alice"], root, "2026-03-01 11:59:00.000000 UTC"))
    assert penalties(url)["alice"] is None


def test_each_grading_sets_the_time_read_with_its_notebook_and_none_is_no_time_and_no_penalty(stored, tmp_path):
    """A resubmission whose timestamp.txt is missing or unreadable keeps neither the late penalty nor the
    on-time stamp of the submission graded before it."""
    from autograder.grade import Grader

    course, report, _ = stored
    root = tmp_path / "course"
    shutil.copytree(course.root, root)
    (root / "nbgrader_config.py").write_text(LATE_POLICY)
    url = f"sqlite:///{root / 'gradebook.db'}"
    with Gradebook(url) as gb:
        gb.update_or_create_assignment("toy", duedate=datetime.datetime(2026, 3, 1, 12, 0))
    folder = root / "submitted" / "alice" / "toy"
    folder.mkdir(parents=True)
    shutil.copy(next(r.notebook for r in report.submissions if r.student == "alice"), folder / "toy.ipynb")
    assignment = load_assignment("toy", root)

    def resubmitted(stamp: str | None) -> tuple[datetime.datetime | None, float | None]:
        (folder / "timestamp.txt").unlink(missing_ok=True)
        if stamp is not None:
            (folder / "timestamp.txt").write_text(stamp)
        writer.record(grader.grade("alice", folder / "toy.ipynb"))
        with Gradebook(url) as gb:
            submission = gb.find_submission("toy", "alice")
            return submission.timestamp, submission.notebooks[0].late_submission_penalty

    with Grader(assignment) as grader, GradebookWriter(assignment) as writer:
        assert resubmitted("2026-03-01 13:30:00.000000 UTC") == (datetime.datetime(2026, 3, 1, 13, 30), 2.0)
        assert resubmitted("not a time") == (None, None)
        assert resubmitted("2026-03-01 11:00:00.000000 UTC") == (datetime.datetime(2026, 3, 1, 11, 0), None)
        assert resubmitted(None) == (None, None)  # not the on-time stamp of the one before


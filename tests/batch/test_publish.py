"""`autograder grade --gradebook --feedback`: every result is published as it finishes, also when the run is stopped."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from nbgrader.api import Gradebook
from nbgrader.apps.api import NbGraderAPI
from nbgrader.coursedir import CourseDirectory

from autograder.cli import main
from autograder.course.generate import nbgrader_config

from toybatch import ANSWERS, toy_class

pytestmark = pytest.mark.slow


def test_grade_stores_scores_writes_feedback_and_prints_plain_progress(tmp_path, capsys):
    course = toy_class(tmp_path / "course", {"alice": ANSWERS["alice"], "bob": ANSWERS["bob"]})
    code = main(["--course", str(course.root), "grade", "toy", str(course.submissions), "--jobs", "1",
                 "--gradebook", "--feedback", str(tmp_path / "feedback")])
    err = capsys.readouterr().err
    assert code == 0
    assert "[1/2] alice: 3/3 graded" in err and "[2/2] bob: 0/3 graded" in err
    assert f"gradebook: sqlite:///{course.root / 'gradebook.db'}" in err
    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}") as gb:
        assert {s.student.id: s.score for s in gb.assignment_submissions("toy")} == {"alice": 3.0, "bob": 0.0}
    assert sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "feedback").rglob("*.html")) == [
        "feedback/alice/toy/toy.html", "feedback/bob/toy/toy.html"]
    formgrader = NbGraderAPI(CourseDirectory(config=nbgrader_config(course.root)), config=nbgrader_config(course.root))
    listed = formgrader.get_notebook_submissions("toy", "toy")  # the formgrader's list of graded notebooks
    assert {n["student"]: (n["score"], n["max_score"]) for n in listed} == {"alice": (3.0, 3.0), "bob": (0.0, 3.0)}


def stored_students(database) -> list[str]:
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
            return [row[0] for row in db.execute("SELECT student_id FROM submitted_assignment")]
    except sqlite3.OperationalError:  # not created yet
        return []


def test_a_stopped_run_keeps_every_finished_submission_and_nothing_half_written(tmp_path):
    hangs = "while True:\n    pass"  # bob's notebook never finishes a cell: his grading takes seconds
    course = toy_class(tmp_path / "course", {"alice": ANSWERS["alice"], "carol": ANSWERS["carol"]})
    course.student_notebook("bob", [hangs])
    database = tmp_path / "gb.db"
    env = {k: v for k, v in os.environ.items() if k != "AUTOGRADER_COURSE"}
    grading = subprocess.Popen([sys.executable, "-m", "autograder", "grade", "toy", "submissions", "--jobs", "1",
                                "--gradebook", f"sqlite:///{database}"], cwd=course.root, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while stored_students(database) != ["alice"] and time.monotonic() < deadline:
            assert grading.poll() is None, grading.communicate()
            time.sleep(0.05)
        grading.send_signal(signal.SIGINT)  # as Ctrl-C while bob is being graded
        _, err = grading.communicate(timeout=60)
    finally:
        grading.kill()
    assert grading.returncode == 130, err
    assert "interrupted; results written so far are kept" in err
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = db.execute("SELECT s.student_id, g.auto_score FROM grade g JOIN submitted_notebook n ON "
                          "g.notebook_id = n.id JOIN submitted_assignment s ON n.assignment_id = s.id").fetchall()
        students = [row[0] for row in db.execute("SELECT id FROM student")]
    assert rows == [("alice", 3.0)] and students == ["alice"]


def test_a_page_that_cannot_be_written_costs_that_page_only(tmp_path, capsys):
    course = toy_class(tmp_path / "course", {"alice": ANSWERS["alice"], "bob": ANSWERS["bob"]})
    (tmp_path / "feedback").write_text("a file where the folder of pages should be")
    output = tmp_path / "out" / "results.json"
    code = main(["--course", str(course.root), "grade", "toy", str(course.submissions), "--jobs", "1",
                 "--json", str(output), "--gradebook", "--feedback", str(tmp_path / "feedback")])
    err = capsys.readouterr().err
    assert code == 1  # said, and every result is kept
    assert "warning: the feedback page of alice could not be written" in err and "Traceback" not in err
    assert [s["student"] for s in json.loads(output.read_text())["submissions"]] == ["alice", "bob"]
    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}") as gb:
        assert {s.student.id: s.score for s in gb.assignment_submissions("toy")} == {"alice": 3.0, "bob": 0.0}


def test_a_course_batch_fills_nbgraders_folders_and_a_students_own_files_only_warn(tmp_path, capsys):
    course = toy_class(tmp_path / "course", {})
    for student in ("alice", "bob", "mallory"):
        folder = course.root / "submitted" / student / "toy"
        course.released_with("toy", ANSWERS.get(student, ANSWERS["alice"]), folder)
        (folder / "timestamp.txt").write_text("2026-11-20 09:15:00.000000 UTC")
        (folder / "submission_secret.txt").write_text("ab" * 64)
    (course.root / "submitted" / "bob" / "toy" / "timestamp.txt").unlink()  # bob's to remove: his files
    course.released_with("alice", ANSWERS["bob"], course.root / "submitted" / "mallory" / "toy" / "extra")  # a decoy
    code = main(["--course", str(course.root), "grade", "toy", str(course.root / "submitted"), "--jobs", "1",
                 "--gradebook"])
    err = capsys.readouterr().err
    assert code == 0, err  # what bob's files kept from nbgrader's folders is a warning, not the batch's failure
    assert "the page in the course's feedback/ folder of bob was not written" in err
    assert "extra/alice.ipynb is not graded" in err
    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}") as gb:
        assert {s.student.id: s.score for s in gb.assignment_submissions("toy")} == {
            "alice": 3.0, "bob": 0.0, "mallory": 3.0}  # the decoy took no one's id
    assert sorted(p.parent.parent.name for p in (course.root / "feedback").glob("*/toy/toy.html")) == [
        "alice", "mallory"]
    assert sorted(p.parent.parent.name for p in (course.root / "autograded").glob("*/toy/toy.ipynb")) == [
        "alice", "bob", "mallory"]

"""`autograder grade --gradebook --feedback`: every result is published as it finishes, also when the run is stopped."""

from __future__ import annotations

import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from nbgrader.apps.api import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from nbgrader.utils import parse_utc
from rich.console import Console

from autograder.batch.publish import Publisher
from conftest import run_on
from autograder.cli import main
from autograder.course.config import load_assignment
from autograder.course.discovery import survey
from autograder.course.generate import nbgrader_config

from nbgrader_course import COURSE_CONFIG, COURSE_ID, LATE_PENALTY, STUDENT_CONFIG, Cycle, utc_now
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


NBGRADERS_FILES = ("timestamp.txt", "submission_secret.txt")


def exchange_course(root: Path) -> tuple[Cycle, Path]:
    """The toy class with nbgrader's exchange, a course id, a one-point late penalty, and alice's own folder;
    the assignment released through the exchange. (cycle, alice's folder of the assignment)"""
    course = toy_class(root / "course", {})
    exchange, home = root / "exchange", root / "alice"
    config = COURSE_CONFIG.format(course_id=COURSE_ID, exchange=exchange, penalty=LATE_PENALTY)
    (course.root / "nbgrader_config.py").write_text("c = get_config()  # noqa: F821\n" + config)
    exchange.mkdir()
    exchange.chmod(0o777)
    home.mkdir()
    (home / "nbgrader_config.py").write_text(
        STUDENT_CONFIG.format(course_id=COURSE_ID, exchange=exchange, cache=home / ".nbgrader_cache"))
    cycle = Cycle(root, course.root, exchange)
    cycle.run("db assignment add", "nbgrader", "db", "assignment", "add", "toy", "--duedate=2999-01-01 00:00:00 UTC",
              cwd=course.root)
    cycle.run("release_assignment", "nbgrader", "release_assignment", "toy", cwd=course.root)
    cycle.run("fetch_assignment", "nbgrader", "fetch_assignment", "toy", cwd=home, student="alice")
    cycle.check("db assignment add", "release_assignment", "fetch_assignment")
    return cycle, home / "toy"


def submit(cycle: Cycle, work: Path, answer: str, step: str) -> None:
    """alice answers in her copy and submits it with nbgrader's submit."""
    nb = nbformat.read(work / "toy.ipynb", as_version=4)
    next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "square").source = answer
    nbformat.write(nb, work / "toy.ipynb")
    cycle.run(step, "nbgrader", "submit", "toy", "--student=alice", cwd=work.parent, student="alice")
    cycle.check(step)


def alices_row(cycle: Cycle) -> tuple[float, object, float | None]:
    """Her raw score, submission time and late penalty in the gradebook."""
    with Gradebook(f"sqlite:///{cycle.course / 'gradebook.db'}") as gb:
        row = gb.find_submission("toy", "alice")
        return row.score, row.timestamp, row.notebooks[0].late_submission_penalty


def test_a_resubmission_collected_while_grading_gets_its_own_grade_and_never_the_one_before(tmp_path, capsys):
    cycle, work = exchange_course(tmp_path)
    submitted, feedback = cycle.course / "submitted" / "alice" / "toy", cycle.course / "feedback" / "alice" / "toy"
    submit(cycle, work, ANSWERS["alice"], "submit")  # right: 3 of 3, on time
    cycle.run("due now", "nbgrader", "db", "assignment", "add", "toy", f"--duedate={utc_now()}", cwd=cycle.course)
    cycle.run("collect", "nbgrader", "collect", "toy", cwd=cycle.course)
    cycle.check("due now", "collect")
    first = {name: (submitted / name).read_bytes() for name in NBGRADERS_FILES}
    assignment = load_assignment("toy", cycle.course)
    surveyed = survey(assignment, [cycle.course / "submitted"])
    with Publisher(assignment, surveyed, Console(file=io.StringIO()), gradebook="") as publish:
        def collected_then_published(result):  # alice submits again while her first notebook is being graded
            submit(cycle, work, ANSWERS["dan"], "submit again")  # late, and 1 of 3
            cycle.run("collect --update", "nbgrader", "collect", "toy", "--update", cwd=cycle.course)
            cycle.check("collect --update")
            publish(result)

        run = run_on(assignment, [cycle.course / "submitted"], jobs=1, on_result=collected_then_published,
                        on_plan=publish.plan, display=publish.display, found=surveyed.found)
        publish.catch_up(run.report)
    second = {name: (submitted / name).read_bytes() for name in NBGRADERS_FILES}
    assert second != first and [r.score for r in run.report.submissions] == [3.0]
    # every record of the submission graded is that submission's: its score, its time (on time: no penalty)
    assert alices_row(cycle) == (3.0, parse_utc(first["timestamp.txt"].decode()), None)
    assert {name: (feedback / name).read_bytes() for name in NBGRADERS_FILES} == first
    assert not (cycle.course / "autograded" / "alice" / "toy" / "toy.ipynb").exists()
    assert [w for w in publish.warnings if "a newer submission of alice arrived" in w and "grade toy` again" in w]
    cycle.run("release_feedback", "nbgrader", "release_feedback", "toy", cwd=cycle.course)
    cycle.run("fetch_feedback", "nbgrader", "fetch_feedback", "toy", "--student=alice", cwd=work.parent,
              student="alice")
    cycle.check("release_feedback", "fetch_feedback")
    fetched = sorted(work.glob("feedback/*/toy.html"))  # under the time of the submission it is the feedback of
    assert [parse_utc(page.parent.name) for page in fetched] == [parse_utc(first["timestamp.txt"].decode())]

    capsys.readouterr()
    assert main(["--course", str(cycle.course), "grade", "toy", str(cycle.course / "submitted"), "--jobs", "1",
                 "--gradebook"]) == 0  # the newer submission, graded again: its own score, time and penalty
    assert "newer submission" not in capsys.readouterr().err
    assert alices_row(cycle) == (1.0, parse_utc(second["timestamp.txt"].decode()), LATE_PENALTY)
    assert {name: (feedback / name).read_bytes() for name in NBGRADERS_FILES} == second
    autograded = nbformat.read(cycle.course / "autograded" / "alice" / "toy" / "toy.ipynb", as_version=4)
    assert ANSWERS["dan"] in [c.source for c in autograded.cells]

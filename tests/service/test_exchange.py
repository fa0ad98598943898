"""nbgrader's own Submit button: a student submits with the real `nbgrader submit`, the running service
collects it from the exchange with nbgrader's API, grades it into the gradebook, and releases its
feedback, which the real `nbgrader fetch_feedback` brings to the student."""

from __future__ import annotations

import sqlite3
import time

import pytest

from nbgrader_course import ASSIGNMENT, NOTEBOOK, answer, make_course
from servicecourse import Service

pytestmark = pytest.mark.slow


def test_a_submission_through_nbgraders_exchange_is_graded_and_its_feedback_fetched(tmp_path):
    cycle = make_course(tmp_path)
    course = cycle.course
    cycle.run("add", "nbgrader", "db", "assignment", "add", ASSIGNMENT, "--duedate=2999-01-01 00:00:00 UTC",
              cwd=course)
    cycle.run("student", "nbgrader", "db", "student", "add", "alice", cwd=course)
    cycle.run("release", "autograder", "release", ASSIGNMENT, cwd=course)
    cycle.run("release_assignment", "nbgrader", "release_assignment", ASSIGNMENT, cwd=course)
    cycle.run("fetch", "nbgrader", "fetch_assignment", ASSIGNMENT, cwd=cycle.home("alice"), student="alice")
    cycle.check("add", "student", "release", "release_assignment", "fetch")
    answer(cycle.home("alice") / ASSIGNMENT / NOTEBOOK)
    with open(course / "assignments" / ASSIGNMENT / "assignment.toml", "a") as toml:
        toml.write("\n[service]\nsubmissions = 1\n")  # one an hour, through either door

    service = Service(course, "--jobs", "1")
    try:
        cycle.run("submit", "nbgrader", "submit", ASSIGNMENT, "--student=alice", cwd=cycle.home("alice"),
                  student="alice")
        cycle.check("submit")
        deadline, rows = time.monotonic() + 120, []
        while time.monotonic() < deadline:
            rows = sqlite3.connect(course / "gradebook.db").execute(
                "select student, status, score, exchange from autograder_submission").fetchall()
            if rows and rows[0][1] not in ("queued", "grading"):
                break
            time.sleep(0.3)
        assert rows == [("alice", "graded", 12.0, 1)]  # collected once, graded once
        score = sqlite3.connect(course / "gradebook.db").execute(
            "select sum(auto_score) from grade join submitted_notebook on grade.notebook_id = "
            "submitted_notebook.id").fetchone()[0]
        assert score == 12.0  # nbgrader's own record

        fetched = cycle.home("alice") / ASSIGNMENT / "feedback"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            cycle.run("fetch_feedback", "nbgrader", "fetch_feedback", ASSIGNMENT, "--student=alice",
                      cwd=cycle.home("alice"), student="alice")
            pages = list(fetched.rglob("*.html"))
            if pages:
                break
            time.sleep(0.5)
        assert pages, cycle.steps["fetch_feedback"].describe()
        assert "12" in pages[0].read_text()

        # a second submission within the hour, past the limit: collected, not graded (no oracle here)
        stamp = course / "submitted" / "alice" / ASSIGNMENT / "timestamp.txt"
        first = stamp.read_text()
        cycle.run("again", "nbgrader", "submit", ASSIGNMENT, "--student=alice", cwd=cycle.home("alice"),
                  student="alice")
        cycle.check("again")
        deadline = time.monotonic() + 30
        while stamp.read_text() == first:  # collected: its timestamp is the new one
            assert time.monotonic() < deadline
            time.sleep(0.3)
        time.sleep(5)  # two more rounds of the door
        rows = sqlite3.connect(course / "gradebook.db").execute(
            "select student, status from autograder_submission").fetchall()
        assert rows == [("alice", "graded")]
    finally:
        service.stop()

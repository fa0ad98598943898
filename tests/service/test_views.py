"""What the instructor's table counts: per student and assignment the latest submission's status, and
the score that counts by `[service] counts` (the latest graded, or the best), in a real gradebook
database with the service's queue beside it."""

from __future__ import annotations

import re

import pytest

from autograder.service.course import Course
from autograder.service.store import counted
from autograder.service.views import class_rows, scores_csv
from servicecourse import gradebook_course


def graded(store, student: str, score: float | None, status: str = "graded") -> str:
    ident = store.add(store.new_id(), student, "toy", "0" * 64)
    assert store.claim("here")["id"] == ident
    store.finish(ident, "here", status=status, score=score, max_score=3.0, message="")
    return ident


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return gradebook_course(tmp_path_factory.mktemp("course"))


@pytest.mark.parametrize("rule, student, expected", [("latest", "ada", 1.0), ("best", "bob", 3.0)])
def test_the_score_that_counts_follows_the_assignments_rule(course, rule, student, expected):
    toml = re.sub(r'counts = "\w+"\n', "", course.toml.read_text())
    course.toml.write_text(toml.replace("[service]\n", f'[service]\ncounts = "{rule}"\n'))
    service = Course(course.root, f"sqlite:///{course.root / 'gradebook.db'}")
    for score in (2.0, 3.0, 1.0):
        graded(service.store, student, score)
    graded(service.store, student, None, status="crashed")  # counts for nothing
    queued = service.store.add(service.store.new_id(), student, "toy", "0" * 64)
    [row] = [r for r in class_rows(service) if r.student == student]
    assert (row.id, row.status, row.count) == (queued, "queued", 5)  # the latest's status
    assert (row.score, row.max_score) == (expected, 3.0)
    assert f"{student},toy,queued,{expected},3.0,5," in scores_csv(service)
    service.store.claim("here")  # the queue empty again for the next rule
    service.store.finish(queued, "here", status="crashed", score=None, max_score=3.0, message="")


def test_nothing_counts_before_a_grading_and_the_later_of_equal_bests_does():
    rows = [{"id": "a", "status": "queued", "score": None}, {"id": "b", "status": "crashed", "score": None}]
    assert counted(rows, "latest") is None and counted(rows, "best") is None
    rows = [{"id": "a", "status": "graded", "score": 2.0}, {"id": "b", "status": "graded", "score": 2.0},
            {"id": "c", "status": "timeout", "score": 0.0}]
    assert counted(rows, "best")["id"] == "b" and counted(rows, "latest")["id"] == "c"


def test_a_student_sees_the_due_date_nbgraders_gradebook_holds(course, monkeypatch):
    from nbgrader.api import Gradebook

    from autograder.service import course as course_module

    url = f"sqlite:///{course.root / 'gradebook.db'}"
    service = Course(course.root, url)
    with Gradebook(url) as gradebook:
        gradebook.update_or_create_assignment("toy", duedate="2031-05-04 12:30:00 UTC")
    [row] = service.assignments_for("ada")
    assert row.due == "2031-05-04 12:30 UTC"
    with Gradebook(url) as gradebook:  # the instructor moves it: shown once it is read again
        gradebook.update_or_create_assignment("toy", duedate="2031-05-06 09:00:00 UTC")
    assert service.assignments_for("ada")[0].due == "2031-05-04 12:30 UTC"  # read at most every 30 s
    monkeypatch.setattr(course_module, "DUE_SECONDS", 0.0)
    assert service.assignments_for("ada")[0].due == "2031-05-06 09:00 UTC"

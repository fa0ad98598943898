"""Gradebook writers kept open between gradings (a service's grading thread): reused while nothing they
were made from changed, opened anew when the master, the database file or the assignment's record did, or
a store failed; never holding a lock between gradings. A real SQLite gradebook, nbgrader's own API."""

from __future__ import annotations

import os
import shutil
import sqlite3

import pytest
from nbgrader.api import Gradebook

from autograder.errors import GradebookError
from autograder.outputs.kept_writers import KeptWriters
from autograder.outputs.master_record import record_master
from autograder.results import SubmissionResult

from test_gradebook import copy_of, scores, stored  # noqa: F401  (the fixture)
from toybatch import toy_graded  # noqa: F401  (the fixture)

pytestmark = pytest.mark.slow


def test_a_kept_writer_serves_gradings_until_its_files_change_or_a_store_fails_and_holds_no_lock(stored, tmp_path):
    course, report, database = stored
    url = copy_of(database, tmp_path)
    assignment = course.assignment()
    writers = KeptWriters()
    with writers.lend(assignment, url) as first:
        first.record(report.submissions[0])
    # between gradings nothing of the database is held: nbgrader (or the service's queue) may write at once
    other = sqlite3.connect(tmp_path / "gradebook.db", timeout=0.1)
    other.execute("BEGIN EXCLUSIVE")
    other.execute("INSERT INTO student (id) VALUES ('zed')")
    other.commit()
    other.close()
    with writers.lend(course.assignment(), url) as second:  # the same assignment, read again
        assert second is first
        second.record(report.submissions[1])
    kept = assignment.master_notebook.stat()
    os.utime(assignment.master_notebook, ns=(1, 1))  # the master changed: opened anew, from it
    with writers.lend(assignment, url) as third:
        assert third is not first
    broken = SubmissionResult.from_dict(dict(report.submissions[0].to_dict(), student="eve"))
    broken.part("square").score = "three"
    with writers.lend(assignment, url) as fourth, pytest.raises(GradebookError):
        fourth.record(broken)
    with writers.lend(assignment, url) as fifth:  # a store failed: not kept
        assert fifth is not fourth and fourth is third
        fifth.record(report.submissions[3])
    writers.close()
    os.utime(assignment.master_notebook, ns=(kept.st_atime_ns, kept.st_mtime_ns))
    with Gradebook(url) as gb:
        assert "zed" in {s.id for s in gb.students} and "eve" not in {s.id for s in gb.students}
    assert scores(url)["dan"] == (1.0, 3.0)


def regraded(report, student: str, score: float) -> SubmissionResult:
    again = SubmissionResult.from_dict({s.student: s for s in report.submissions}[student].to_dict())
    for part in again.parts:
        part.score = 0.0
    again.parts[0].score = score
    return again


def test_a_gradebook_put_in_place_of_the_kept_one_gets_the_next_grading(stored, tmp_path):
    course, report, database = stored
    url = copy_of(database, tmp_path)
    shutil.copy(tmp_path / "gradebook.db", tmp_path / "backup.db")
    writers = KeptWriters()
    with writers.lend(course.assignment(), url) as writer:
        writer.record(regraded(report, "alice", 1.0))
    os.replace(tmp_path / "backup.db", tmp_path / "gradebook.db")  # last night's backup restored
    with writers.lend(course.assignment(), url) as writer:
        writer.record(regraded(report, "bob", 1.0))
    writers.close()
    assert scores(url)["bob"][0] == 1.0


def test_an_assignment_recorded_again_is_graded_with_its_new_cells(stored, tmp_path):
    course, report, database = stored
    url = copy_of(database, tmp_path)
    writers = KeptWriters()
    with writers.lend(course.assignment(), url) as writer:
        writer.record(regraded(report, "alice", 1.0))
    with Gradebook(url) as gb:  # `nbgrader db assignment remove toy --force`, then released again
        gb.remove_assignment("toy")
    record_master(course.assignment(), url)
    with writers.lend(course.assignment(), url) as writer:
        writer.record(regraded(report, "bob", 1.0))
    writers.close()
    assert scores(url)["bob"][0] == 1.0  # not stored against the cell ids of the removed record

"""The grading pipeline: grading a batch, and one bad submission costing only itself."""

from __future__ import annotations

import json

import pytest

from autograder.errors import ConfigError, UsageError
from autograder.grade import Grader
from conftest import grade_here
from toycourse import make_course

RIGHT = "def square(x):\n    return np.asarray(x, dtype=float) ** 2"
HALF_RIGHT = "def square(x):\n    return np.asarray(x, dtype=float) ** 2 if np.ndim(x) == 0 else x"

# A submission that speaks the worker protocol itself: it writes a made-up "notebook finished" reply
# on its pipe to the grader. The grader cannot make sense of it; only this submission may suffer.
FORGED_REPLY = '''\
import fcntl, json, os, stat, struct
forged = json.dumps({"ok": True, "cells": [{"number": 1, "status": "ok", "forged": True}]}).encode()
for name in os.listdir("/proc/self/fd"):
    fd = int(name)
    try:
        if stat.S_ISFIFO(os.fstat(fd).st_mode) and fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY:
            os.write(fd, struct.pack("!Q", len(forged)) + forged)
    except OSError:
        pass
''' + RIGHT


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return make_course(tmp_path_factory.mktemp("course"))


@pytest.fixture(scope="module")
def batch(course):
    """A class of five: right, half right, the untouched stub, not a notebook, and one that breaks the grader."""
    folder = course.root / "batch"
    course.released_with("ada", RIGHT, folder)
    course.released_with("bob", HALF_RIGHT, folder)
    course.released_with("dan", "def square(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()", folder)
    (folder / "cyd.ipynb").write_text('{"cells": [')
    course.released_with("eve", FORGED_REPLY, folder)
    course.released_with("zoe", RIGHT, folder)  # graded after the forged reply
    seen = []
    report = grade_here(course.assignment(), [folder], on_result=seen.append)
    return report, seen


def results(batch):
    report, _ = batch
    return {s.student: s for s in report.submissions}


# -- a batch ---------------------------------------------------------------------------------------


def test_every_submission_gets_a_result_in_order(batch):
    report, seen = batch
    assert report.assignment == "toy"
    assert [s.student for s in report.submissions] == ["ada", "bob", "cyd", "dan", "eve", "zoe"]
    assert seen == report.submissions  # on_result saw each as it was done


def test_right_half_right_and_stub_scores(batch):
    by_student = results(batch)
    assert [(by_student[s].status, by_student[s].score) for s in ("ada", "bob", "dan", "zoe")] == [
        ("graded", 3.0), ("graded", 1.0), ("graded", 0.0), ("graded", 3.0)]
    assert all(by_student[s].max_score == 3.0 for s in by_student)


def test_feedback_for_a_half_right_submission(batch):
    (part,) = results(batch)["bob"].parts
    number, array = part.tests
    assert (number.name, number.outcome, number.points, number.max_points) == ("test_number", "passed", 1.0, 1.0)
    assert (array.name, array.outcome, array.points, array.max_points) == ("test_array", "failed", 0.0, 2.0)
    assert array.feedback == ("square(np.array([ 1. , -2. ,  0.5])) returned np.array([ 1. , -2. ,  0.5]), "
                              "expected np.array([1.  , 4.  , 0.25])")
    assert array.description == "square of an array"


def test_the_stub_fails_and_the_masters_check_cell_does_not_run(batch):
    dan = results(batch)["dan"]
    assert all(t.outcome == "failed" and "not written yet" in t.feedback for t in dan.parts[0].tests)
    assert (dan.cell_errors, dan.message) == ([], "")  # the check cell decides no points: it is not run


def test_an_invalid_submission_does_not_stop_the_batch(batch):
    cyd = results(batch)["cyd"]
    assert cyd.status == "invalid" and cyd.score == 0
    assert cyd.message.startswith("cyd.ipynb is not a notebook: invalid JSON")
    assert all(t.outcome == "error" and t.feedback == cyd.message for t in cyd.parts[0].tests)


def test_a_forged_reply_with_unknown_fields_is_read_strictly_and_changes_nothing(batch):
    eve = results(batch)["eve"]  # her cells wrote a made-up "notebook ran" frame: only her answers are out of step
    assert (eve.status, eve.cell_errors) == ("graded", [])
    assert results(batch)["zoe"].status == "graded" and results(batch)["zoe"].score == 3.0


def test_every_result_has_every_part_and_test(batch):
    report, _ = batch
    for submission in report.submissions:
        assert [p.name for p in submission.parts] == ["square"], submission.student
        assert [t.name for t in submission.parts[0].tests] == ["test_number", "test_array"], submission.student
        assert [t.max_points for t in submission.parts[0].tests] == [1.0, 2.0]
        assert submission.score == sum(p.score for p in submission.parts)


def test_the_report_is_json(batch):
    report, _ = batch
    data = json.loads(report.to_json())
    assert [s["status"] for s in data["submissions"]] == ["graded", "graded", "invalid", "graded", "graded", "graded"]
    assert data["submissions"][1]["parts"][0]["tests"][0]["points"] == 1.0


def test_restored_cells_are_noted(course, tmp_path):
    nb = course.released_with("ada", RIGHT, tmp_path)
    text = nb.read_text().replace("SIDE = 3.0", "SIDE = 2.0")
    nb.write_text(text)
    with Grader(course.assignment()) as grader:
        result = grader.grade("ada", nb)
    assert result.status == "graded" and result.score == 3.0 and result.cell_errors == []
    assert result.notes == ["read-only cell 'provided' was changed; the original was used"]


def test_a_notebook_that_uses_up_its_time(tmp_path):
    course = make_course(tmp_path, toml=("[assignment]\nnotebook = \"toy.ipynb\"\n[parts]\nsquare = 3\n"
                                         "[limits]\ntimeout = 1.5\ncell_timeout = 5\n"))
    slow = course.released_with("slow", "import time\ntime.sleep(30)\n" + RIGHT)
    fast = course.released_with("fast", RIGHT)
    report = grade_here(course.assignment(), [slow, fast])
    slow_result, fast_result = report.submissions
    assert (slow_result.status, slow_result.score) == ("timeout", 0.0)
    assert slow_result.message == "the notebook used up its time limit of 1.5 s in cell 3"
    assert all(t.outcome == "error" for t in slow_result.parts[0].tests)
    assert (fast_result.status, fast_result.score) == ("graded", 3.0)


# -- the assignment itself is broken: stop ---------------------------------------------------------


def test_points_that_do_not_add_up_stop_the_batch(tmp_path):
    course = make_course(tmp_path, suite="import pytest\n\n@pytest.mark.points(5)\ndef test_one():\n    pass\n")
    path = course.released_with("ada", RIGHT)
    with Grader(course.assignment()) as grader, pytest.raises(ConfigError, match=r"parts.square"):
        grader.grade("ada", path)


def test_a_missing_master_or_release(tmp_path):
    course = make_course(tmp_path)
    course.release.unlink()
    course.release.parent.rmdir()
    with pytest.raises(UsageError, match="run `autograder release toy` first"):
        Grader(course.assignment())
    course.master.unlink()
    with pytest.raises(ConfigError, match="master notebook .* not found"):
        Grader(course.assignment())


def test_a_worker_started_early_grades_and_one_grader_starts_its_own_before_its_set_up(course, tmp_path):
    from autograder.running.sandbox import build_launch
    from autograder.running.worker_process import Worker

    assignment = course.assignment()
    early = Worker(build_launch(assignment.release_dir)).spawn()  # what `grade` does for one notebook
    pid = early.process.pid
    with Grader(assignment, worker=early) as grader:
        result = grader.grade("ada", course.released_with("ada", "def square(x):\n    return x * x", tmp_path))
        assert grader.worker.process.pid == pid and result.score == 3.0
    assert early.process is None  # stopped with its grader
    with Grader(assignment) as grader:  # started first, its "ready" read when the first notebook runs
        assert grader.worker.running and grader.worker.starting

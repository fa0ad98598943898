"""Parallel batches on one machine: real grader processes, each with its own real worker."""

from __future__ import annotations

import os

import pytest

from autograder.batch.engines import Processes
from autograder.batch.run import run_batch
from autograder.errors import UsageError
from autograder.batch.parallel import check_jobs, start_processes
from autograder.batch.tasks import BatchAborted

from conftest import REPO, run_on  # at import: a graded suite's own conftest takes the name later
from toycourse import make_course

pytestmark = pytest.mark.slow

RIGHT = "def square(x):\n    return np.asarray(x, dtype=float) ** 2"
WRONG = "def square(x):\n    return x * 2"


def class_of(course) -> None:
    """Six students in discovery order a..f: right, wrong, missing, a crash in a cell, not a notebook."""
    course.released_with("a-right", RIGHT)
    course.released_with("b-wrong", WRONG)
    course.released_with("c-missing", "def squared(x):\n    return x ** 2")
    course.released_with("d-right", RIGHT)
    course.released_with("e-raises", "def square(x):\n    raise ValueError('nope')\n1 / 0")
    (course.submissions / "f-broken.ipynb").write_text("{not json")


def without_seconds(report) -> list[dict]:
    rows = report.to_dict()["submissions"]
    for row in rows:
        row.pop("seconds")
    return rows


def test_two_jobs_give_the_same_results_in_the_same_order_as_one(tmp_path):
    course = make_course(tmp_path)
    class_of(course)
    one = run_on(course.assignment(), [course.submissions], jobs=1)
    two = run_on(course.assignment(), [course.submissions], jobs=2)
    assert [s.student for s in two.report.submissions] == ["a-right", "b-wrong", "c-missing", "d-right",
                                                            "e-raises", "f-broken"]
    assert without_seconds(two.report) == without_seconds(one.report)
    assert [s.score for s in two.report.submissions] == [3.0, 0.0, 0.0, 3.0, 0.0, 0.0]
    assert [s.status for s in two.report.submissions][-1] == "invalid"
    assert two.graded == 6 and two.resumed == 0


def test_grader_processes_started_ahead_grade_batches_warm_and_stop_with_their_engine(tmp_path):
    """The command starts its grader processes (and so their workers) before its own imports; the batch
    grades with those, and they stay warm for the next batch until the engine closes, which stops every
    one, including one more than there was work for."""
    course = make_course(tmp_path)
    class_of(course)
    started = start_processes(course.assignment(), 3)
    pids = {process.process.pid for process in started}
    assert len(pids) == 3 and all(process.process.poll() is None for process in started)
    graders = set()
    with Processes(2, started) as engine:
        run = run_batch(course.assignment(), [course.submissions], engine,
                        on_result=lambda result: graders.update(p.process.pid for p in started if p.process))
        assert [s.score for s in run.report.submissions] == [3.0, 0.0, 0.0, 3.0, 0.0, 0.0]
        assert graders and graders <= pids
        assert {p.process.pid for p in engine.pool if p.process and p.process.poll() is None} == pids  # warm
        again = run_batch(course.assignment(), [course.submissions], engine)
        assert without_seconds(again.report) == without_seconds(run.report)
        assert {p.process.pid for p in engine.pool if p.process} == pids  # the same processes
    assert all(process.process is None for process in started)  # stopped and reaped
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def test_grader_processes_started_ahead_are_stopped_when_the_batch_does_not_use_them(tmp_path):
    course = make_course(tmp_path)
    course.released_with("a-right", RIGHT)  # one submission: graded in this process
    unused = start_processes(course.assignment(), 2)
    with Processes(2, unused) as engine:
        run = run_batch(course.assignment(), [course.submissions], engine)
    assert [s.score for s in run.report.submissions] == [3.0]
    refused = start_processes(course.assignment(), 2)
    with pytest.raises(UsageError, match="--resume needs --json"), Processes(2, refused) as engine:
        run_batch(course.assignment(), [course.submissions], engine, resume=True)
    for process in unused + refused:
        assert process.process is None  # stopped and reaped


# A hidden test that kills its own grader process for one submission: the grader dies, the batch does not.
DEADLY_SUITE = '''\
import os

import pytest


def test_square(student, reference, check):
    """square of a number"""
    got = student.square(3.0)
    if got == 99.0:
        os._exit(3)
    check.close(got, reference.square(3.0), "square(3.0)")
'''


def test_a_grader_process_that_dies_costs_only_its_submission(tmp_path):
    course = make_course(tmp_path, suite=DEADLY_SUITE)
    course.released_with("a", RIGHT)
    course.released_with("b-kills-grader", "def square(x):\n    return 99.0")
    course.released_with("c", RIGHT)
    course.released_with("d", WRONG)
    seen = []
    run = run_on(course.assignment(), [course.submissions], jobs=2, on_result=seen.append)
    rows = {s.student: s for s in run.report.submissions}
    assert [s.student for s in run.report.submissions] == ["a", "b-kills-grader", "c", "d"]
    assert rows["b-kills-grader"].status == "crashed"
    assert "grader process" in rows["b-kills-grader"].message
    assert [p.name for p in rows["b-kills-grader"].parts] == ["square"]
    assert (rows["a"].score, rows["c"].score, rows["d"].score) == (3.0, 3.0, 0.0)
    assert sorted(r.student for r in seen) == sorted(rows)


def test_jobs_default_to_the_cores_and_must_be_positive():
    assert check_jobs(None) == len(os.sched_getaffinity(0))
    assert check_jobs(3) == 3
    with pytest.raises(UsageError, match="--jobs must be 1 or more"):
        check_jobs(0)


def test_a_broken_suite_stops_the_batch_with_its_config_error(tmp_path):
    course = make_course(tmp_path, suite={"test_other.py": "def test_x(student):\n    pass\n"})
    course.released_with("a", RIGHT)
    course.released_with("b", RIGHT)
    with pytest.raises(BatchAborted, match="no hidden test belongs to this part") as raised:
        run_on(course.assignment(), [course.submissions], jobs=2)
    assert raised.value.exit_code == 3


@pytest.mark.parametrize("display", [False, True])
@pytest.mark.parametrize("name", ["student-admissions", "gradient-descent"])
def test_a_grader_process_is_given_up_only_after_every_budget_of_its_submission(name, display):
    """A slow but legitimate submission (its notebook run again after each hanging cell, every part's
    calls used up, its outputs' run of its own) must be graded, never reported as a crashed process."""
    from autograder.batch.parallel import task_limit
    from autograder.course.config import load_assignment
    from autograder.running.session import StudentSession

    assignment = load_assignment(name, REPO)
    limits, runs = assignment.limits, 1 + StudentSession.MAX_RESTARTS
    budgets = runs * limits.timeout * (2 if display else 1) + len(assignment.parts) * limits.part_timeout
    assert task_limit(assignment, display) > budgets

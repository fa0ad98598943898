"""The engine in this process: a Grader per assignment kept warm between calls, its early worker
used only for the assignment it was started for, everything stopped on close."""

from __future__ import annotations

import pytest

from autograder.batch.here import Here
from autograder.batch.tasks import Task
from autograder.running.sandbox import build_launch
from autograder.running.worker_process import Worker

from toycourse import make_course

pytestmark = pytest.mark.slow

RIGHT = "def square(x):\n    return np.asarray(x, dtype=float) ** 2"
WRONG = "def square(x):\n    return x * 2"


def test_calls_share_one_warm_grader_and_close_stops_its_worker(tmp_path):
    course = make_course(tmp_path)
    tasks = [Task(0, "a", course.released_with("a", RIGHT)), Task(1, "b", course.released_with("b", WRONG))]
    seen = []
    with Here() as engine:
        engine.grade(course.assignment(), tasks[:1], lambda task, result, graded: seen.append(result))
        grader = engine.grader(course.assignment())
        pid = grader.worker.process.pid
        engine.grade(course.assignment(), tasks[1:], lambda task, result, graded: seen.append(result))
        assert engine.grader(course.assignment()) is grader and grader.worker.process.pid == pid  # warm
        assert engine.grader(course.assignment(), display=True) is not grader  # outputs: a run of its own
    assert [(r.student, r.score) for r in seen] == [("a", 3.0), ("b", 0.0)]
    assert grader.worker.process is None and engine.graders == {}


def test_a_worker_started_ahead_serves_only_its_own_assignment(tmp_path):
    first, second = make_course(tmp_path / "first"), make_course(tmp_path / "second")
    launch = build_launch(first.assignment().release_dir)
    early = Worker(launch).spawn()
    engine = Here(first.assignment(), launch, early)
    try:
        assert engine.grader(second.assignment()).worker is not early  # another course's release
        assert engine.grader(first.assignment()).worker is early
    finally:
        engine.close()
    assert early.process is None


def test_a_worker_started_ahead_and_never_used_is_stopped_on_close(tmp_path):
    course = make_course(tmp_path)
    launch = build_launch(course.assignment().release_dir)
    early = Worker(launch).spawn()
    with Here(course.assignment(), launch, early) as engine:
        engine.grade(course.assignment(), [], lambda *_: pytest.fail("nothing to grade"))
    assert early.process is None

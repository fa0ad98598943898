"""The grader process's side of a parallel or Dask batch: one cached Grader per process and batch."""

from __future__ import annotations

import json

import pytest

from autograder.batch import host
from autograder.batch.tasks import BatchAborted, decode_reply

from toycourse import make_course

pytestmark = pytest.mark.slow

RIGHT = "def square(x):\n    return np.asarray(x, dtype=float) ** 2"


@pytest.fixture
def fresh_host():
    host.close_graders()
    yield host
    host.close_graders()


def test_one_grader_serves_a_whole_batch_and_a_new_batch_gets_a_new_one(tmp_path, fresh_host):
    course = make_course(tmp_path)
    a = course.released_with("a", RIGHT)
    b = course.released_with("b", "def square(x):\n    return x * 2")
    root = str(course.root)
    first = decode_reply(json.loads(json.dumps(fresh_host.grade_here(root, "toy", "a", str(a), "batch-1"))))
    grader = fresh_host._here.graders[(root, "toy", False)]
    second = decode_reply(fresh_host.grade_here(root, "toy", "b", str(b), "batch-1"))
    assert fresh_host._here.graders[(root, "toy", False)] is grader  # reused: its worker and memo stay warm
    assert (first.student, first.score, second.student, second.score) == ("a", 3.0, "b", 0.0)

    fresh_host.grade_here(root, "toy", "a", str(a), "batch-2")
    assert fresh_host._here.graders[(root, "toy", False)] is not grader
    assert grader.worker.process is None  # the old batch's worker was stopped


def test_a_broken_assignment_is_a_fatal_reply_not_an_exception(tmp_path, fresh_host):
    course = make_course(tmp_path)
    a = course.released_with("a", RIGHT)
    course.toml.write_text(course.toml.read_text().replace("square = 3", "square = -3"))
    reply = fresh_host.grade_here(str(course.root), "toy", "a", str(a))
    assert set(reply) == {"fatal"} and reply["fatal"]["exit_code"] == 3
    with pytest.raises(BatchAborted, match="parts.square"):
        decode_reply(reply)


def test_with_display_the_result_carries_each_cells_outputs_back(tmp_path, fresh_host):
    course = make_course(tmp_path)
    a = course.released_with("a", RIGHT)
    reply = json.loads(json.dumps(fresh_host.grade_here(str(course.root), "toy", "a", str(a), "batch-1", True)))
    result = decode_reply(reply)
    assert result.score == 3.0
    check = result.outputs["4"]  # the visible check, run after the suite: what it printed
    assert check == [{"output_type": "stream", "name": "stdout", "text": "square looks right\n"}]
    assert "outputs" not in result.to_dict()  # never in the results file
    plain = decode_reply(fresh_host.grade_here(str(course.root), "toy", "a", str(a), "batch-1"))
    assert plain.outputs is None and plain.to_dict() == dict(result.to_dict(), seconds=plain.seconds)

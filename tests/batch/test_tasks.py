"""What the batch's engines hand out and get back: a grader's reply decoded, a fatal one
raised, the result of a submission whose grader was lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.batch.tasks import BatchAborted, Task, decode_reply, lost_result
from autograder.errors import ExitCode
from autograder.results import SubmissionResult

from toycourse import make_course


def test_a_reply_with_a_result_is_that_result():
    result = SubmissionResult(student="a", notebook="a.ipynb", status="graded", score=1.0, max_score=3.0)
    assert decode_reply({"result": result.to_dict()}) == result


def test_a_fatal_reply_stops_the_batch_with_its_exit_code():
    with pytest.raises(BatchAborted, match="parts.square") as raised:
        decode_reply({"fatal": {"message": "assignment.toml: parts.square is negative", "exit_code": 3}})
    assert raised.value.exit_code == ExitCode.CONFIG


def test_a_lost_submission_is_crashed_with_every_part_at_zero_and_says_resume(tmp_path):
    assignment = make_course(tmp_path).assignment()
    task = Task(4, "e", Path("submitted/e.ipynb"), note="renamed")
    result = lost_result(assignment, task, "the grader process grading it died")
    assert (result.student, result.notebook, result.status) == ("e", "submitted/e.ipynb", "crashed")
    assert result.score == 0.0 and result.max_score == assignment.max_score
    assert [part.name for part in result.parts] == list(assignment.parts)
    assert all(part.score == 0.0 and "--resume" in part.feedback for part in result.parts)
    assert result.message == "the grader process grading it died; grade it again with --resume"

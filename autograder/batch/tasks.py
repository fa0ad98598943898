"""What the batch's engines hand out and get back, whichever grades: a Task (one
submission, in discovery order), its result, the result of a submission whose grader was
lost, or BatchAborted for a problem that stops every submission."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..course.config import Assignment
from ..errors import AutograderError, ExitCode
from ..results import PartResult, SubmissionResult


@dataclass(frozen=True)
class Task:
    """One submission to grade: its place in discovery order, the student, the
    notebook."""

    index: int
    student: str
    notebook: Path
    note: str = ""  # why its id is not the one its name gives (names.unique)


# (task, result, graded by a Grader?)
Done = Callable[[Task, SubmissionResult, bool], None]


class BatchAborted(AutograderError):
    """A grader process hit a problem that stops every submission (a broken
    assignment.toml, say)."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = ExitCode(exit_code)


def decode_reply(reply: dict) -> SubmissionResult:
    """The result in a grader process's reply; BatchAborted when it reports a fatal
    problem."""
    if "fatal" in reply:
        raise BatchAborted(
            str(reply["fatal"]["message"]), int(reply["fatal"]["exit_code"])
        )
    return SubmissionResult.from_dict(reply["result"])


def lost_result(assignment: Assignment, task: Task, why: str) -> SubmissionResult:
    """A submission whose grader process was lost: crashed, every part at zero, graded
    again on --resume."""
    message = f"{why}; grade it again with --resume"
    parts = [
        PartResult(name=name, score=0.0, max_score=points, feedback=message)
        for name, points in assignment.parts.items()
    ]
    return SubmissionResult(
        student=task.student,
        notebook=str(task.notebook),
        status="crashed",
        score=0.0,
        max_score=assignment.max_score,
        message=message,
        parts=parts,
    )

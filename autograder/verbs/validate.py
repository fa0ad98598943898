"""Check that an assignment is gradable: the master scores full marks, the released
stubs score 0."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..course.config import Assignment
from ..grade import Grader
from ..results import SubmissionResult


@dataclass
class Validation:
    assignment: str
    master: SubmissionResult
    release: SubmissionResult
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def validate(assignment: Assignment) -> Validation:
    with Grader(assignment) as grader:
        master = grader.grade("master", assignment.master_notebook)
        release = grader.grade("release", assignment.release_notebook)
    problems = []
    if master.status != "graded" or master.score != master.max_score:
        problems.append(
            f"the master notebook scored {master.score:g}/{master.max_score:g} "
            f"({master.status}{': ' + master.message if master.message else ''}); it "
            "must score full marks"
        )
        problems += [
            f"  {part.name}/{test.name}: {test.outcome}: {test.feedback}"
            for part in master.parts
            for test in part.tests
            if test.outcome != "passed"
        ]
    if release.status != "graded" or release.score != 0:
        problems.append(
            f"the released stubs scored {release.score:g} ({release.status}"
            f"{': ' + release.message if release.message else ''}); they must score 0 "
            "without a crash"
        )
        problems += [
            f"  {part.name}/{test.name}: {test.outcome}"
            for part in release.parts
            for test in part.tests
            if test.outcome in ("passed", "error")
        ]
    else:
        errors = [t for p in release.parts for t in p.tests if t.outcome == "error"]
        if errors:
            problems.append(
                f"grading the stubs gave errors, not failures: {errors[0].name}: "
                f"{errors[0].feedback}"
            )
    return Validation(assignment.name, master, release, problems)

"""What pages and the API show of submissions: one submission as the student sees it
(`Shown`), the class as the instructor sees it (`class_rows`), the scores as CSV, and
the class report of an assignment over the submissions that count."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..outputs import report
from ..results import GradeReport, SubmissionResult
from .dispatch import result_of
from .store import FINAL, counted

if TYPE_CHECKING:
    from .course import Course


@dataclass
class Shown:
    id: str
    student: str
    assignment: str
    status: str
    score: float | None
    max_score: float | None
    message: str
    submitted_at: str
    graded_at: str
    position: int | None  # queued submissions ahead of it
    seconds: str  # from submission to feedback
    count: int = 1  # submissions of this student to this assignment (class rows)
    base: str = ""  # the service's prefix under JupyterHub
    lms: str = ""  # the score that counts in the LMS: sent, or pending and why

    @property
    def score_text(self) -> str:
        return "—" if self.score is None else f"{self.score:g} / {self.max_score:g}"

    def api(self) -> dict:
        final = self.status in FINAL
        return {
            "id": self.id,
            "student": self.student,
            "assignment": self.assignment,
            "status": self.status,
            "score": self.score,
            "max_score": self.max_score,
            "message": self.message,
            "position": self.position,
            "feedback_url": (
                f"{self.base}/submissions/{self.id}/feedback" if final else None
            ),
            "submitted_at": self.submitted_at,
            "graded_at": self.graded_at or None,
            "lms": self.lms or None,
        }


def _time(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else ""


def shown(course: Course, row: dict, base: str = "") -> Shown:
    final = row["status"] in FINAL
    seconds = ""
    if row["graded_at"] and row["submitted_at"]:
        took = (row["graded_at"] - row["submitted_at"]).total_seconds()
        seconds = f"{took:.1f} s"
    return Shown(
        id=row["id"],
        student=row["student"],
        assignment=row["assignment"],
        status=row["status"],
        score=row["score"] if final else None,
        max_score=row["max_score"] if final else None,
        message=row["message"] or "" if final else "",
        submitted_at=_time(row["submitted_at"]),
        graded_at=_time(row["graded_at"]),
        position=course.store.position(row["id"]),
        seconds=seconds,
        base=base,
    )


def class_rows(course: Course, base: str = "") -> list[Shown]:
    """Per student and assignment: the latest submission (its status), the score that
    counts (`[service] counts`), and how many there were."""
    by_key: dict[tuple[str, str], list[dict]] = {}
    for row in course.store.listed():  # oldest first
        by_key.setdefault((row["student"], row["assignment"]), []).append(row)
    rules = {a.name: a.service.counts for a in course.assignments}
    sent = course.outbox.states()
    rows = []
    for key in sorted(by_key):
        submissions = by_key[key]
        row = shown(course, submissions[-1], base)
        counts = counted(submissions, rules.get(key[1], "latest"))
        row.score = counts["score"] if counts else None
        row.max_score = counts["max_score"] if counts else None
        row.count = len(submissions)
        row.lms = _lms(sent.get(key))
        rows.append(row)
    return rows


def _lms(row: dict | None) -> str:
    if row is None:
        return ""
    if row["status"] == "sent":
        return f"sent {row['score']:g}"
    why = f": {row['answer']}" if row["answer"] else ""
    return f"pending {row['score']:g} (tried {row['attempts']} times{why})"


def scores_csv(course: Course) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "student",
            "assignment",
            "status",
            "score",
            "max_score",
            "submissions",
            "submitted_at",
        ]
    )
    for row in class_rows(course):  # ids are names.student_id's: no formula starts
        writer.writerow(
            [
                row.student,
                row.assignment,
                row.status,
                row.score,
                row.max_score,
                row.count,
                row.submitted_at,
            ]
        )
    return out.getvalue()


def class_report(course: Course, name: str) -> str | None:
    """The class report (`autograder report`) of assignment `name` over each student's
    submission that counts; None for an assignment the course has not released."""
    found = [a for a in course.assignments if a.name == name]
    if not found:
        return None
    by_student: dict[str, list[dict]] = {}
    for row in course.store.listed(assignment=name):
        by_student.setdefault(row["student"], []).append(row)
    results = []
    for student in sorted(by_student):
        counts = counted(by_student[student], found[0].service.counts)
        path = result_of(course.root, counts) if counts else None
        if path is not None and path.is_file():  # none for a grading that failed
            data = json.loads(path.read_text(encoding="utf-8"))
            results.append(SubmissionResult.from_dict(data))
    return report.render(report.summarize(found[0], GradeReport(name, results)))

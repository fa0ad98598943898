"""What pages and the API show of submissions: one submission as the student sees it
(`Shown`), the class as the instructor sees it (`class_rows`), the scores as CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .store import FINAL

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
            "feedback_url": f"/submissions/{self.id}/feedback" if final else None,
            "submitted_at": self.submitted_at,
            "graded_at": self.graded_at or None,
        }


def _time(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else ""


def shown(course: Course, row: dict) -> Shown:
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
    )


def class_rows(course: Course) -> list[Shown]:
    """Per student and assignment: the latest submission (the score that counts), with
    how many there were."""
    latest: dict[tuple[str, str], dict] = {}
    counts: dict[tuple[str, str], int] = {}
    for row in course.store.listed():  # oldest first: the last one stays
        key = (row["student"], row["assignment"])
        latest[key] = row
        counts[key] = counts.get(key, 0) + 1
    rows = []
    for key in sorted(latest):
        row = shown(course, latest[key])
        row.count = counts[key]
        rows.append(row)
    return rows


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

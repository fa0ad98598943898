"""Typed grading results that serialize to the JSON contract other tools read.

{"assignment": ..., "submissions": [{"student", "notebook", "status", "score",
 "max_score", "message", "parts": [{"name", "score", "max_score", "feedback",
 "tests": [{"name", "outcome", "points", "max_points", "feedback", ...}]}],
 "nbgrader_files": {"timestamp", "secret"}, ...}]}

A result read from nbgrader's submitted/ folder holds the submission's timestamp.txt and
submission_secret.txt as they were when its notebook was read, as nbgrader's folders
hold them: keep the JSON as private as those.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from .names import text

STATUSES = ("graded", "invalid", "timeout", "crashed")
OUTCOMES = ("passed", "failed", "error", "timeout")
MAX_TEXT = 1000  # characters of a message or a feedback text kept in a result
# cell errors and notes kept per submission (the count of the rest is noted)
MAX_LISTED = 20


def _from(kind, data: dict):
    names = {f.name for f in fields(kind)}
    return kind(**{k: v for k, v in data.items() if k in names})


def _points(value: float) -> float:
    return round(float(value), 4) + 0.0  # + 0.0 turns -0.0 into 0.0


@dataclass
class TestResult:
    name: str
    outcome: str
    points: float
    max_points: float
    feedback: str = ""
    description: str = ""
    misconception: str | None = None

    def to_dict(self) -> dict:
        data = asdict(self)
        data["points"], data["max_points"] = (
            _points(self.points),
            _points(self.max_points),
        )
        if self.misconception is None:
            del data["misconception"]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> TestResult:
        return _from(cls, data)


@dataclass
class PartResult:
    name: str
    score: float
    max_score: float
    tests: list[TestResult] = field(default_factory=list)
    feedback: str = ""

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "score": _points(self.score),
            "max_score": _points(self.max_score),
            "feedback": self.feedback,
            "tests": [t.to_dict() for t in self.tests],
        }

    @classmethod
    def from_dict(cls, data: dict) -> PartResult:
        part = _from(cls, data)
        part.tests = [TestResult.from_dict(t) for t in data.get("tests", [])]
        return part


@dataclass(frozen=True)
class NbgraderFiles:
    """nbgrader's files beside a submitted notebook, read together with the bytes that
    were graded (`running/nbgrader_files.py`): each file's text, None when it was
    missing or not short ASCII text. Everything written for the submission (its
    gradebook row, autograded/, feedback/) takes them from here."""

    # timestamp.txt: when nbgrader's submit says it was submitted
    timestamp: str | None = None
    # submission_secret.txt: the key by which release_feedback files its page
    secret: str | None = None

    def to_dict(self) -> dict:
        return {key: value for key, value in asdict(self).items() if value is not None}

    @classmethod
    def from_dict(cls, data: dict) -> NbgraderFiles:
        return cls(
            **{
                f.name: data[f.name]
                for f in fields(cls)
                if isinstance(data.get(f.name), str)
            }
        )


@dataclass
class SubmissionResult:
    student: str
    notebook: str
    status: str
    score: float
    max_score: float
    message: str = ""
    parts: list[PartResult] = field(default_factory=list)
    # what the grader changed or noticed (restored cells)
    notes: list[str] = field(default_factory=list)
    # cells that raised, for feedback
    cell_errors: list[dict[str, Any]] = field(default_factory=list)
    # timing: the only field allowed to differ between two gradings
    seconds: float = 0.0
    # data the tests `record`ed (plots)
    artifacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    # of the notebook's bytes as they were graded ("" when they could not be read)
    sha256: str = ""
    # read with those bytes; None: not read with them (see publish.py)
    nbgrader_files: NbgraderFiles | None = None
    # cell number (as text) -> nbformat outputs of each cell that ran, when the batch
    # writes autograded/ notebooks; it travels from a grader process to the batch
    # (`to_dict(outputs=True)`), never into a file
    outputs: dict[str, list[dict[str, Any]]] | None = None

    def to_dict(self, outputs: bool = False) -> dict:
        return {
            "student": self.student,
            "notebook": self.notebook,
            "status": self.status,
            "score": _points(self.score),
            "max_score": _points(self.max_score),
            "message": self.message,
            "parts": [p.to_dict() for p in self.parts],
            "notes": list(self.notes),
            "cell_errors": list(self.cell_errors),
            "seconds": round(self.seconds, 3),
            **({"artifacts": self.artifacts} if self.artifacts else {}),
            **({"sha256": self.sha256} if self.sha256 else {}),
            **(
                {"nbgrader_files": self.nbgrader_files.to_dict()}
                if self.nbgrader_files is not None
                else {}
            ),
            **(
                {"outputs": self.outputs}
                if outputs and self.outputs is not None
                else {}
            ),
        }

    @classmethod
    def from_dict(cls, data: dict) -> SubmissionResult:
        result = _from(cls, data)
        result.parts = [PartResult.from_dict(p) for p in data.get("parts", [])]
        files = data.get("nbgrader_files")
        result.nbgrader_files = (
            NbgraderFiles.from_dict(files) if isinstance(files, dict) else None
        )
        return result

    def part(self, name: str) -> PartResult:
        return next(p for p in self.parts if p.name == name)

    def bound(self) -> SubmissionResult:
        """Cap every text a submission could make long (messages, notes, cell errors,
        feedback), so that no notebook can make its result, the JSON or a feedback page
        large; returns self."""
        self.message = text(self.message, MAX_TEXT)
        if len(self.cell_errors) > MAX_LISTED:
            self.notes.append(
                f"{len(self.cell_errors) - MAX_LISTED} more cell(s) raised errors; the "
                f"first {MAX_LISTED} are listed"
            )
            del self.cell_errors[MAX_LISTED:]
        self.cell_errors = [
            {k: v if isinstance(v, int) else text(v, MAX_TEXT) for k, v in e.items()}
            for e in self.cell_errors
        ]
        self.notes = [text(note, MAX_TEXT) for note in self.notes[:MAX_LISTED]]
        for part in self.parts:
            part.feedback = text(part.feedback, MAX_TEXT)
            for test in part.tests:
                test.feedback = text(test.feedback, MAX_TEXT)
        return self


@dataclass
class GradeReport:
    assignment: str
    submissions: list[SubmissionResult] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "assignment": self.assignment,
            "submissions": [s.to_dict() for s in self.submissions],
        }

    @classmethod
    def from_dict(cls, data: dict) -> GradeReport:
        return cls(
            data["assignment"],
            [SubmissionResult.from_dict(s) for s in data.get("submissions", [])],
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"

    @classmethod
    def load(cls, path: Path) -> GradeReport:
        return cls.from_dict(json.loads(Path(path).read_text()))

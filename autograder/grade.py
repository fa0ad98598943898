"""The grading pipeline, top to bottom:

notebook file -> validated `Submission` -> `StudentSession` in the sandboxed worker
-> hidden pytest `Suite` -> part scores -> `SubmissionResult` (-> exports, by the caller).

One bad submission never stops the batch: it becomes a result with status invalid, timeout or crashed.
"""

from __future__ import annotations

import copy
import time
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path

import nbformat

from .config import Assignment
from .errors import ConfigError, InvalidSubmission, UsageError
from .plugin import Outcome
from .results import GradeReport, SubmissionResult
from .sandbox import Launch, build_launch
from .scoring import rounded_sum, score_parts, zero_parts
from .session import StudentSession, Worker
from .submission import load_submission
from .suite import Suite


def discover(assignment: Assignment, paths: Iterable[Path]) -> list[tuple[str, Path]]:
    """(student, notebook) pairs from files, folders, or nbgrader's submitted/<student>/<assignment>/ tree."""
    found: list[tuple[str, Path]] = []
    for path in map(Path, paths):
        if path.is_file():
            found.append((student_of(assignment, path), path))
        elif path.is_dir():
            notebooks = sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts and p.is_file())
            found.extend((student_of(assignment, p), p) for p in notebooks)
        else:
            raise UsageError(f"no such file or folder: {path}")
    return _unique(found)


def student_of(assignment: Assignment, notebook: Path) -> str:
    """nbgrader layout: submitted/<student>/<assignment>/<notebook>.ipynb; otherwise the file's stem."""
    folder = notebook.resolve().parent
    if folder.name == assignment.name and folder.parent.parent.name == "submitted":
        return folder.parent.name
    return notebook.stem


def _unique(found: list[tuple[str, Path]]) -> list[tuple[str, Path]]:
    seen: dict[str, int] = {}
    result = []
    for student, path in found:
        seen[student] = seen.get(student, 0) + 1
        result.append((student if seen[student] == 1 else f"{student}-{seen[student]}", path))
    return result


class Grader:
    """Grades submissions of one assignment, one after another, on one worker."""

    def __init__(self, assignment: Assignment, launch: Launch | None = None):
        self.assignment = assignment
        if not assignment.master_notebook.is_file():
            raise ConfigError(assignment.suite_dir / "assignment.toml", "assignment.notebook",
                              f"master notebook {assignment.master_notebook} not found")
        if not assignment.release_dir.is_dir():
            raise UsageError(f"{assignment.release_dir} does not exist; run `autograder release {assignment.name}` first")
        self.master = nbformat.read(assignment.master_notebook, as_version=4)
        self.suite = Suite(assignment, self.master)
        self.launch = launch or build_launch(assignment.release_dir)
        self.worker = Worker(self.launch)
        self._collected: list[Outcome] | None = None

    def grade(self, student: str, path: Path, only_visible: bool = False) -> SubmissionResult:
        started = time.monotonic()
        result = SubmissionResult(student=student, notebook=str(path), status="graded", score=0.0,
                                  max_score=self.assignment.max_score)
        try:
            self._grade_into(result, path, only_visible)
        except InvalidSubmission as error:
            self._fail(result, "invalid", str(error))
        except ConfigError:
            raise
        except Exception as error:  # a bug of ours must cost this submission only, and be visible
            detail = traceback.format_exception_only(type(error), error)[-1].strip()
            self._fail(result, "crashed", f"internal error while grading ({detail}); please report it")
        result.score = rounded_sum(p.score for p in result.parts)
        result.seconds = time.monotonic() - started
        return result

    def _grade_into(self, result: SubmissionResult, path: Path, only_visible: bool) -> None:
        limits = self.assignment.limits
        submission = load_submission(result.student, path, self.master, limits.max_notebook_mb,
                                     self.assignment.skip_cells)
        result.notes = list(submission.notes)
        session = StudentSession(self.worker, [c.to_wire() for c in submission.cells], limits)
        try:
            execution = session.run_notebook()
            result.cell_errors = [{"cell": c.number, "status": c.status, **_error_fields(c.error)}
                                  for c in execution.errors()]
            if execution.status != "ok":
                self._fail(result, execution.status, execution.message)
                return
            whole_suite = self.collected() if only_visible else None  # before the run: collecting resets the plugin
            outcomes = self.suite.run(session, only_visible=only_visible)
            result.parts = score_parts(self.assignment, outcomes, whole_suite)
            result.artifacts = dict(self.suite.plugin.artifacts)
            if result.cell_errors:
                first = result.cell_errors[0]
                result.message = f"{len(result.cell_errors)} cell(s) raised errors, first: cell {first['cell']} " \
                                 f"({first.get('type', first['status'])})"
        finally:
            session.close()

    def _fail(self, result: SubmissionResult, status: str, message: str) -> None:
        result.status, result.message = status, message
        result.parts = zero_parts(self.assignment, self.collected(), message)

    def collected(self) -> list[Outcome]:
        if self._collected is None:
            self._collected = self.suite.collect()
        return copy.deepcopy(self._collected)

    def close(self) -> None:
        self.worker.stop()

    def __enter__(self) -> Grader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _error_fields(error) -> dict:
    if isinstance(error, dict):
        return {k: str(error.get(k, "")) for k in ("type", "message", "where")}
    return {"type": "", "message": str(error or ""), "where": ""}


def grade_batch(assignment: Assignment, paths: Iterable[Path],
                on_result: Callable[[SubmissionResult], None] | None = None,
                launch: Launch | None = None) -> GradeReport:
    """Grade every notebook found under `paths`; `on_result` sees each result as it is done."""
    submissions = discover(assignment, paths)
    report = GradeReport(assignment.name)
    with Grader(assignment, launch) as grader:
        for student, path in submissions:
            result = grader.grade(student, path)
            report.submissions.append(result)
            if on_result:
                on_result(result)
    return report

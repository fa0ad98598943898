"""The grading pipeline, top to bottom:

notebook file -> validated `Submission` -> `StudentSession` in the sandboxed worker ->
hidden pytest `Suite` -> part scores -> `SubmissionResult` (-> exports, by the caller).

One bad submission never stops the batch: it becomes a result with status invalid,
timeout or crashed.
"""

from __future__ import annotations

import copy
import time
import traceback
from pathlib import Path

import nbformat

from .course.config import Assignment
from .errors import ConfigError, InvalidSubmission, UsageError
from .results import SubmissionResult
from .running.launch import Launch
from .running.nbgrader_files import read_together
from .running.sandbox import build_launch
from .running.session import StudentSession
from .running.submission import grade_id, load_submission, nbgrader_metadata
from .running.worker_process import Worker
from .suite.plugin import Outcome
from .suite.runner import Suite
from .suite.scoring import rounded_sum, score_parts, zero_parts


class Grader:
    """Grades submissions of one assignment, one after another, on one worker."""

    def __init__(
        self,
        assignment: Assignment,
        launch: Launch | None = None,
        display: bool = False,
        worker: Worker | None = None,
    ):
        """`display`: each result also carries what every cell showed
        (`SubmissionResult.outputs`), from a run of its own (`_outputs`) that grading
        never sees. `worker`: one already started (`Worker.spawn`) for this assignment's
        release, else one is started here, first, so that its preload overlaps the rest
        of the grader's start."""
        self.assignment, self.display = assignment, display
        if not assignment.master_notebook.is_file():
            raise ConfigError(
                assignment.suite_dir / "assignment.toml",
                "assignment.notebook",
                f"master notebook {assignment.master_notebook} not found",
            )
        if not assignment.release_dir.is_dir():
            raise UsageError(
                f"{assignment.release_dir} does not exist; run `autograder release "
                f"{assignment.name}` first"
            )
        self.launch = (
            worker.launch
            if worker
            else (launch or build_launch(assignment.release_dir))
        )
        self.worker = (worker or Worker(self.launch)).spawn()
        try:
            self._prepare(assignment)
        except BaseException:
            self.worker.stop()
            raise

    def _prepare(self, assignment: Assignment) -> None:
        self.master = nbformat.read(assignment.master_notebook, as_version=4)
        # The master's visible checks decide no points (the hidden suite does): while
        # grading they do not run, so a function that hangs cannot make each of them
        # wait out its cell's limit.
        self.check_cells = tuple(
            grade_id(c)
            for c in self.master.cells
            if nbgrader_metadata(c).get("grade")
            and not nbgrader_metadata(c).get("solution")
            and grade_id(c)
        )
        self.suite = Suite(assignment, self.master)
        self._collected: list[Outcome] | None = None

    def grade(
        self, student: str, path: Path, only_visible: bool = False
    ) -> SubmissionResult:
        started = time.monotonic()
        result = self._fresh_result(student, path)
        try:
            self._grade_into(result, path, only_visible)
        except InvalidSubmission as error:
            self._fail(result, "invalid", str(error))
        except ConfigError:
            raise
        # a bug of ours must cost this submission only, and be visible
        except Exception as error:
            detail = traceback.format_exception_only(type(error), error)[-1].strip()
            self._fail(
                result,
                "crashed",
                f"internal error while grading ({detail}); please report it",
            )
        result.score = rounded_sum(p.score for p in result.parts)
        result.seconds = time.monotonic() - started
        return result.bound()

    def refuse(self, student: str, path: Path, message: str) -> SubmissionResult:
        """The result of a notebook that could not be read (`message` says why), as
        `grade` makes it."""
        result = self._fresh_result(student, path)
        self._fail(result, "invalid", message)
        return result.bound()

    def _fresh_result(self, student: str, path: Path) -> SubmissionResult:
        return SubmissionResult(
            student=student,
            notebook=str(path),
            status="graded",
            score=0.0,
            max_score=self.assignment.max_score,
        )

    def _grade_into(
        self, result: SubmissionResult, path: Path, only_visible: bool
    ) -> None:
        limits = self.assignment.limits
        read = read_together(
            path,
            lambda: load_submission(
                result.student,
                path,
                self.master,
                limits.max_notebook_mb,
                self.assignment.skip_cells + self.check_cells,
            ),
        )
        # its timestamp and secret go with the bytes graded, into every output
        result.nbgrader_files = read.files
        submission = read.get()
        result.notes, result.sha256 = list(submission.notes), submission.sha256
        if self.display:
            result.outputs = self._outputs(submission)
        session = StudentSession(
            self.worker,
            [c.to_wire() for c in submission.cells],
            limits,
            self.suite.stand_ins,
            self.suite.plugin.reference_module,
            parts=len(self.assignment.parts),
        )
        try:
            execution = session.run_notebook()
            result.cell_errors = [
                {"cell": c.number, "status": c.status, **_error_fields(c.error)}
                for c in execution.errors()
            ]
            if execution.status != "ok":
                self._fail(result, execution.status, execution.message)
                return
            # before the run: collecting resets the plugin
            whole_suite = self.collected() if only_visible else None
            outcomes = self.suite.run(session, only_visible=only_visible)
            result.parts = score_parts(self.assignment, outcomes, whole_suite)
            result.artifacts = dict(self.suite.plugin.artifacts)
            if result.cell_errors:
                first = result.cell_errors[0]
                result.message = (
                    f"{len(result.cell_errors)} cell(s) raised errors, first: cell "
                    f"{first['cell']} ({first.get('type') or first['status']})"
                )
        finally:
            session.close()

    def _outputs(self, submission) -> dict[str, list[dict]]:
        """What each cell shows, for the autograded/ notebook: the notebook run on its
        own in a fresh child, as Jupyter's Restart & Run All would (values, figures, the
        visible checks too; `skip_cells` aside), before grading starts. Nothing of it
        reaches the grading: not its time, not its state, and it never sees a hidden
        test's input, so no output can show one."""
        cells = [
            dict(cell.to_wire(), skip=cell.grade_id in self.assignment.skip_cells)
            for cell in submission.cells
        ]
        session = StudentSession(
            self.worker, cells, self.assignment.limits, display=True
        )
        try:
            execution = session.run_notebook()
        finally:
            session.close()
        return {
            str(cell.number): list(cell.outputs)
            for cell in execution.cells
            if cell.status != "skipped"
        }

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

"""Where each finished result of a batch goes as soon as it is done: the progress
display, nbgrader's gradebook, the student's feedback page, and, with the course's own
gradebook, nbgrader's autograded/ and feedback/ folders (`course_folders.py`). So a run
stopped half-way keeps what it finished.

`Publisher` is the `on_result` callback of a batch; `catch_up` handles the results a
resumed batch took from its journal (they never pass through `on_result`).
"""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from ..course.config import Assignment
from ..course.discovery import Survey
from ..errors import SubmissionFilesError
from ..results import GradeReport, SubmissionResult
from ..running.nbgrader_files import read_together
from ..running.notebook_file import read_bytes

if TYPE_CHECKING:
    from ..outputs.kept_writers import KeptWriters


class Publisher:
    def __init__(
        self,
        assignment: Assignment,
        surveyed: Survey,
        console: Console,
        gradebook: str | None = None,
        feedback: Path | None = None,
        kept: str = "the results files hold it",
        writers: KeptWriters | None = None,
    ):
        """`surveyed`: the batch's submissions and the notebooks left out
        (`discovery.survey`). `gradebook`: None writes none, "" the course's own
        (nbgrader's default), else a database URL. With the course's own, submissions
        from its submitted/ folder also get their autograded/ notebook (as it ran:
        `display` asks the batch for the outputs) and their page in its feedback/
        folder. `kept`: where a result is still kept when its copy here could not be
        written. `writers`: gradebook writers kept open between batches (a service's),
        else one is opened for this batch."""
        from .progress import BatchProgress

        self.assignment, self.console, self.feedback, self.kept = (
            assignment,
            console,
            feedback,
            kept,
        )
        self.seen: set[int] = set()
        # the first failure of the progress display, reported once at the end
        self.display_error = ""
        # results that could not be stored in the gradebook or as a page
        self.problems: list[str] = []
        # a student's own files kept a copy from nbgrader's folders
        self.warnings: list[str] = []
        self._stack = contextlib.ExitStack()
        self.writer = self.folders = None
        # closes what was opened if a later step fails
        with self._stack.pop_all() as stack:
            if gradebook is not None:
                from ..outputs.course_folders import CourseFolders
                from ..outputs.gradebook import GradebookWriter, default_url

                url = gradebook or None
                self.writer = stack.enter_context(
                    writers.lend(assignment, url)
                    if writers is not None
                    else GradebookWriter(assignment, url)
                )
                if self.writer.url == default_url(assignment):
                    self.folders = CourseFolders(assignment)
            found = surveyed.found
            # ids that were taken, notebooks left out: the CLI warns of them before
            # grading
            self.renamed = [f.note for f in found if f.note] + surveyed.skipped
            self.progress = stack.enter_context(BatchProgress(len(found), console))
            self._stack = stack.pop_all()

    def __call__(self, result: SubmissionResult) -> None:
        """Store the result (gradebook, feedback page), then show it: a display that
        fails loses nothing."""
        self.seen.add(id(result))
        self._store(result)
        try:
            self.progress(result)
        # the terminal is for people; the result is already kept
        except Exception as error:
            self._display_failed(error)

    def _display_failed(self, error: Exception) -> None:
        if not self.display_error:
            self.display_error = f"{type(error).__name__}: {error}"[:300]

    def plan(self, to_grade: int, kept: int) -> None:
        """The batch's `on_plan`: a resumed batch counts only what it still grades."""
        self.progress.plan(to_grade, kept)

    @property
    def display(self) -> bool:
        """Whether the batch should collect what each cell showed (for the autograded/
        notebooks)."""
        return self.folders is not None

    def _store(self, result: SubmissionResult) -> None:
        """Into the gradebook and the feedback pages; a failure costs this result's copy
        there only."""
        graded = self._graded_bytes(result)
        steps = (
            ("gradebook", self._gradebook),
            ("autograded notebook", lambda r: self._autograded(r, graded)),
            ("feedback page", self._feedback_page),
            ("page in the course's feedback/ folder", self._nbgrader_page),
        )
        for where, store in steps:
            try:
                store(result)
            # the student's doing: said, but the batch did its job
            except SubmissionFilesError as error:
                self.warnings.append(
                    f"the {where} of {result.student} was not written: "
                    f"{str(error)[:300]}"
                )
            # one student's page or row must not stop the class's
            except Exception as error:
                self.problems.append(
                    f"the {where} of {result.student} could not be written "
                    f"({type(error).__name__}: {str(error)[:300]}); {self.kept}"
                )
        result.outputs = None  # written: a large class's outputs are not kept in memory

    def _graded_bytes(self, result: SubmissionResult) -> bytes | None:
        """The notebook's bytes when its folder still holds the submission graded; else
        None, and a warning when a newer one came in since. What is written describes
        the one graded either way: its score, and the time and secret read with it
        (`SubmissionResult.nbgrader_files`), never those on disk now."""
        if self.writer is None or (result.nbgrader_files is None and not result.sha256):
            # nothing of nbgrader's to write, or nothing was read (a grader process that
            # was lost)
            return None
        path = Path(result.notebook)
        now = read_together(
            path, lambda: read_bytes(path, self.assignment.limits.max_notebook_mb)
        )
        digest = hashlib.sha256(now.value).hexdigest() if now.value is not None else ""
        if digest == result.sha256 and now.files == result.nbgrader_files:
            return now.value
        # the same notebook submitted again: only its time and secret are new
        same = digest == result.sha256
        self.warnings.append(
            _newer(result.student, path.name, same, self.assignment.name)
        )
        return now.value if same else None

    def _autograded(self, result: SubmissionResult, graded: bytes | None) -> None:
        if self.folders is not None:
            self.folders.write_autograded(result, graded)

    def _nbgrader_page(self, result: SubmissionResult) -> None:
        if self.folders is not None:
            self.folders.write_feedback(result)

    def _gradebook(self, result: SubmissionResult) -> None:
        if self.writer is not None:
            self.writer.record(result)

    def _feedback_page(self, result: SubmissionResult) -> None:
        if self.feedback is not None:
            from ..outputs.feedback import write_feedback

            write_feedback(self.assignment, result, self.feedback)

    def catch_up(self, report: GradeReport) -> None:
        """Store the results of the report that were not published as they finished."""
        for result in report.submissions:
            if id(result) not in self.seen:
                self.seen.add(id(result))
                self._store(result)

    def where(self) -> list[str]:
        lines = []
        if self.writer is not None:
            lines.append(
                f"gradebook: {self.writer.url} (see it with `nbgrader export` or the "
                "formgrader)"
            )
        if self.folders is not None:
            course = self.folders.coursedir
            lines.append(
                f"nbgrader: {course.autograded_directory}/ and "
                f"{course.feedback_directory}/ of {course.root} "
                "for the formgrader and `nbgrader release_feedback`"
            )
        if self.feedback is not None:
            lines.append(
                f"feedback: {self.feedback}/<student>/{self.assignment.name}/"
                f"{Path(self.assignment.notebook).stem}.html"
            )
        return lines

    def __enter__(self) -> Publisher:
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()


def _newer(student: str, notebook: str, same: bool, assignment: str) -> str:
    changed = (
        f"{notebook} is the same, nbgrader's timestamp.txt or secret beside it changed"
        if same
        else f"{notebook} changed"
    )
    return (
        f"a newer submission of {student} arrived after the one graded was read "
        f"({changed}): the gradebook and feedback/ hold the one graded, with its own "
        f"time{'' if same else ', and autograded/ no notebook of it'}; run `autograder "
        f"grade {assignment}` again to grade the new one"
    )

"""What nbgrader's course folders get from a submission graded out of the course's
submitted/ folder, so that the rest of nbgrader's cycle works as after `nbgrader
autograde`:

    autograded/<student>/<assignment>/
        <notebook>.ipynb        the notebook as it ran (`executed.py`), for the
        timestamp.txt           formgrader and `nbgrader generate_feedback`, with
        submission_secret.txt   nbgrader's files of the submission and the release's
        <data files>            files
    feedback/<student>/<assignment>/
        <notebook>.html         our feedback page, with the submission's time and
        timestamp.txt           secret (by which nbgrader finds the page for the
        submission_secret.txt   student), for `nbgrader release_feedback`

A notebook gets its autograded/ folder when its student id is one folder name (the
formgrader lists the submissions found there, wherever they were graded from), and its
page in feedback/ when it was found at submitted/<student>/<assignment>/<notebook>.ipynb
of this course, whose id is that folder's name (release_feedback finds the submission
there). Everything is written from the bytes that were graded (read again by the batch
without following a link, and checked here against their hash), nbgrader's files as they
were read with those bytes (`SubmissionResult.nbgrader_files`, never read again) and
files of our own: a newer submission collected meanwhile never lends its time or secret
to the one graded.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import nbformat

from ..course.config import Assignment
from ..course.generate import course_directory
from ..errors import SubmissionFilesError
from ..results import NbgraderFiles, SubmissionResult
from ..running.nbgrader_files import SECRET, TIMESTAMP
from .executed import executed_notebook
from .feedback import write_page
from .gradebook import submission_time


class CourseFolders:
    """nbgrader's autograded/ and feedback/ folders of the course of `assignment`."""

    def __init__(self, assignment: Assignment):
        self.assignment = assignment
        self.coursedir = course_directory(assignment)
        self.master = nbformat.read(assignment.master_notebook, as_version=4)
        # nbgrader names notebooks by their stem
        self.stem = Path(assignment.notebook).stem

    def slot(self, result: SubmissionResult) -> Path | None:
        """submitted/<student>/<assignment>/ when the result's notebook is the course's,
        in its student's folder."""
        if not _one_folder(result.student):
            return None
        student = result.student
        notebook = Path(os.path.abspath(result.notebook))
        folder = Path(
            os.path.abspath(self._folder(self.coursedir.submitted_directory, student))
        )
        if notebook.parent != folder or notebook.name != self.assignment.notebook:
            return None
        return folder

    def _folder(self, step: str, student: str) -> str:
        return self.coursedir.format_path(step, student, self.assignment.name)

    def write_autograded(
        self, result: SubmissionResult, graded: bytes | None
    ) -> Path | None:
        """autograded/<student>/<assignment>/: the notebook as it ran, nbgrader's files
        read with it and the release's files. `graded`: the notebook's bytes as they are
        now; none, or other than those graded (a newer submission came in), or a result
        of no bytes (invalid, lost), leave no notebook there: none of another submission
        stays beside this one's gradebook row."""
        if not _one_folder(result.student):
            return None
        target = Path(self._folder(self.coursedir.autograded_directory, result.student))
        path = target / self.assignment.notebook
        # from a journal: the copy made then stays
        if result.sha256 and result.outputs is None and path.exists():
            return path
        if (
            not result.sha256
            or graded is None
            or hashlib.sha256(graded).hexdigest() != result.sha256
        ):
            for stale in (path, target / TIMESTAMP, target / SECRET):
                stale.unlink(missing_ok=True)
            return None
        target.mkdir(parents=True, exist_ok=True)
        _replace(
            path,
            nbformat.writes(
                executed_notebook(graded, self.master, result.outputs)
            ).encode("utf-8"),
        )
        for name, data in nbgraders_files(result).items():
            if data is None:
                # not the one of an older submission
                (target / name).unlink(missing_ok=True)
            else:
                _replace(target / name, data)
        for source in _data_files(self.assignment.release_dir):
            destination = target / source.relative_to(self.assignment.release_dir)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)
        return path

    def write_feedback(self, result: SubmissionResult) -> Path | None:
        """feedback/<student>/<assignment>/<notebook>.html with the timestamp.txt and
        submission_secret.txt read with the graded notebook, where release_feedback
        looks."""
        submitted = self.slot(result)
        if submitted is None:
            return None
        if result.nbgrader_files is None:
            raise SubmissionFilesError(
                "the timestamp.txt and submission_secret.txt of "
                f"submitted/{result.student}/{self.assignment.name}/ were not read "
                "with its notebook (the folder changed while it was read, or its "
                "grading was lost); its page was not put in the course's feedback/: "
                "grade it again"
            )
        files = nbgraders_files(result)
        missing = [name for name, data in files.items() if data is None]
        present = {name: data for name, data in files.items() if data is not None}
        if missing:
            raise SubmissionFilesError(
                f"submitted/{result.student}/{self.assignment.name}/ has no readable "
                f"{' or '.join(missing)} (nbgrader's submit and collect write them; "
                "check that CourseDirectory.include in nbgrader_config.py does not "
                "leave them out), which nbgrader's release_feedback needs; its page "
                "was not put in the course's feedback/"
            )
        target = Path(self._folder(self.coursedir.feedback_directory, result.student))
        path = write_page(self.assignment, result, target / f"{self.stem}.html")
        for name, data in present.items():
            _replace(target / name, data)
        return path


def _one_folder(student: str) -> bool:
    return (
        bool(student) and Path(student).name == student and student not in (".", "..")
    )


def nbgraders_files(result: SubmissionResult) -> dict[str, bytes | None]:
    """timestamp.txt and submission_secret.txt as they were read with the graded
    notebook, each None unless it is what nbgrader writes: a time nbgrader reads (the
    one the gradebook records, `gradebook.submission_time`), a short line of letters and
    digits. Kept as they are: nbgrader finds the student's page by them."""
    files = result.nbgrader_files or NbgraderFiles()
    found: dict[str, bytes | None] = {TIMESTAMP: None, SECRET: None}
    if files.timestamp is not None and submission_time(files) is not None:
        found[TIMESTAMP] = files.timestamp.encode("ascii")
    if files.secret is not None and _secret(files.secret):
        found[SECRET] = files.secret.encode("ascii")
    return found


def _secret(text: str) -> bool:
    return bool(text.strip()) and text.strip().isalnum()


def _data_files(release: Path) -> list[Path]:
    """The release's files other than notebooks (the data the notebook reads), not
    through links."""
    found = []
    for parent, folders, files in os.walk(release):
        folders[:] = [
            f for f in folders if not f.startswith(".") and f != "__pycache__"
        ]
        found += [
            Path(parent) / f
            for f in files
            if not f.endswith(".ipynb")
            and not f.startswith(".")
            and not os.path.islink(Path(parent) / f)
        ]
    return sorted(found)


def _replace(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)

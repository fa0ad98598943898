"""What nbgrader's course folders get from a submission graded out of the course's submitted/ folder,
so that the rest of nbgrader's cycle works as after `nbgrader autograde`:

    autograded/<student>/<assignment>/<notebook>.ipynb   the notebook as it ran (`executed.py`), for the
                                       timestamp.txt     formgrader and `nbgrader generate_feedback`,
                                       submission_secret.txt  with nbgrader's files of the submission
                                       <data files>      and the release's files
    feedback/<student>/<assignment>/<notebook>.html      our feedback page, with the submission's time
                                    timestamp.txt        and secret (by which nbgrader finds the page
                                    submission_secret.txt  for the student), for `nbgrader release_feedback`

A notebook gets its autograded/ folder when its student id is one folder name (the formgrader lists
the submissions found there, wherever they were graded from), and its page in feedback/ when it was
found at submitted/<student>/<assignment>/<notebook>.ipynb of this course, whose id is that folder's
name (release_feedback finds the submission there). Everything is written from the bytes that were
graded (read again without following a link, and checked against their hash) and files of our own.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import nbformat

from ..course.config import Assignment
from ..errors import InvalidSubmission, SubmissionFilesError
from ..results import SubmissionResult
from ..running.notebook_file import read_bytes
from .executed import executed_notebook
from .feedback import write_page
from .gradebook import TIMESTAMP_MB, course_directory, read_timestamp

TIMESTAMP = "timestamp.txt"  # nbgrader's submission time, beside each submitted notebook
SECRET = "submission_secret.txt"  # nbgrader's key of a submission's feedback, beside it too


class CourseFolders:
    """nbgrader's autograded/ and feedback/ folders of the course of `assignment`."""

    def __init__(self, assignment: Assignment):
        self.assignment = assignment
        self.coursedir = course_directory(assignment)
        self.master = nbformat.read(assignment.master_notebook, as_version=4)
        self.stem = Path(assignment.notebook).stem  # nbgrader names notebooks by their stem

    def slot(self, result: SubmissionResult) -> Path | None:
        """submitted/<student>/<assignment>/ when the result's notebook is the course's, in its student's folder."""
        if not _one_folder(result.student):
            return None
        student = result.student
        notebook = Path(os.path.abspath(result.notebook))
        folder = Path(os.path.abspath(self._folder(self.coursedir.submitted_directory, student)))
        if notebook.parent != folder or notebook.name != self.assignment.notebook:
            return None
        return folder

    def _folder(self, step: str, student: str) -> str:
        return self.coursedir.format_path(step, student, self.assignment.name)

    def write_autograded(self, result: SubmissionResult) -> Path | None:
        """autograded/<student>/<assignment>/: the notebook as it ran, timestamp.txt and the release's files."""
        if not _one_folder(result.student) or not result.sha256:
            return None
        target = Path(self._folder(self.coursedir.autograded_directory, result.student))
        path = target / self.assignment.notebook
        if result.outputs is None and path.exists():  # taken from a journal: the copy made when it was graded stays
            return path
        try:
            raw = read_bytes(Path(result.notebook), self.assignment.limits.max_notebook_mb)
        except InvalidSubmission as error:
            raise SubmissionFilesError(f"its notebook can no longer be read ({error})") from None
        if hashlib.sha256(raw).hexdigest() != result.sha256:
            raise SubmissionFilesError("its notebook changed after it was graded; grade it again to update autograded/")
        target.mkdir(parents=True, exist_ok=True)
        _replace(path, nbformat.writes(executed_notebook(raw, self.master, result.outputs)).encode("utf-8"))
        self._copy_nbgraders_files(Path(result.notebook).parent, target)
        for source in _data_files(self.assignment.release_dir):
            destination = target / source.relative_to(self.assignment.release_dir)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)
        return path

    def write_feedback(self, result: SubmissionResult) -> Path | None:
        """feedback/<student>/<assignment>/<notebook>.html and timestamp.txt, where release_feedback looks."""
        submitted = self.slot(result)
        if submitted is None:
            return None
        files = nbgraders_files(submitted)
        missing = [name for name, data in files.items() if data is None]
        if missing:
            raise SubmissionFilesError(f"submitted/{result.student}/{self.assignment.name}/ has no readable "
                                 f"{' or '.join(missing)} (nbgrader's submit and collect write them; check that "
                                 "CourseDirectory.include in nbgrader_config.py does not leave them out), which "
                                 "nbgrader's release_feedback needs; its page was not put in the course's feedback/")
        target = Path(self._folder(self.coursedir.feedback_directory, result.student))
        path = write_page(self.assignment, result, target / f"{self.stem}.html")
        for name, data in files.items():
            _replace(target / name, data)
        return path

    def _copy_nbgraders_files(self, submitted: Path, target: Path) -> None:
        for name, data in nbgraders_files(submitted).items():
            if data is None:
                (target / name).unlink(missing_ok=True)  # not the one of an older submission
            else:
                _replace(target / name, data)


def _one_folder(student: str) -> bool:
    return bool(student) and Path(student).name == student and student not in (".", "..")


def nbgraders_files(submitted: Path) -> dict[str, bytes | None]:
    """timestamp.txt and submission_secret.txt beside a submitted notebook, each None unless it is what
    nbgrader writes: a time nbgrader reads (the one the gradebook records, `gradebook.submitted_at`), a
    short line of letters and digits. Kept as they are: nbgrader finds the student's page by them."""
    stamp = read_timestamp(submitted)
    found: dict[str, bytes | None] = {TIMESTAMP: stamp[0] if stamp and stamp[0].isascii() else None}
    try:  # as a submission is read: never through a link, a small regular file
        secret = read_bytes(submitted / SECRET, TIMESTAMP_MB)
        _secret(secret.decode("ascii"))
        found[SECRET] = secret
    except (InvalidSubmission, ValueError):
        found[SECRET] = None
    return found


def _secret(text: str) -> None:
    if not text.strip() or not text.strip().isalnum():
        raise ValueError("not a submission secret")


def _data_files(release: Path) -> list[Path]:
    """The release's files other than notebooks (the data the notebook reads), not through links."""
    found = []
    for parent, folders, files in os.walk(release):
        folders[:] = [f for f in folders if not f.startswith(".") and f != "__pycache__"]
        found += [Path(parent) / f for f in files if not f.endswith(".ipynb") and not f.startswith(".")
                  and not os.path.islink(Path(parent) / f)]
    return sorted(found)


def _replace(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)

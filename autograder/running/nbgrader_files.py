"""nbgrader's files beside a submitted notebook (timestamp.txt, submission_secret.txt),
read together with the notebook, so that everything written for a submission (its
gradebook row and late penalty, autograded/, feedback/) describes the bytes that were
graded.

`nbgrader collect --update` replaces a student's submitted/<student>/<assignment>/
folder (it removes it, then copies the newer submission in) whenever the student submits
again, also while a batch grades that folder. The notebook is read between two reads of
these files, again while they differ, so the files recorded with the notebook are those
that were there when it was read; the batch checks the folder once more when it writes
the results (`batch/publish.py`) and says when a newer submission came in since.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar, cast

from ..errors import InvalidSubmission
from ..results import NbgraderFiles
from .notebook_file import read_bytes

TIMESTAMP = "timestamp.txt"  # nbgrader's submission time
SECRET = "submission_secret.txt"  # nbgrader's key of the submission's feedback
FILE_MB = 0.001  # each holds one short line: a date, a key of 128 hex digits
ATTEMPTS = 3  # reads of the notebook while a collect changes the folder around it

T = TypeVar("T")


@dataclass(frozen=True)
class Read(Generic[T]):
    """What `load` gave (or the InvalidSubmission it raised) and nbgrader's files read
    with it."""

    value: T | None
    error: InvalidSubmission | None
    files: NbgraderFiles | None  # None: the folder changed at every attempt

    def get(self) -> T:
        """The value; the load's InvalidSubmission when it raised one."""
        if self.error is not None:
            raise self.error
        return cast(T, self.value)  # set whenever `load` raised nothing


def read_files(folder: Path) -> NbgraderFiles:
    """timestamp.txt and submission_secret.txt in `folder` as they are now."""
    return NbgraderFiles(
        timestamp=_text(folder / TIMESTAMP), secret=_text(folder / SECRET)
    )


def read_together(notebook: Path, load: Callable[[], T]) -> Read[T]:
    """`load()`, which reads `notebook`, with nbgrader's files beside it as they were
    meanwhile: the files are read before and after, and all of it again while the two
    reads differ (a collect replacing the folder)."""
    value, error, files = None, None, None
    for _ in range(ATTEMPTS):
        before = read_files(notebook.parent)
        try:
            value, error = load(), None
        except InvalidSubmission as raised:
            value, error = None, raised
        if read_files(notebook.parent) == before:
            files = before
            break
    return Read(value, error, files)


def _text(path: Path) -> str | None:
    try:  # as a submission is read: never through a link, a small regular file
        return read_bytes(path, FILE_MB).decode("ascii")
    except (InvalidSubmission, UnicodeDecodeError):
        return None

"""One exception hierarchy for the whole tool; every message says what to do next.

The CLI catches `AutograderError` and prints `str(error)` as one line; anything else is a bug.
"""

from __future__ import annotations

import enum
from pathlib import Path


class ExitCode(enum.IntEnum):
    """Process exit codes of the `autograder` command."""

    OK = 0
    FAILED = 1  # the command ran but its check failed (e.g. `validate` found a problem)
    USAGE = 2  # unknown assignment, no such path, bad option
    CONFIG = 3  # an assignment.toml or data file is broken
    INTERNAL = 4  # a bug in the autograder itself


class AutograderError(Exception):
    """Base class: an expected problem with a message a user can act on."""

    exit_code = ExitCode.FAILED


class UsageError(AutograderError):
    """The command line names something that does not exist."""

    exit_code = ExitCode.USAGE


class ConfigError(AutograderError):
    """An assignment's configuration is wrong; the message names the file and key."""

    exit_code = ExitCode.CONFIG

    def __init__(self, path: Path | str, key: str, problem: str):
        self.path, self.key, self.problem = str(path), key, problem
        super().__init__(f"{path}: [{key}] {problem}")


class DataFileError(AutograderError):
    """A CSV data file is unusable; the message names the file, row and column."""

    exit_code = ExitCode.CONFIG

    def __init__(self, path: Path | str, problem: str, row: int | None = None, column: str | None = None):
        self.path, self.problem, self.row, self.column = str(path), problem, row, column
        where = str(path)
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column '{column}'"
        super().__init__(f"{where}: {problem}")


class ReleaseError(AutograderError):
    """nbgrader could not generate the student version."""


class GradebookError(AutograderError):
    """nbgrader's gradebook database could not be written."""


class InvalidSubmission(AutograderError):
    """A submitted file cannot be graded (not a notebook, too large, ...). Costs only that student."""


class SubmissionFilesError(GradebookError):
    """A student's own files kept a copy of their result from nbgrader's folders (a timestamp.txt that
    is missing, a notebook changed after grading): a warning about that student, not the batch's failure."""


class WorkerError(AutograderError):
    """The sandboxed worker failed; raised in the grader, never a crash of the grader."""


class WorkerCrashed(WorkerError):
    """The worker process died (exit, signal, memory limit)."""


class WorkerTimeout(WorkerError):
    """The worker did not answer within its time limit and was killed."""


class StudentError(AutograderError):
    """A student's function raised; `where` is the student's own line, for feedback."""

    def __init__(self, message: str, where: str = ""):
        self.where = where
        super().__init__(message)


class NotPlainData(AutograderError):
    """A student's function returned something that is not plain numeric data."""

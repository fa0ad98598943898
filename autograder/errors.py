"""One exception hierarchy for the whole tool; every message says what to do next.

The CLI catches `AutograderError` and prints `str(error)` as one line; anything else is
a bug.
"""

from __future__ import annotations

import enum
import errno
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
        # a Python file has no key
        super().__init__(f"{path}: [{key}] {problem}" if key else f"{path}: {problem}")


class DataFileError(AutograderError):
    """A CSV data file is unusable; the message names the file, row and column."""

    exit_code = ExitCode.CONFIG

    def __init__(
        self,
        path: Path | str,
        problem: str,
        row: int | None = None,
        column: str | None = None,
    ):
        self.path, self.problem, self.row, self.column = str(path), problem, row, column
        where = str(path)
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column '{column}'"
        super().__init__(f"{where}: {problem}")


# What a failed write means, for the errors a full or failing disk gives (the rest say
# it in their own words).
STORAGE_CAUSES = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EFBIG: "the file is larger than this process may write",
    errno.EROFS: "the filesystem is read-only",
    errno.EIO: "the disk failed to write",
}


def storage_cause(error: OSError) -> str:
    """Why a write failed, in words: 'the disk is full (No space left on device)'."""
    detail = error.strerror or str(error) or type(error).__name__
    known = STORAGE_CAUSES.get(error.errno) if error.errno is not None else None
    return f"{known} ({detail})" if known else detail


class StorageError(AutograderError):
    """A file could not be written: a full disk, a quota, a read-only or failing
    filesystem. The message names the file, the cause, and what was kept."""

    def __init__(self, path: Path | str, error: OSError, kept: str):
        self.path, self.error, self.kept = str(path), error, kept
        super().__init__(f"could not write {path}: {storage_cause(error)}; {kept}")


def refused_write(error: BaseException) -> StorageError | None:
    """A full or failing disk's OSError, for a write no verb reports itself, as the
    StorageError that says so; None for any other error (a bug of ours)."""
    if not isinstance(error, OSError) or error.errno not in STORAGE_CAUSES:
        return None
    return StorageError(
        error.filename or "a file",
        error,
        "what the command wrote before is kept: free some "
        "space (or write elsewhere) and run it again",
    )


class ReleaseError(AutograderError):
    """nbgrader could not generate the student version."""


class GradebookError(AutograderError):
    """nbgrader's gradebook database could not be written."""


class InvalidSubmission(AutograderError):
    """A submitted file cannot be graded (not a notebook, too large, ...). Costs only
    that student."""


class SubmissionFilesError(GradebookError):
    """A student's own files kept a copy of their result from nbgrader's folders (a
    timestamp.txt that is missing, a notebook changed after grading): a warning about
    that student, not the batch's failure."""


class WorkerError(AutograderError):
    """The sandboxed worker failed; raised in the grader, never a crash of the
    grader."""


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

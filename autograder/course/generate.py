"""nbgrader's own converter, run for a course: the release of an assignment and its
record in the gradebook.

The course's `nbgrader_config.py` is read, so what is generated here and what `nbgrader
generate_assignment NAME --force` makes in the course folder are the same files, with
the same assignment, notebook and cells (checksums, points, kernelspec) recorded in the
gradebook.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import sys
import traceback
from pathlib import Path

from ..errors import ConfigError, ReleaseError
from .config import Assignment

NBGRADER_CONFIG = "nbgrader_config.py"


def nbgrader_config(root: Path):
    """The course's nbgrader_config.py, as nbgrader reads it; ConfigError naming its
    line when it cannot be run."""
    from traitlets.config import Config, PyFileConfigLoader

    config = Config()
    if (root / NBGRADER_CONFIG).is_file():
        try:
            config = PyFileConfigLoader(NBGRADER_CONFIG, path=str(root)).load_config()
        # the course's own Python: a typo, a failing import, an exit
        except (Exception, SystemExit) as error:
            raise ConfigError(
                root / NBGRADER_CONFIG,
                "",
                _config_failure(root / NBGRADER_CONFIG, error),
            ) from None
    config.CourseDirectory.root = str(root)
    return config


def course_directory(assignment: Assignment):
    """nbgrader's CourseDirectory for the course, with the course's
    nbgrader_config.py."""
    from nbgrader.coursedir import CourseDirectory

    return CourseDirectory(config=nbgrader_config(assignment.root))


def _config_failure(path: Path, error: BaseException) -> str:
    """What went wrong in nbgrader_config.py, at which line, and what to do."""

    def same(filename: str | None) -> bool:
        return bool(filename and os.path.abspath(filename) == os.path.abspath(path))

    line = (
        error.lineno
        if isinstance(error, SyntaxError) and same(error.filename)
        else None
    )
    for frame in traceback.extract_tb(error.__traceback__):
        if same(frame.filename):
            line = frame.lineno
    message = error.msg if isinstance(error, SyntaxError) else str(error)
    where = f"line {line}: " if line else ""
    return (
        f"{where}{type(error).__name__}: {message[:300]}; fix nbgrader_config.py in "
        "the course folder (nbgrader runs the same file: `nbgrader db assignment "
        "list` shows the same error)"
    )


@contextlib.contextmanager
def alembic_on_path():
    """nbgrader runs the `alembic` command to stamp a new gradebook; it sits beside our
    Python, maybe not on PATH."""
    saved = os.environ.get("PATH", "")
    if shutil.which("alembic") is None:
        os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), saved])
    try:
        yield
    finally:
        os.environ["PATH"] = saved


def generate(
    name: str, root: Path, database: str | None = None, record: bool = True
) -> Path:
    """Run nbgrader's generate_assignment for `root/source/name` into
    `root/release/name`. With `record`, nbgrader also records the assignment in the
    gradebook at `database` (default: the course's own); without it, as `--no-db`."""
    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory

    config = nbgrader_config(root)
    if not record:
        config.SaveCells.enabled = False
        config.GenerateAssignment.no_database = True
    elif database:
        config.CourseDirectory.db_url = database
    config.BaseConverter.force = True
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = name
    converter = GenerateAssignment(coursedir=coursedir, config=config)
    log = io.StringIO()
    converter.log.handlers = [logging.StreamHandler(log)]
    converter.log.propagate = False
    try:
        with alembic_on_path():
            converter.start()
    # nbgrader logs the cause and raises its own or nbconvert's exception types
    except Exception:
        detail = [line for line in log.getvalue().splitlines() if line.strip()]
        cause = next(
            (
                line
                for line in reversed(detail)
                if ("Error" in line or "Exception" in line) and "see the" not in line
            ),
            detail[-1] if detail else "unknown error",
        )
        raise ReleaseError(
            f"nbgrader could not release '{name}': {cause.strip()}; {_advice(cause)}"
        ) from None
    target = root / coursedir.release_directory / name
    if not target.is_dir():
        raise ReleaseError(f"nbgrader produced no {target}")
    return target


def _advice(cause: str) -> str:
    # nbgrader keeps a graded notebook's cells as they were
    if "submissions associated" in cause:
        return (
            "the gradebook holds submissions graded against the master as it was: put "
            "back the cells that were added or removed, or release it as a new "
            "assignment"
        )
    if "database" in cause.lower() or "sqlite" in cause.lower():
        return (
            "check that the course's gradebook (nbgrader's CourseDirectory.db_url) "
            "can be written"
        )
    return "check the nbgrader metadata of the master's cells"


def release_into(
    assignment: Assignment, scratch_root: Path, database: str | None = None
) -> Path:
    """Generate the release in a scratch copy of the course: to compare with what is
    committed, or, with `database`, to record the master in that gradebook as
    `autograder release` would, release/ untouched."""
    shutil.copytree(assignment.source_dir, scratch_root / "source" / assignment.name)
    if (assignment.root / NBGRADER_CONFIG).is_file():
        shutil.copy(assignment.root / NBGRADER_CONFIG, scratch_root / NBGRADER_CONFIG)
    return generate(
        assignment.name, scratch_root, database, record=database is not None
    )

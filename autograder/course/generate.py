"""nbgrader's own converter, run for a course: the release of an assignment and its record in the gradebook.

The course's `nbgrader_config.py` is read, so what is generated here and what `nbgrader
generate_assignment NAME --force` makes in the course folder are the same files, with the same
assignment, notebook and cells (checksums, points, kernelspec) recorded in the gradebook.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import sys
from pathlib import Path

from ..errors import ReleaseError
from .config import Assignment

NBGRADER_CONFIG = "nbgrader_config.py"


def nbgrader_config(root: Path):
    from traitlets.config import Config, PyFileConfigLoader

    config = Config()
    if (root / NBGRADER_CONFIG).is_file():
        config = PyFileConfigLoader(NBGRADER_CONFIG, path=str(root)).load_config()
    config.CourseDirectory.root = str(root)
    return config


@contextlib.contextmanager
def alembic_on_path():
    """nbgrader runs the `alembic` command to stamp a new gradebook; it sits beside our Python, maybe not on PATH."""
    saved = os.environ.get("PATH", "")
    if shutil.which("alembic") is None:
        os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), saved])
    try:
        yield
    finally:
        os.environ["PATH"] = saved


def generate(name: str, root: Path, database: str | None = None, record: bool = True) -> Path:
    """Run nbgrader's generate_assignment for `root/source/name` into `root/release/name`. With `record`,
    nbgrader also records the assignment in the gradebook at `database` (default: the course's own);
    without it, as `--no-db`."""
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
    except Exception:  # nbgrader logs the cause and raises its own or nbconvert's exception types
        detail = [line for line in log.getvalue().splitlines() if line.strip()]
        cause = next((line for line in reversed(detail) if ("Error" in line or "Exception" in line)
                      and "see the" not in line), detail[-1] if detail else "unknown error")
        raise ReleaseError(f"nbgrader could not release '{name}': {cause.strip()}; {_advice(cause)}") from None
    target = root / coursedir.release_directory / name
    if not target.is_dir():
        raise ReleaseError(f"nbgrader produced no {target}")
    return target


def _advice(cause: str) -> str:
    if "submissions associated" in cause:  # nbgrader keeps a graded notebook's cells as they were
        return ("the gradebook holds submissions graded against the master as it was: put back the cells "
                "that were added or removed, or release it as a new assignment")
    if "database" in cause.lower() or "sqlite" in cause.lower():
        return "check that the course's gradebook (nbgrader's CourseDirectory.db_url) can be written"
    return "check the nbgrader metadata of the master's cells"


def release_into(assignment: Assignment, scratch_root: Path, database: str | None = None) -> Path:
    """Generate the release in a scratch copy of the course: to compare with what is committed, or, with
    `database`, to record the master in that gradebook as `autograder release` would, release/ untouched."""
    shutil.copytree(assignment.source_dir, scratch_root / "source" / assignment.name)
    if (assignment.root / NBGRADER_CONFIG).is_file():
        shutil.copy(assignment.root / NBGRADER_CONFIG, scratch_root / NBGRADER_CONFIG)
    return generate(assignment.name, scratch_root, database, record=database is not None)

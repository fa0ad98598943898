"""Release an assignment to students with nbgrader's own generate_assignment.

The course's `nbgrader_config.py` is read here too, so `autograder release NAME` and
`nbgrader generate_assignment NAME --force` in the course folder produce the same files and record
the same assignment, notebook and cells (with their checksums, points and kernelspec) in the
course's gradebook: nbgrader's own converter does both.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import sys
from pathlib import Path

import nbformat

from .config import Assignment
from .errors import ReleaseError

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


def release(assignment: Assignment) -> Path:
    """Write release/<name>/, record it in the course's gradebook, and check it holds no solution code."""
    target = generate(assignment.name, assignment.root)
    leaked = solution_leaks(assignment, target)
    if leaked:
        shutil.rmtree(target)
        raise ReleaseError(f"the release would contain solution code ({leaked[0]!r}); it was removed. "
                           "Put every solution between ### BEGIN SOLUTION and ### END SOLUTION")
    return target


def release_into(assignment: Assignment, scratch_root: Path, database: str | None = None) -> Path:
    """Generate the release in a scratch copy of the course: to compare with what is committed, or, with
    `database`, to record the master in that gradebook as `autograder release` would, release/ untouched."""
    shutil.copytree(assignment.source_dir, scratch_root / "source" / assignment.name)
    if (assignment.root / NBGRADER_CONFIG).is_file():
        shutil.copy(assignment.root / NBGRADER_CONFIG, scratch_root / NBGRADER_CONFIG)
    return generate(assignment.name, scratch_root, database, record=database is not None)


def normalized(path: Path) -> dict:
    """A notebook without what changes from run to run (outputs, execution counts)."""
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.pop("id", None)
    return dict(notebook)


def secret_lines(assignment: Assignment) -> set[str]:
    """Lines of the solutions, the hidden suite and the master's solution regions that are not public."""
    master = nbformat.read(assignment.master_notebook, as_version=4)
    public, secret = set(), set()
    for cell in master.cells:
        inside = False
        for line in cell.source.splitlines():
            if "### BEGIN SOLUTION" in line or "### END SOLUTION" in line:
                inside = "BEGIN" in line
                continue
            (secret if inside else public).add(line.strip())
    for path in [assignment.reference_file, *assignment.suite_dir.glob("*.py")]:
        if path.is_file():
            secret.update(line.strip() for line in path.read_text().splitlines())
    return {line for line in secret - public if _meaningful(line)}


def _meaningful(line: str) -> bool:
    return len(line) >= 12 and not line.startswith(("#", '"""', "import ", "from ")) and line not in ('"""',)


def solution_leaks(assignment: Assignment, release_dir: Path) -> list[str]:
    secrets = secret_lines(assignment)
    leaks = []
    for path in sorted(release_dir.rglob("*")):
        if path.is_file() and path.suffix in (".ipynb", ".py", ".txt", ".md"):
            text = path.read_text(errors="replace")
            if "BEGIN SOLUTION" in text:
                leaks.append("### BEGIN SOLUTION")
            if path.suffix == ".ipynb":
                lines = {line.strip() for c in nbformat.read(path, as_version=4).cells for line in c.source.splitlines()}
            else:
                lines = {line.strip() for line in text.splitlines()}
            leaks.extend(sorted(lines & secrets))
    return leaks

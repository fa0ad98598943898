"""The submissions under the paths given: files, folders of notebooks, or nbgrader's
submitted/<student>/<assignment>/ tree, each with an id of its own (`names.py`).

Light on purpose: the CLI discovers before it imports the grader, to know whether this
process grades (and so starts its worker at once).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .. import names
from ..errors import UsageError
from ..names import Found
from .config import Assignment

# nbgrader's folder of collected submissions: submitted/<student>/<assignment>/
SUBMITTED = "submitted"


@dataclass(frozen=True)
class Survey:
    found: list[Found]  # what is graded, each with its id
    skipped: list[str]  # why each notebook that is not graded is left out


def discover(assignment: Assignment, paths: Iterable[Path]) -> list[Found]:
    """The submissions under `paths` (files, folders, or nbgrader's
    submitted/<student>/<assignment>/ tree), each with an id of its own. Folders are
    walked without following symbolic links."""
    return survey(assignment, paths).found


def survey(assignment: Assignment, paths: Iterable[Path]) -> Survey:
    """`discover`, and the notebooks left out. In nbgrader's tree only
    submitted/<student>/<assignment>/ <notebook> is a submission, as for nbgrader's
    autograde: a notebook anywhere else under a student's folder (another assignment's,
    or one a student put in a subfolder, whose name could be another student's) is never
    graded as anyone's."""
    found: list[tuple[str, Path]] = []
    skipped: list[str] = []
    for path in map(Path, paths):
        # a link is found, and refused when it is read
        if path.is_file() or path.is_symlink():
            candidates = [path]
        elif path.is_dir():
            candidates = _notebooks(path)
        else:
            raise UsageError(f"no such file or folder: {names.path_text(path)}")
        for notebook in candidates:
            student = student_of(assignment, notebook)
            if student is None:
                skipped.append(
                    f"{names.path_text(notebook)} is not graded: in nbgrader's "
                    "submitted/ folder only "
                    f"submitted/<student>/{assignment.name}/{assignment.notebook} is"
                )
            else:
                found.append((student, notebook))
    return Survey(names.unique(found), skipped)


def _notebooks(folder: Path) -> list[Path]:
    notebooks = []
    # followlinks=False: a linked folder is not the class's
    for parent, folders, files in os.walk(folder):
        folders[:] = [f for f in folders if f != ".ipynb_checkpoints"]
        notebooks += [Path(parent) / f for f in files if f.endswith(".ipynb")]
    return sorted(notebooks)


def student_of(assignment: Assignment, notebook: Path) -> str | None:
    """nbgrader's tree: the <student> of submitted/<student>/<assignment>/<notebook>,
    None for any other notebook under submitted/ (the first folder of that name in the
    path; the course's own when it is there); elsewhere the file's stem."""
    parts = Path(os.path.abspath(notebook)).parts
    anchor = _submitted_folder(assignment, parts)
    if anchor is None:
        return names.student_id(notebook.stem)
    inside = parts[anchor + 1 :]
    if (
        len(inside) == 3
        and inside[1] == assignment.name
        and inside[2] == assignment.notebook
    ):
        return names.student_id(inside[0])
    return None


def _submitted_folder(assignment: Assignment, parts: tuple[str, ...]) -> int | None:
    """The index in `parts` of the submitted/ folder the notebook is in, if any."""
    course = Path(os.path.abspath(assignment.root / SUBMITTED)).parts
    if parts[: len(course)] == course:
        return len(course) - 1
    return next((i for i, part in enumerate(parts[:-1]) if part == SUBMITTED), None)

"""The submissions under the paths given: files, folders of notebooks, or nbgrader's
submitted/<student>/<assignment>/ tree, each with an id of its own (`names.py`).

Light on purpose: the CLI discovers before it imports the grader, to know whether this process
grades (and so starts its worker at once).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from . import names
from .config import Assignment
from .errors import UsageError
from .names import Found


def discover(assignment: Assignment, paths: Iterable[Path]) -> list[Found]:
    """The submissions under `paths` (files, folders, or nbgrader's submitted/<student>/<assignment>/
    tree), each with an id of its own. Folders are walked without following symbolic links."""
    found: list[tuple[str, Path]] = []
    for path in map(Path, paths):
        if path.is_file() or path.is_symlink():  # a link is found, and refused when it is read
            found.append((student_of(assignment, path), path))
        elif path.is_dir():
            found.extend((student_of(assignment, p), p) for p in _notebooks(path))
        else:
            raise UsageError(f"no such file or folder: {names.path_text(path)}")
    return names.unique(found)


def _notebooks(folder: Path) -> list[Path]:
    notebooks = []
    for parent, folders, files in os.walk(folder):  # followlinks=False: a linked folder is not the class's
        folders[:] = [f for f in folders if f != ".ipynb_checkpoints"]
        notebooks += [Path(parent) / f for f in files if f.endswith(".ipynb")]
    return sorted(notebooks)


def student_of(assignment: Assignment, notebook: Path) -> str:
    """nbgrader layout: submitted/<student>/<assignment>/<notebook>.ipynb; otherwise the file's stem."""
    folder = Path(os.path.abspath(notebook)).parent
    if folder.name == assignment.name and folder.parent.parent.name == "submitted":
        return names.student_id(folder.parent.name)
    return names.student_id(notebook.stem)

"""`autograder release NAME`: the student version of an assignment, by nbgrader's own
generate_assignment (`generate.py`), checked to hold no solution code.

`autograder release NAME` and `nbgrader generate_assignment NAME --force` in the course
folder produce the same files and record the same assignment, notebook and cells in the
course's gradebook.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

from ..course.config import Assignment
from ..course.generate import generate
from ..errors import ReleaseError


def release(assignment: Assignment) -> Path:
    """Write release/<name>/, record it in the course's gradebook, and check it holds no
    solution code."""
    target = generate(assignment.name, assignment.root)
    leaked = solution_leaks(assignment, target)
    if leaked:
        shutil.rmtree(target)
        raise ReleaseError(
            f"the release would contain solution code ({leaked[0]!r}); it was removed. "
            "Put every solution between ### BEGIN SOLUTION and ### END SOLUTION"
        )
    return target


def normalized(path: Path) -> dict:
    """A notebook without what changes from run to run (outputs, execution counts)."""
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.pop("id", None)
    return dict(notebook)


def secret_lines(assignment: Assignment) -> set[str]:
    """Lines of the solutions, the hidden suite and the master's solution regions that
    are not public."""
    master = nbformat.read(assignment.master_notebook, as_version=4)
    public: set[str] = set()
    secret: set[str] = set()
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
    return (
        len(line) >= 12
        and not line.startswith(("#", '"""', "import ", "from "))
        and line not in ('"""',)
    )


def solution_leaks(assignment: Assignment, release_dir: Path) -> list[str]:
    secrets = secret_lines(assignment)
    leaks = []
    for path in sorted(release_dir.rglob("*")):
        if path.is_file() and path.suffix in (".ipynb", ".py", ".txt", ".md"):
            text = path.read_text(errors="replace")
            if "BEGIN SOLUTION" in text:
                leaks.append("### BEGIN SOLUTION")
            if path.suffix == ".ipynb":
                lines = {
                    line.strip()
                    for c in nbformat.read(path, as_version=4).cells
                    for line in c.source.splitlines()
                }
            else:
                lines = {line.strip() for line in text.splitlines()}
            leaks.extend(sorted(lines & secrets))
    return leaks

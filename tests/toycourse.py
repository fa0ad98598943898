"""A tiny self-contained course built in a temporary folder: one assignment, `toy`, one function, `square`.

    assignments/toy/assignment.toml   short limits so timeout tests stay fast
    assignments/toy/test_square.py    the hidden suite (or the one a test passes in)
    solutions/toy.py                  the reference
    source/toy/toy.ipynb              the master, with nbgrader metadata
    release/toy/toy.ipynb             the stub students get (written here, or by nbgrader via `release`)
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import textwrap
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

NAME = "toy"

TOML = """\
[assignment]
notebook = "toy.ipynb"
reference = "toy"

[parts]
square = 3

[limits]
timeout = 20
cell_timeout = 2
call_timeout = 2
"""

PROVIDED = "import numpy as np\nSIDE = 3.0"

ANSWER = '''\
def square(x):
    """x squared, elementwise."""
    ### BEGIN SOLUTION
    return np.asarray(x, dtype=float) ** 2
    ### END SOLUTION'''

CHECK = "assert square(SIDE) == 9.0\nprint('square looks right')"

REFERENCE = '''\
"""Reference solution of the toy assignment."""

import numpy as np


def square(x):
    return np.asarray(x, dtype=float) ** 2
'''

# One test worth 1 point by its marker; the other gets the rest of the part's 3 points.
SUITE = '''\
import numpy as np
import pytest

from autograder.authoring import call_text


@pytest.mark.points(1)
def test_number(student, reference, check):
    """square of a single number"""
    check.close(student.square(3.0), reference.square(3.0), "square(3.0)")


def test_array(student, reference, check):
    """square of an array"""
    x = np.array([1.0, -2.0, 0.5])
    check.close(student.square(x), reference.square(x), call_text("square", x))
'''

# The stub nbgrader's ClearSolutions writes in place of a solution region.
STUB = "    # YOUR CODE HERE\n    raise NotImplementedError()"
SOLUTION_REGION = re.compile(r"    ### BEGIN SOLUTION\n.*?### END SOLUTION", re.S)


def _nbgrader(grade_id: str, *, solution: bool = False, grade: bool = False, locked: bool = False,
              points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def notebook(cells: list) -> nbformat.NotebookNode:
    nb = new_notebook(cells=cells)
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                   "language_info": {"name": "python"}}
    return nb


def master_notebook(answer_source: str = ANSWER) -> nbformat.NotebookNode:
    return notebook([
        new_markdown_cell("# Squares\n\nWrite `square`.", metadata=_nbgrader("intro", locked=True)),
        new_code_cell(PROVIDED, metadata=_nbgrader("provided", locked=True)),
        new_code_cell(answer_source, metadata=_nbgrader("square", solution=True)),
        new_code_cell(CHECK, metadata=_nbgrader("test_square", grade=True, locked=True, points=0)),
    ])


def stub_of(notebook_node: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """What nbgrader's ClearSolutions makes of the master (written directly: no nbgrader run)."""
    stub = nbformat.from_dict(notebook_node)
    for cell in stub.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = SOLUTION_REGION.sub(STUB, cell.source)
    return stub


class Course:
    """Paths of a toy course and helpers to write submissions into it."""

    def __init__(self, root: Path):
        self.root = root
        self.name = NAME
        self.suite_dir = root / "assignments" / NAME
        self.toml = self.suite_dir / "assignment.toml"
        self.master = root / "source" / NAME / "toy.ipynb"
        self.release = root / "release" / NAME / "toy.ipynb"
        self.submissions = root / "submissions"

    def assignment(self):
        from autograder.course.config import load_assignment

        return load_assignment(NAME, self.root)

    def student_notebook(self, name: str, sources: list[str], folder: Path | None = None) -> Path:
        """A student's notebook with one code cell per source (no nbgrader metadata)."""
        return self.write(name, notebook([new_code_cell(s) for s in sources]), folder)

    def write(self, name: str, nb: nbformat.NotebookNode, folder: Path | None = None) -> Path:
        path = (folder or self.submissions) / f"{name}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
        return path

    def master_node(self) -> nbformat.NotebookNode:
        return nbformat.read(self.master, as_version=4)

    def released_with(self, name: str, answer: str, folder: Path | None = None) -> Path:
        """The released notebook with the answer cell replaced by `answer`, as a student would submit it."""
        return self.write(name, self.answered(answer), folder)

    def answered(self, answer: str, extra: list[str] | tuple[str, ...] = ()) -> nbformat.NotebookNode:
        """The released notebook with `answer` in the answer cell and a code cell of the student's own
        after it for each of `extra`."""
        nb = nbformat.read(self.release, as_version=4)
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == "square":
                cell.source = answer
        nb.cells += [new_code_cell(source) for source in extra]
        return nb


def make_course(tmp_path: Path, answer_source: str = ANSWER, suite: str | dict[str, str] = SUITE,
                toml_extra: str = "", toml: str = TOML, reference: str = REFERENCE,
                release: bool = False) -> Course:
    """Write the toy course under `tmp_path`; `release=True` generates release/ with the real nbgrader."""
    course = Course(Path(tmp_path))
    course.suite_dir.mkdir(parents=True)
    course.toml.write_text(toml + toml_extra)
    suites = {"test_square.py": suite} if isinstance(suite, str) else suite
    for filename, text in suites.items():
        (course.suite_dir / filename).write_text(textwrap.dedent(text))
    (course.root / "solutions").mkdir()
    (course.root / "solutions" / "toy.py").write_text(reference)
    course.master.parent.mkdir(parents=True)
    master = master_notebook(answer_source)
    nbformat.write(master, course.master)
    if release:
        from autograder.verbs.release import release as nbgrader_release

        nbgrader_release(course.assignment())
    else:
        course.release.parent.mkdir(parents=True)
        nbformat.write(stub_of(master), course.release)
    return course


@contextlib.contextmanager
def notebook_runner(worker, limits):
    """run(sources, skip=(), display=False, **limit_changes) -> a StudentSession on `worker` whose notebook
    has run; every session is closed on exit."""
    from autograder.running.session import StudentSession

    sessions = []

    def run(sources, skip=(), display=False, **limit_changes):
        session = StudentSession(worker, wire(sources, skip), dataclasses.replace(limits, **limit_changes),
                                 display=display)
        sessions.append(session)
        session.run_notebook()
        return session

    try:
        yield run
    finally:
        for session in sessions:
            session.close()


def wire(sources: list[str], skip: tuple[int, ...] = ()) -> list[dict]:
    """Cells as `StudentSession` sends them to the worker, numbered from 1."""
    return [{"number": n, "source": s, "skip": n in skip} for n, s in enumerate(sources, start=1)]

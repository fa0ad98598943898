"""`autograder new NAME`: a new assignment that releases and validates straight away.

It writes the four files an assignment is made of, each a small working example to
replace with the real exercise (docs/AUTHORING.md describes the loop):

    source/NAME/NAME.ipynb            the master: nbgrader metadata, one answer cell,
                                      its check
    solutions/NAME_AS_MODULE.py       the reference solutions (trusted, never released)
    assignments/NAME/assignment.toml  parts, points, limits, tolerances
    assignments/NAME/test_double.py   the first hidden test file (one part)
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from ..course.config import CONFIG_NAME
from ..errors import StorageError, UsageError
from ..names import assignment_name

NAME_PATTERN = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
# the example answer; its part, test file and check cell are named after it
FUNCTION = "double"

ANSWER = f'''\
def {FUNCTION}(x):
    """Twice x: a number gives a number, an array an array of the same shape."""
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION'''

CHECK = f"""\
assert {FUNCTION}(3) == 6, "{FUNCTION}(3) should be 6"
assert np.array_equal({FUNCTION}(np.array([1.0, -2.5])), [2.0, -5.0]), (
    "{FUNCTION} works elementwise on arrays"
)
print("{FUNCTION} checks passed")"""

REFERENCE = f'''\
"""Reference solutions for {{name}}: trusted code the grader imports; students never
see it.

Each answer function, markers included, is the answer cell of the same name in the
master notebook source/{{name}}/{{name}}.ipynb.
"""

import numpy as np  # noqa: F401  (the master's provided cell imports it too)


{ANSWER}
'''

SUITE = f'''\
"""Hidden tests of `{FUNCTION}(x)`. Each test compares the student's function, called
in the worker, with the reference; `check.close`'s message is the feedback the student
reads."""

import numpy as np
import pytest

from autograder.authoring import call_text


# a public check: `autograder check` runs it for students before they submit
@pytest.mark.visible
def test_number(student, reference, check):
    """{FUNCTION} of a number"""
    check.close(student.{FUNCTION}(3.5), reference.{FUNCTION}(3.5), "{FUNCTION}(3.5)")


def test_array(student, reference, check):
    """{FUNCTION} of a 2-D array keeps its shape"""
    x = np.array([[1.0, -2.0], [0.25, 0.0]])
    check.close(
        student.{FUNCTION}(x), reference.{FUNCTION}(x), call_text("{FUNCTION}", x)
    )
'''

TOML = f"""\
# Grading of the {{name}} notebook. Hidden tests: test_<part>.py in this folder
# (docs/AUTHORING.md).

[assignment]
notebook = "{{name}}.ipynb"   # in source/{{name}}/ and release/{{name}}/
reference = "{{module}}"       # solutions/{{module}}.py

[parts]  # points per part, in report order; tests in test_<part>.py
{FUNCTION} = 1

[functions]
# The functions students write. In the tests of a part named like one, those its
# reference calls are the reference's (through the grader): each function scores on its
# own. List them all.
graded = ["{FUNCTION}"]

[limits]
timeout = 60         # seconds for the notebook's cells
part_timeout = 60    # seconds for the calls of one part's tests
cell_timeout = 30    # seconds for one notebook cell
call_timeout = 10    # seconds for one call of a student function

[tolerance]  # np.isclose tolerances for every numeric comparison
rtol = 1e-6
atol = 1e-8

[execution]
# grade_ids of cells the grader does not run (a long run the suite does itself)
skip_cells = []

[suite]  # free settings handed to the hidden tests as the `settings` fixture
"""


def module_name(name: str) -> str:
    return name.replace("-", "_")


def planned_files(name: str, root: Path) -> dict[Path, str]:
    """Path -> text of every file `new` writes (the master as notebook JSON)."""
    module = module_name(name)
    suite = root / "assignments" / name
    return {
        root / "source" / name / f"{name}.ipynb": nbformat.writes(master_notebook(name))
        + "\n",
        root / "solutions" / f"{module}.py": REFERENCE.format(name=name),
        suite / CONFIG_NAME: TOML.format(name=name, module=module),
        suite / f"test_{FUNCTION}.py": SUITE,
    }


def master_notebook(name: str) -> nbformat.NotebookNode:
    cells = [
        new_markdown_cell(
            f"# {name}\n\nOne exercise to start from: write `{FUNCTION}`. Replace this "
            "text, the function and its check with your own exercise.",
            metadata=_nbgrader("title"),
        ),
        new_code_cell("import numpy as np", metadata=_nbgrader("setup")),
        new_code_cell(
            ANSWER, metadata=_nbgrader(FUNCTION, solution=True, locked=False)
        ),
        new_code_cell(
            CHECK, metadata=_nbgrader(f"test_{FUNCTION}", grade=True, points=1)
        ),
    ]
    for cell in cells:
        cell.id = cell.metadata["nbgrader"]["grade_id"]
    notebook = new_notebook(cells=cells)
    notebook.metadata = {
        # how `autograder check` finds the assignment of a submission
        "autograder": {"assignment": name},
        "kernelspec": {
            "display_name": "Python 3",
            "language": "python",
            "name": "python3",
        },
        "language_info": {"name": "python"},
    }
    return notebook


def _nbgrader(
    grade_id: str,
    solution: bool = False,
    grade: bool = False,
    locked: bool = True,
    points: float | None = None,
) -> dict:
    metadata = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
    }
    if points is not None:
        metadata["points"] = points
    return {"nbgrader": metadata}


def create_assignment(name: str, root: Path) -> list[Path]:
    """Write a new assignment's files under the course `root`, all of them or none;
    refuse to touch an existing one."""
    if not NAME_PATTERN.fullmatch(name):
        raise UsageError(
            f"'{name}' is not a usable assignment name: use lowercase letters, digits "
            "and single hyphens, starting with a letter (e.g. 'linear-regression')"
        )
    # and the rule every assignment name from outside follows (names.py)
    assignment_name(name)
    files = planned_files(name, root)
    existing = [
        path
        for path in [
            root / "assignments" / name,
            root / "source" / name,
            root / "release" / name,
            root / "solutions" / f"{module_name(name)}.py",
        ]
        if path.exists()
    ]
    if existing:
        shown = ", ".join(str(path.relative_to(root)) for path in existing)
        raise UsageError(
            f"assignment '{name}' already exists ({shown}); nothing was written. "
            "Choose another name, or delete those files first to start over"
        )
    _write_all(files)
    return list(files)


def _write_all(files: dict[Path, str]) -> None:
    """Write every file; when the disk refuses one, remove those written and the folders
    made, and say so."""
    made: list[Path] = []  # in the order made: folders, then the file in them
    try:
        for path, text in files.items():
            missing = [
                folder
                for folder in [path.parent, *path.parent.parents]
                if not folder.exists()
            ]
            for folder in reversed(missing):
                folder.mkdir()
                made.append(folder)
            made.append(path)
            path.write_text(text)
    except OSError as error:
        for made_path in reversed(made):
            with contextlib.suppress(OSError):
                if made_path.is_dir():
                    made_path.rmdir()
                else:
                    made_path.unlink(missing_ok=True)
        raise StorageError(
            path,
            error,
            "nothing of the new assignment was kept: free some space, then run "
            "`autograder new` again",
        ) from None

"""Releasing with the real nbgrader: the committed student-admissions release is what the master
generates, holds no solution, and every stub raises NotImplementedError; the toy course's stubs."""

from __future__ import annotations

import inspect

import nbformat
import numpy as np
import pytest

from autograder.course.config import load_assignment
from autograder.errors import ReleaseError
from autograder.course.generate import release_into
from autograder.verbs.release import normalized, release, secret_lines, solution_leaks
from conftest import REPO
from toycourse import make_course, master_notebook, stub_of

ANSWERS = ["sigmoid", "sigmoid_prime", "error_term", "update_weights"]
COMMITTED = REPO / "release" / "student-admissions"


@pytest.fixture(scope="module")
def assignment():
    if not COMMITTED.is_dir():
        pytest.skip(f"{COMMITTED} does not exist yet; run `autograder release student-admissions`")
    return load_assignment("student-admissions", REPO)


@pytest.fixture(scope="module")
def released(assignment):
    return nbformat.read(assignment.release_notebook, as_version=4)


def grade_id(cell) -> str:
    return cell.metadata.get("nbgrader", {}).get("grade_id", "")


def answer_cells(notebook):
    return [cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("solution")]


def test_the_committed_release_is_what_nbgrader_generates(assignment, tmp_path):
    fresh = release_into(assignment, tmp_path)
    committed_files = sorted(p.relative_to(COMMITTED) for p in COMMITTED.rglob("*") if p.is_file())
    fresh_files = sorted(p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file())
    assert fresh_files == committed_files
    for name in committed_files:
        if name.suffix == ".ipynb":
            assert normalized(fresh / name) == normalized(COMMITTED / name), name
        else:
            assert (fresh / name).read_bytes() == (COMMITTED / name).read_bytes(), name


def test_the_committed_release_leaks_no_solution(assignment):
    assert secret_lines(assignment)  # the check has something to look for
    assert solution_leaks(assignment, COMMITTED) == []


def test_the_released_notebook_is_valid_nbformat_4(released):
    nbformat.validate(released)
    assert released.nbformat == 4


def test_exactly_four_answer_cells(released):
    assert [grade_id(cell) for cell in answer_cells(released)] == ANSWERS


def test_every_stub_raises_not_implemented(released):
    namespace: dict = {"np": np}
    for cell in answer_cells(released):
        exec(compile(cell.source, grade_id(cell), "exec"), namespace)
    for name in ANSWERS:
        function = namespace[name]
        arguments = [np.zeros(3)] * len(inspect.signature(function).parameters)
        with pytest.raises(NotImplementedError):
            function(*arguments)


# -- the toy course through nbgrader ---------------------------------------------------------------


def test_the_toy_stub_written_directly_matches_nbgrader(tmp_path):
    course = make_course(tmp_path, release=True)
    generated = nbformat.read(course.release, as_version=4)
    assert [c.source for c in generated.cells] == [c.source for c in stub_of(master_notebook()).cells]
    assert solution_leaks(course.assignment(), course.release.parent) == []


def test_a_solution_copied_into_the_source_folder_stops_the_release(tmp_path):
    course = make_course(tmp_path)
    (course.master.parent / "hints.py").write_text("def square(x):\n    return np.asarray(x, dtype=float) ** 2\n")
    with pytest.raises(ReleaseError, match=r"would contain solution code .*return np.asarray\(x, dtype=float\) \*\* 2"):
        release(course.assignment())
    assert not course.release.parent.exists()  # nothing half-released is left behind


def test_a_master_nbgrader_cannot_read_is_a_release_error(tmp_path):
    course = make_course(tmp_path)
    broken = nbformat.read(course.master, as_version=4)
    broken.cells[2].source = "def square(x):\n    ### BEGIN SOLUTION\n    return x * x\n"  # no END SOLUTION
    nbformat.write(broken, course.master)
    with pytest.raises(ReleaseError, match="nbgrader could not release 'toy'"):
        release(course.assignment())

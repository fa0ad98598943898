"""The master notebook of gradient-descent: structure, agreement with the reference, the committed
release, and a run from top to bottom."""

from __future__ import annotations

import ast
import inspect

import nbformat
import pytest
from nbclient import NotebookClient

from autograder.course.config import load_assignment
from autograder.course.generate import release_into
from autograder.verbs.release import normalized
from conftest import REPO, load_solutions

ref = load_solutions("gradient_descent")
NAME = "gradient-descent"
SOURCE_DIR = REPO / "source" / NAME
MASTER = SOURCE_DIR / f"{NAME}.ipynb"
ANSWERS = ["sigmoid", "output_formula", "error_formula", "update_weights"]


@pytest.fixture(scope="module")
def master():
    return nbformat.read(MASTER, as_version=4)


@pytest.fixture(scope="module")
def assignment():
    return load_assignment(NAME, REPO)


def grade_id(cell) -> str:
    return cell.metadata["nbgrader"]["grade_id"]


def cell_by_id(notebook, wanted: str):
    return next(cell for cell in notebook.cells if grade_id(cell) == wanted)


def test_master_is_stored_clean_and_names_its_assignment(master):
    nbformat.validate(master)
    assert master.metadata.kernelspec.name == "python3"
    assert master.metadata.autograder == {"assignment": NAME}
    for cell in master.cells:
        assert cell.metadata["nbgrader"]["schema_version"] == 3
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, grade_id(cell)
    ids = [grade_id(cell) for cell in master.cells]
    assert len(ids) == len(set(ids))


def test_answer_cells_are_the_reference_functions(master):
    solution_cells = [cell for cell in master.cells if cell.metadata["nbgrader"]["solution"]]
    assert [grade_id(cell) for cell in solution_cells] == ANSWERS
    for cell in solution_cells:
        assert cell.metadata["nbgrader"] == {"grade": False, "solution": True, "locked": False,
                                             "grade_id": grade_id(cell), "schema_version": 3}
        (definition,) = ast.parse(cell.source).body
        assert isinstance(definition, ast.FunctionDef) and definition.name == grade_id(cell)
        assert "### BEGIN SOLUTION" in cell.source
        assert cell.source == inspect.getsource(getattr(ref, grade_id(cell))).strip()


def test_every_answer_is_followed_by_its_locked_check(master, assignment):
    ids = [grade_id(cell) for cell in master.cells]
    for name in ANSWERS:
        assert ids[ids.index(name) + 1] == f"test_{name}"
    graded = {grade_id(cell): cell.metadata["nbgrader"] for cell in master.cells if cell.metadata["nbgrader"]["grade"]}
    assert sorted(graded) == sorted([f"test_{name}" for name in ANSWERS] + ["test_training"])
    for name, metadata in graded.items():
        part = name.removeprefix("test_")
        assert metadata == {"grade": True, "solution": False, "locked": True, "grade_id": name,
                            "points": assignment.parts[part], "schema_version": 3}
    others = [cell for cell in master.cells if grade_id(cell) not in ANSWERS]
    assert all(cell.metadata["nbgrader"]["locked"] for cell in others)


def test_cells_the_grader_skips_exist_and_nothing_graded_needs_them(master, assignment):
    ids = [grade_id(cell) for cell in master.cells]
    assert set(assignment.skip_cells) <= set(ids)
    first_skipped = min(ids.index(name) for name in assignment.skip_cells)
    later_code = {grade_id(cell) for cell in master.cells[first_skipped:] if cell.cell_type == "code"}
    assert later_code == set(assignment.skip_cells)


def test_train_cell_is_the_reference_procedure(master):
    assert cell_by_id(master, "train").source == inspect.getsource(ref.train).strip()


def test_release_is_in_sync_with_the_master(assignment, tmp_path):
    fresh = release_into(assignment, tmp_path)
    committed = assignment.release_dir
    assert sorted(p.name for p in fresh.iterdir()) == sorted(p.name for p in committed.iterdir())
    assert normalized(fresh / assignment.notebook) == normalized(committed / assignment.notebook)
    assert (fresh / "data.csv").read_bytes() == (committed / "data.csv").read_bytes()


@pytest.mark.slow
def test_master_runs_top_to_bottom(master):
    notebook = nbformat.from_dict(master)
    NotebookClient(notebook, kernel_name="python3", timeout=120,
                   resources={"metadata": {"path": str(SOURCE_DIR)}}).execute()
    printed = {grade_id(cell): "".join(o.get("text", "") for o in cell.outputs) for cell in notebook.cells
               if cell.cell_type == "code"}
    for name in ANSWERS + ["training"]:
        assert f"{name} checks passed" in printed[f"test_{name}"]
    assert "epoch 100" in printed["run_training"]
    figures = [cell for cell in notebook.cells if any("image/png" in o.get("data", {}) for o in cell.get("outputs", []))]
    assert [grade_id(cell) for cell in figures] == ["plot_helpers", "plot_boundaries", "plot_loss"]

"""The master notebook of student-admissions: structure, agreement with the reference, execution."""

from __future__ import annotations

import ast
import inspect

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient
from nbgrader.preprocessors import ClearSolutions

from conftest import REPO, load_solutions

ref = load_solutions("student_admissions")
ASSIGNMENT_DIR = REPO / "source" / "student-admissions"
MASTER = ASSIGNMENT_DIR / "student-admissions.ipynb"
ANSWERS = ["sigmoid", "sigmoid_prime", "error_term", "update_weights"]
# The grader trains once itself and skips these cells; nothing else may depend on them.
GRADER_SKIPS = {"run_training", "plot_loss", "test_accuracy", "test_training"}


@pytest.fixture(scope="module")
def master():
    return nbformat.read(MASTER, as_version=4)


def grade_id(cell) -> str:
    return cell.metadata["nbgrader"]["grade_id"]


def cell_by_id(notebook, wanted: str):
    return next(cell for cell in notebook.cells if grade_id(cell) == wanted)


def execute(notebook):
    client = NotebookClient(notebook, kernel_name="python3", timeout=120,
                            resources={"metadata": {"path": str(ASSIGNMENT_DIR)}})
    return client.execute()


def test_master_is_stored_clean(master):
    nbformat.validate(master)
    assert master.metadata.kernelspec.name == "python3"
    for cell in master.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, grade_id(cell)


def test_every_cell_has_a_unique_grade_id(master):
    ids = [grade_id(cell) for cell in master.cells]
    assert len(ids) == len(set(ids))
    for cell in master.cells:
        assert cell.metadata["nbgrader"]["schema_version"] == 3


def test_answer_cells_are_the_four_functions(master):
    solution_cells = [cell for cell in master.cells if cell.metadata["nbgrader"]["solution"]]
    assert [grade_id(cell) for cell in solution_cells] == ANSWERS
    assert [grade_id(cell) for cell in master.cells if "### BEGIN SOLUTION" in cell.source] == ANSWERS
    for cell in solution_cells:
        assert cell.metadata["nbgrader"] == {"grade": False, "solution": True, "locked": False,
                                             "grade_id": grade_id(cell), "schema_version": 3}
        (definition,) = ast.parse(cell.source).body
        assert isinstance(definition, ast.FunctionDef) and definition.name == grade_id(cell)
        assert cell.source == inspect.getsource(getattr(ref, grade_id(cell))).strip()


def test_every_answer_is_followed_by_its_check(master):
    ids = [grade_id(cell) for cell in master.cells]
    for name in ANSWERS:
        assert ids[ids.index(name) + 1] == f"test_{name}"
    graded = {grade_id(cell): cell.metadata["nbgrader"] for cell in master.cells
              if cell.metadata["nbgrader"]["grade"]}
    assert sorted(graded) == sorted([f"test_{name}" for name in ANSWERS] + ["test_training"])
    for name, metadata in graded.items():
        points = 4 if name == "test_training" else 2
        assert metadata == {"grade": True, "solution": False, "locked": True, "grade_id": name,
                            "points": points, "schema_version": 3}


def test_cells_the_grader_skips_come_last(master):
    ids = [grade_id(cell) for cell in master.cells]
    first_skipped = min(ids.index(name) for name in GRADER_SKIPS)
    assert {grade_id(cell) for cell in master.cells[first_skipped:] if cell.cell_type == "code"} == GRADER_SKIPS
    assert ids[-1] == "test_training"
    other_cells = [cell for cell in master.cells if grade_id(cell) not in GRADER_SKIPS | set(ANSWERS)]
    assert all(cell.metadata["nbgrader"]["locked"] for cell in other_cells)


def test_train_network_cell_is_the_reference_procedure(master):
    namespace = {"np": np, "sigmoid": ref.sigmoid, "error_term": ref.error_term,
                 "update_weights": ref.update_weights}
    exec(cell_by_id(master, "train_network").source, namespace)
    rng = np.random.default_rng(0)
    features, targets = rng.random((12, 6)), rng.integers(0, 2, 12).astype(float)
    expected = ref.train_network(features, targets, epochs=20, learnrate=0.3, seed=3)
    actual = namespace["train_network"](features, targets, epochs=20, learnrate=0.3, seed=3)
    np.testing.assert_allclose(actual[0], expected[0], rtol=1e-12)
    np.testing.assert_allclose(actual[1], expected[1], rtol=1e-12)


@pytest.mark.slow
def test_master_runs_top_to_bottom(master):
    executed = execute(nbformat.from_dict(master))
    outputs = "".join(output.get("text", "") for output in cell_by_id(executed, "test_training").outputs)
    assert "training checks passed" in outputs


@pytest.mark.slow
def test_release_version_runs_without_the_skipped_cells(master, tmp_path):
    # Student version: solutions replaced by `raise NotImplementedError()`. Without the checks and
    # the cells the grader skips, it must still run, and prepare exactly the reference arrays.
    release, _ = ClearSolutions().preprocess(nbformat.from_dict(master), {})
    release.cells = [cell for cell in release.cells
                     if grade_id(cell) not in GRADER_SKIPS and not cell.metadata["nbgrader"]["grade"]]
    saved = tmp_path / "prepared.npz"
    release.cells.append(nbformat.v4.new_code_cell(
        f"np.savez({str(saved)!r}, features=features, targets=targets, "
        "features_test=features_test, targets_test=targets_test)"))
    execute(release)
    expected = ref.prepare_data(ref.load_data(ASSIGNMENT_DIR / "student_data.csv"))
    with np.load(saved) as prepared:
        for name, array in zip(["features", "targets", "features_test", "targets_test"], expected):
            np.testing.assert_array_equal(prepared[name], array, err_msg=name)
            assert prepared[name].dtype == np.float64

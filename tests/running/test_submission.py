"""Submitted notebooks: read-only cells put back from the master, hostile nbgrader metadata, numbering."""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell

from autograder.running.submission import PUT_BACK, grade_id, load_submission, locked_cells
from toycourse import ANSWER, CHECK, PROVIDED, make_course, notebook


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return make_course(tmp_path_factory.mktemp("course"))


@pytest.fixture(scope="module")
def master(course):
    return course.master_node()


def released(course) -> nbformat.NotebookNode:
    return nbformat.read(course.release, as_version=4)


def cell_by_id(nb, wanted):
    return next(c for c in nb.cells if grade_id(c) == wanted)


# -- read-only cells -------------------------------------------------------------------------------


def load(course, master, nb, skip=()):
    path = course.write("student", nb, folder=course.root / "subs")
    return load_submission("ada", path, master, 20.0, skip)


def test_locked_cells_are_the_masters_locked_ones(master):
    assert set(locked_cells(master)) == {"intro", "provided", "test_square"}


def test_an_untouched_release_needs_no_notes(course, master):
    submission = load(course, master, released(course))
    assert submission.student == "ada" and submission.notes == []
    assert [(c.number, c.grade_id) for c in submission.cells] == [(2, "provided"), (3, "square"), (4, "test_square")]
    assert [c.source for c in submission.cells][0] == PROVIDED


def test_a_changed_read_only_cell_is_restored(course, master):
    nb = released(course)
    cell_by_id(nb, "provided").source = "import numpy as np\nSIDE = 4.0"
    cell_by_id(nb, "test_square").source = "pass  # trust me"
    submission = load(course, master, nb)
    by_id = {c.grade_id: c for c in submission.cells}
    assert by_id["provided"].source == PROVIDED and by_id["test_square"].source == CHECK
    assert submission.notes == ["read-only cell 'provided' was changed; the original was used",
                                "read-only cell 'test_square' was changed; the original was used"]


def test_the_answer_cell_is_the_students(course, master):
    nb = released(course)
    cell_by_id(nb, "square").source = "def square(x):\n    return x * x"
    submission = load(course, master, nb)
    assert next(c for c in submission.cells if c.grade_id == "square").source == "def square(x):\n    return x * x"
    assert submission.notes == []


def test_a_deleted_read_only_cell_is_put_back_in_place(course, master):
    nb = released(course)
    nb.cells = [c for c in nb.cells if grade_id(c) != "test_square"]
    submission = load(course, master, nb)
    assert [c.grade_id for c in submission.cells] == ["provided", "square", "test_square"]
    assert submission.cells[-1].source == CHECK
    assert submission.notes == ["read-only cell 'test_square' was missing; the original was put back"]
    # the student's cells keep their numbers; the one put back has none in their file
    assert [c.number for c in submission.cells][:2] == [2, 3]
    assert submission.cells[-1].number >= PUT_BACK


def test_a_deleted_provided_cell_goes_back_before_the_answer(course, master):
    nb = released(course)
    nb.cells = [c for c in nb.cells if grade_id(c) not in ("intro", "provided")]
    submission = load(course, master, nb)
    assert [c.grade_id for c in submission.cells] == ["provided", "square", "test_square"]
    assert submission.cells[0].source == PROVIDED


def test_deleted_markdown_is_not_put_back(course, master):
    nb = released(course)
    nb.cells = [c for c in nb.cells if grade_id(c) != "intro"]
    submission = load(course, master, nb)
    assert submission.notes == [] and len(submission.cells) == 3


def test_a_read_only_cell_retyped_to_markdown_is_restored_as_code(course, master):
    nb = released(course)
    index = next(i for i, c in enumerate(nb.cells) if grade_id(c) == "provided")
    old = nb.cells[index]
    nb.cells[index] = new_markdown_cell(old.source, metadata=old.metadata)
    submission = load(course, master, nb)
    provided = next(c for c in submission.cells if c.grade_id == "provided")
    assert provided.source == PROVIDED and provided.number == index + 1
    assert submission.notes == ["read-only cell 'provided' was changed; the original was used"]


def test_a_duplicated_read_only_cell_runs_once(course, master):
    nb = released(course)
    nb.cells.append(nbformat.from_dict(dict(cell_by_id(nb, "test_square"), id="copy")))
    submission = load(course, master, nb)
    assert [c.grade_id for c in submission.cells].count("test_square") == 1


def test_skip_cells_are_marked_not_removed(course, master):
    submission = load(course, master, released(course), skip=("test_square",))
    assert [(c.grade_id, c.skip) for c in submission.cells] == [("provided", False), ("square", False),
                                                                ("test_square", True)]
    assert submission.cells[-1].to_wire() == {"number": 4, "source": CHECK, "skip": True}


def test_cells_are_numbered_as_in_the_submission(course, master):
    nb = released(course)
    nb.cells.insert(0, new_markdown_cell("My notes"))
    nb.cells.insert(3, new_code_cell("scratch = 1"))
    nb.cells.append(new_code_cell("print(square(2))"))
    submission = load(course, master, nb)
    # markdown counts too: cell N is the N-th cell the student sees
    assert [(c.number, c.grade_id or c.source) for c in submission.cells] == [
        (3, "provided"), (4, "scratch = 1"), (5, "square"), (6, "test_square"), (7, "print(square(2))")]


@pytest.mark.parametrize("nbgrader", ["provided", ["provided"], None, 3, {"grade_id": 5, "locked": True},
                                      {"grade_id": ["provided"]}, {"grade_id": {"provided": 1}}, {"grade_id": None}],
                         ids=["text", "list", "null", "number", "id-number", "id-list", "id-object", "id-null"])
def test_hostile_nbgrader_metadata_counts_as_none(course, master, nbgrader):
    nb = released(course)
    cell_by_id(nb, "provided").metadata["nbgrader"] = nbgrader
    submission = load(course, master, nb)
    # the cell lost its grade_id: it runs as the student's, and the master's is put back where it was
    assert [c.grade_id for c in submission.cells] == ["provided", "", "square", "test_square"]
    assert submission.notes == ["read-only cell 'provided' was missing; the original was put back"]


def test_a_notebook_without_nbgrader_metadata_runs_as_submitted(course, master):
    nb = notebook([new_code_cell("import numpy as np"), new_code_cell(ANSWER)])
    submission = load(course, master, nb)
    # nothing anchors the master's cells (checks would run before the answers): the cells run as they are
    assert [(c.number, c.source) for c in submission.cells] == [(1, "import numpy as np"), (2, ANSWER)]
    assert submission.notes == ["the notebook has no nbgrader cell metadata; its cells ran as submitted"]

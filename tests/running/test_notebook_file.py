"""Submitted notebook files read as hostile input: every shape of bytes is a notebook or an invalid submission."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell

from autograder.errors import ExitCode, InvalidSubmission
from autograder.names import path_text
from autograder.running.notebook_file import read_notebook
from autograder.running.submission import load_submission
from hostile_notebooks import good_json, hostile, nested
from toycourse import make_course, notebook


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return make_course(tmp_path_factory.mktemp("course"))


@pytest.fixture(scope="module")
def master(course):
    return course.master_node()


def invalid(path, max_mb: float = 20.0) -> str:
    with pytest.raises(InvalidSubmission) as caught:
        read_notebook(path, max_mb)
    assert caught.value.exit_code == ExitCode.FAILED
    message = str(caught.value)
    assert path_text(path.name) in message
    return message


# -- files that cannot be graded -------------------------------------------------------------------


def test_not_json(tmp_path):
    path = tmp_path / "essay.ipynb"
    path.write_text("Dear grader, my notebook is below.\n")
    assert "not a notebook: invalid JSON at line 1" in invalid(path)


def test_truncated_json(tmp_path):
    path = tmp_path / "cut.ipynb"
    text = nbformat.writes(notebook([new_code_cell("x = 1"), new_code_cell("y = 2")]))
    path.write_text(text[: len(text) // 2])
    assert "truncated" in invalid(path)


def test_nbformat_3(tmp_path):
    path = tmp_path / "old.ipynb"
    data = good_json()
    data["nbformat"], data["nbformat_minor"] = 3, 0
    path.write_text(json.dumps(data))
    message = invalid(path)
    assert "notebook format 3" in message and "format 4" in message


@pytest.mark.parametrize("data", [{"nbformat": 4, "metadata": {}}, {"nbformat": 4, "cells": "x = 1"}, [1, 2]],
                         ids=["no-cells", "cells-not-a-list", "not-an-object"])
def test_missing_cells(tmp_path, data):
    path = tmp_path / "empty.ipynb"
    path.write_text(json.dumps(data))
    assert "not a Jupyter notebook (no list of cells)" in invalid(path)


def test_not_utf8(tmp_path):
    path = tmp_path / "latin.ipynb"
    path.write_bytes(nbformat.writes(notebook([new_code_cell("name = 'José'")])).encode("latin-1"))
    assert "not UTF-8" in invalid(path)


def test_oversized_file_is_rejected_with_what_to_do(tmp_path):
    path = tmp_path / "huge.ipynb"
    path.write_text(nbformat.writes(notebook([new_code_cell("x = 1" + " " * 300_000)])))
    message = invalid(path, max_mb=0.1)
    assert "over the 0.1 MB limit" in message and "Clear Output" in message


def test_another_kernel_language(tmp_path):
    nb = notebook([new_code_cell("x <- 1")])
    nb.metadata = {"kernelspec": {"name": "ir", "display_name": "R", "language": "R"}, "language_info": {"name": "R"}}
    path = tmp_path / "r.ipynb"
    nbformat.write(nb, path)
    assert "is a R notebook" in invalid(path)


def test_language_from_language_info_alone(tmp_path):
    nb = notebook([new_code_cell("println(1)")])
    nb.metadata = {"language_info": {"name": "julia"}}
    path = tmp_path / "julia.ipynb"
    nbformat.write(nb, path)
    assert "julia notebook" in invalid(path)


def test_no_code_cells(tmp_path):
    path = tmp_path / "prose.ipynb"
    nbformat.write(notebook([new_markdown_cell("I could not do it.")]), path)
    assert "has no code cells" in invalid(path)


@pytest.mark.parametrize("where, raw, says", [
    ("metadata.kernelspec", '"python"', "metadata 'kernelspec' is text, not an object; open it in Jupyter"),
    ("metadata.kernelspec", "null", "metadata 'kernelspec' is null, not an object"),
    ("metadata.kernelspec", '["python"]', "metadata 'kernelspec' is a list, not an object"),
    ("metadata.language_info", "3", "metadata 'language_info' is a number, not an object"),
    ("metadata.kernelspec.language", '["python"]', "kernel language is a list, not text"),
    ("metadata.language_info.name", '{"python": 1}', "language name is an object, not text"),
    ("metadata", "[1]", "notebook's metadata is a list, not an object"),
    ("metadata.widgets", nested(20_000), "nested more than 100 levels deep"),
    ("cells.0.metadata.collapsed", nested(500), "nested more than 100 levels deep"),
    ("nbformat", '"4"', "uses notebook format '4'; open and save it"),
    ("nbformat", "4.0", "uses notebook format 4.0; open and save it"),
    ("nbformat", '"' + "4" * 100_000 + '"', "uses notebook format '444"),
    ("nbformat", "9" * 5000, "holds a value that cannot be read"),
    ("cells.0", '"source"', "cell 1 is malformed (it is text, not an object); open the notebook in Jupyter"),
    ("cells.0", "null", "cell 1 is malformed (it is null, not an object)"),
    ("cells.0.cell_type", '["code"]', "cell 1 is malformed (no cell type)"),
    ("cells.0.metadata", '"x"', "cell 1 is malformed (its metadata is text, not an object)"),
    ("cells.0.source", "[1, 2]", "cell 1 is malformed (no source)"),
    ("cells.0.source", '[["x = 1"]]', "cell 1 is malformed (no source)"),
], ids=["kernelspec-text", "kernelspec-null", "kernelspec-list", "language-info-number", "language-list",
        "language-name-object", "metadata-list", "nesting-20000", "nesting-in-cell-metadata", "format-text",
        "format-float", "format-huge-text", "number-of-5000-digits", "cell-text", "cell-null", "cell-type-list",
        "cell-metadata-text", "source-numbers", "source-nested-list"])
def test_hostile_notebook_is_invalid_with_what_to_do(tmp_path, where, raw, says):
    path = tmp_path / "hostile.ipynb"
    path.write_bytes(hostile(where, raw))
    message = invalid(path)
    assert says in message and len(message) < 300


@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_not_a_regular_file(tmp_path, kind):
    path = tmp_path / "odd.ipynb"
    if kind == "folder":
        path.mkdir()
    else:
        os.mkfifo(path)  # reading it would wait for a writer forever
    assert "not a regular file" in invalid(path)


HOSTILE_PLACES = ["nbformat", "nbformat_minor", "metadata", "metadata.kernelspec", "metadata.kernelspec.language",
                  "metadata.language_info", "metadata.language_info.name", "metadata.autograder", "cells", "cells.0",
                  "cells.0.cell_type", "cells.0.id", "cells.0.source", "cells.0.outputs", "cells.0.metadata",
                  "cells.0.metadata.nbgrader", "cells.0.metadata.nbgrader.grade_id",
                  "cells.0.metadata.nbgrader.locked"]
HOSTILE_VALUES = {"null": "null", "true": "true", "number": "-1", "float": "4.0", "text": '"python"',
                  "empty-list": "[]", "list": '["x = 1", 1]', "empty-object": "{}", "object": '{"a": [1]}',
                  "digits-5000": "9" * 5000, "nesting-500": nested(500), "nesting-20000": nested(20_000)}


@pytest.mark.parametrize("raw", HOSTILE_VALUES.values(), ids=HOSTILE_VALUES.keys())
@pytest.mark.parametrize("where", HOSTILE_PLACES)
def test_any_value_anywhere_is_graded_or_invalid(course, master, tmp_path, where, raw):
    path = tmp_path / "hostile.ipynb"
    path.write_bytes(hostile(where, raw))
    try:
        submission = load_submission("ada", path, master, 20.0)
    except InvalidSubmission as error:
        assert path.name in str(error) and len(str(error)) < 300
        return
    assert all(isinstance(c.source, str) and isinstance(c.grade_id, str) for c in submission.cells)


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.ipynb"
    assert "cannot read" in invalid(path)


def test_a_valid_notebook_without_metadata_is_python(tmp_path):
    path = tmp_path / "bare.ipynb"
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": [
        {"cell_type": "code", "metadata": {}, "source": ["x = 1\n", "y = 2"], "outputs": [], "execution_count": None}]}))
    assert read_notebook(path, 20)[1].cells[0].source == "x = 1\ny = 2"


def test_a_link_is_refused_and_not_followed(course, tmp_path):
    link = tmp_path / "alice.ipynb"
    link.symlink_to(course.master)  # a "submission" that is the master, solutions and all
    assert "alice.ipynb is a symbolic link, not a notebook" in invalid(link)


def test_a_name_that_is_not_utf8_is_told_as_text(tmp_path):
    path = Path(os.fsdecode(bytes(tmp_path) + b"/Jos\xe9.ipynb"))
    path.write_bytes(b"not json")
    message = invalid(path)
    assert "Jos\u00e9.ipynb is not a notebook" in message
    message.encode("utf-8")  # writable to any file


def test_the_bytes_come_back_with_the_notebook(course, tmp_path):
    raw, notebook = read_notebook(course.release, 20)
    assert raw == course.release.read_bytes() and notebook.cells

"""autograder.course.datafile: a CSV reader whose errors name the file, the row and the column."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.course.datafile import read_table
from autograder.errors import DataFileError, ExitCode

COLUMNS = {"score": float, "group": int}


def write(tmp_path, text, name="table.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def read_error(path, columns=COLUMNS) -> DataFileError:
    with pytest.raises(DataFileError) as caught:
        read_table(path, columns)
    assert str(path) in str(caught.value)
    assert caught.value.exit_code == ExitCode.CONFIG
    return caught.value


def test_reads_requested_columns_in_order_with_dtypes(tmp_path):
    path = write(tmp_path, "group,name,score\n1,a,2.5\n3,b,4\n")
    table = read_table(path, COLUMNS)
    assert list(table.columns) == ["score", "group"]
    assert table["score"].dtype == np.float64 and table["group"].dtype == np.int64
    assert table["score"].tolist() == [2.5, 4.0] and table["group"].tolist() == [1, 3]


def test_accepts_whole_floats_in_int_columns_and_spaces(tmp_path):
    table = read_table(write(tmp_path, "score, group\n 1.5 ,2.0\n"), COLUMNS)
    assert table["group"].tolist() == [2] and table["score"].tolist() == [1.5]


def test_missing_file(tmp_path):
    error = read_error(tmp_path / "absent.csv")
    assert "not found" in error.problem


def test_empty_file(tmp_path):
    assert "empty" in read_error(write(tmp_path, "")).problem


def test_header_without_rows(tmp_path):
    assert "no data rows" in read_error(write(tmp_path, "score,group\n")).problem


def test_missing_columns_are_all_named(tmp_path):
    error = read_error(write(tmp_path, "other\n1\n"))
    assert "score" in error.problem and "group" in error.problem and "other" in error.problem


def test_non_numeric_value_names_row_line_and_column(tmp_path):
    error = read_error(write(tmp_path, "score,group\n1.0,1\n2.0,2\nhigh,3\n"))
    assert (error.row, error.column) == (3, "score")
    assert "'high' is not a number" in str(error)
    assert "data row 3 is line 4 of the file" in str(error)


def test_blank_lines_are_skipped_but_lines_still_counted(tmp_path):
    error = read_error(write(tmp_path, "score,group\n\n1.0,x\n"))
    assert (error.row, error.column) == (1, "group")
    assert "line 3 of the file" in str(error)


def test_empty_cell(tmp_path):
    error = read_error(write(tmp_path, "score,group\n1.0,\n"))
    assert (error.row, error.column) == (1, "group")
    assert "empty cell" in error.problem


def test_short_row_is_an_empty_cell(tmp_path):
    error = read_error(write(tmp_path, "score,group\n1.0\n"))
    assert (error.row, error.column) == (1, "group")


def test_long_row(tmp_path):
    error = read_error(write(tmp_path, "score,group\n1.0,2,3\n"))
    assert error.row == 1 and "3 fields" in error.problem


@pytest.mark.parametrize(("cell", "problem"), [("nan", "not a finite number"), ("2.5", "not a whole number")])
def test_non_finite_and_fractional_values(tmp_path, cell, problem):
    error = read_error(write(tmp_path, f"score,group\n{cell},{cell}\n"), {"group": int, "score": float})
    assert error.column == "group" and problem in error.problem


def test_unsupported_column_type_is_a_programming_error(tmp_path):
    with pytest.raises(TypeError):
        read_table(write(tmp_path, "score\n1\n"), {"score": str})

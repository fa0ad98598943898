"""The files a batch is written to: JSON (the contract) and CSV (for a spreadsheet or an LMS)."""

from __future__ import annotations

import csv
import json

import pytest

from autograder.outputs.exports import write_csv, write_json
from autograder.results import GradeReport, PartResult, SubmissionResult


def report(*students: tuple[str, str]) -> GradeReport:
    return GradeReport("toy", [SubmissionResult(student=s, notebook=f"{s}.ipynb", status="graded", score=1.0,
                                                max_score=3.0, message=m, parts=[PartResult("square", 1.0, 3.0)])
                               for s, m in students])


@pytest.mark.parametrize("text", ["=2+3", "+1", "-1+1", "@SUM(A1)", "\tx", "\rx"])
def test_a_cell_that_a_spreadsheet_would_run_is_kept_as_text(tmp_path, text):
    write_csv(report((text, text)), tmp_path / "scores.csv")
    with open(tmp_path / "scores.csv", newline="", encoding="utf-8") as handle:
        row = list(csv.DictReader(handle))[0]
    assert row["student"] == row["message"] == "'" + text
    assert row["square"] == "1" and row["total"] == "1"  # numbers stay numbers


def test_ordinary_text_is_written_as_it_is(tmp_path):
    write_csv(report(("jos\u00e9", "cell 3 raised ValueError")), tmp_path / "scores.csv")
    assert "jos\u00e9,1,1,3,graded,cell 3 raised ValueError" in (tmp_path / "scores.csv").read_text(encoding="utf-8")


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "results.json"
    write_json(report(("ada", "")), path)
    broken = report(("bob", "\udce9"))  # text no UTF-8 file can hold
    with pytest.raises(UnicodeEncodeError):
        write_csv(broken, tmp_path / "scores.csv")
    assert not list(tmp_path.glob("*.tmp"))
    assert json.loads(path.read_text())["submissions"][0]["student"] == "ada"

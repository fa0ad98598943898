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


def a_class(size: int) -> GradeReport:
    """Results with every kind of field a real one has: tests, notes, cell errors, artifacts, odd text
    (characters that `str.splitlines` takes for line ends, which the JSON must escape)."""
    from autograder.results import TestResult

    submissions = []
    for number in range(size):
        tests = [TestResult(f"test_{n}", "failed", 0.0, 1.0, f"f(x) returned {n}\nexpected \u00e9 \"quoted\" \u2028\x0b\x85\r")
                 for n in range(10)]
        submissions.append(SubmissionResult(
            student=f"s{number:04d}", notebook=f"s{number:04d}.ipynb", status="graded", score=1.25,
            max_score=12.0, message="", parts=[PartResult("training", 1.25, 4.0, tests, "<b>html</b>")],
            notes=["restored cell 'x'"], cell_errors=[{"cell": 3, "status": "error", "type": "ValueError"}],
            artifacts={"loss_curve": {"student": [0.5 / (i + 1) for i in range(100)], "title": "loss"}},
            sha256="ab" * 32))
    return GradeReport("gradient-descent", submissions)


@pytest.mark.parametrize("size", [0, 1, 3])
def test_the_json_file_is_the_report_s_json_byte_for_byte(tmp_path, size):
    report = a_class(size)
    write_json(report, tmp_path / "results.json")
    assert (tmp_path / "results.json").read_text(encoding="utf-8") == report.to_json()
    assert GradeReport.load(tmp_path / "results.json").to_dict() == report.to_dict()


def test_a_large_class_is_written_without_its_whole_json_in_memory(tmp_path):
    import tracemalloc

    report = a_class(300)
    whole = len(report.to_json())
    tracemalloc.start()
    try:
        write_json(report, tmp_path / "results.json")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < whole / 5, f"writing {whole} bytes of JSON took {peak} bytes at its peak"

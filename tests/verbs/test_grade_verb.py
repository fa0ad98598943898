"""The grade verb as a library call: a GradeRequest graded on an engine, its files written, and
what to tell the user returned as data."""

from __future__ import annotations

import json

import pytest
from rich.console import Console

from autograder.batch.here import Here
from autograder.errors import ExitCode
from autograder.verbs.grade import GradeRequest, grade, start

from toycourse import make_course

pytestmark = pytest.mark.slow

RIGHT = "def square(x):\n    return np.asarray(x, dtype=float) ** 2"


def test_a_request_is_graded_written_and_told_as_data(tmp_path):
    course = make_course(tmp_path / "course")
    course.released_with("ada", RIGHT)
    course.released_with("bob", "def square(x):\n    return x * 2")
    out = tmp_path / "out"
    out.mkdir()
    request = GradeRequest(course.assignment(), [course.submissions], jobs=1, json=out / "results.json",
                           csv=out / "scores.csv", feedback=out / "feedback")
    said = []
    with Here() as engine, open(tmp_path / "progress", "w") as progress:
        graded = grade(request, engine, Console(file=progress), said.append)
    assert graded.exit_code == ExitCode.OK and graded.warnings == [] and graded.errors == []
    assert [(s.student, s.score) for s in graded.run.report.submissions] == [("ada", 3.0), ("bob", 0.0)]
    written = json.loads((out / "results.json").read_text())
    assert [s["score"] for s in written["submissions"]] == [3.0, 0.0]
    assert any(str(out / "results.json") in line for line in graded.lines)
    assert (out / "feedback" / "ada").is_dir() and (out / "scores.csv").is_file()


def test_a_results_file_the_disk_refuses_is_an_error_and_the_exit_code_says_so(tmp_path):
    course = make_course(tmp_path / "course")
    course.released_with("ada", RIGHT)
    (tmp_path / "file").write_text("not a folder")
    request = GradeRequest(course.assignment(), [course.submissions], jobs=1, csv=tmp_path / "file" / "scores.csv")
    engine, surveyed = start(request, None)
    with engine, open(tmp_path / "progress", "w") as progress:
        graded = grade(request, engine, Console(file=progress), print, surveyed)
    assert graded.run.report.submissions[0].score == 3.0
    assert graded.errors and graded.exit_code == ExitCode.FAILED

"""What each verb does, run as users run it: grade writes the JSON, the CSV and the
score table; validate passes a right master and says why a wrong one fails."""

from __future__ import annotations

import csv
import json

import pytest

from autograder.errors import ExitCode
from commandline import finished, start
from toycourse import make_course

RIGHT = "def square(x):\n    return np.asarray(x, dtype=float) ** 2"
WRONG = "def square(x):\n    ### BEGIN SOLUTION\n    return np.asarray(x, dtype=float) * 2\n    ### END SOLUTION"


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = make_course(tmp_path_factory.mktemp("course"))
    course.released_with("ada", RIGHT)
    course.released_with("bob", "def square(x):\n    return x")
    (course.submissions / "cyd.ipynb").write_text("not a notebook")
    return course


@pytest.fixture(scope="module")
def runs(course, tmp_path_factory):
    """name -> Done, for every command below, run concurrently."""
    wrong = make_course(tmp_path_factory.mktemp("wrong-master"), answer_source=WRONG)
    nowhere = tmp_path_factory.mktemp("no-course")
    root = course.root
    processes = {
        "grade": start("grade", "toy", "submissions", "--json", "out/results.json", "--csv", "out/results.csv",
                       cwd=root),
        "validate": start("validate", "toy", cwd=root / "assignments", script=True),  # found upwards
        "validate wrong master": start("--course", str(wrong.root), "validate", "toy", cwd=nowhere),
    }
    return {name: finished(process) for name, process in processes.items()}


def test_grade_writes_json(runs, course):
    done = runs["grade"]
    assert done.returncode == 0, done.stderr
    report = json.loads((course.root / "out" / "results.json").read_text())
    assert report["assignment"] == "toy"
    by_student = {s["student"]: s for s in report["submissions"]}
    assert {k: (v["status"], v["score"], v["max_score"]) for k, v in by_student.items()} == {
        "ada": ("graded", 3.0, 3.0), "bob": ("graded", 0.0, 3.0), "cyd": ("invalid", 0.0, 3.0)}
    for submission in report["submissions"]:
        assert {"student", "notebook", "status", "score", "max_score", "message", "parts"} <= set(submission)
        (part,) = submission["parts"]
        assert {"name", "score", "max_score", "feedback", "tests"} <= set(part)
        for test in part["tests"]:
            assert {"name", "outcome", "points", "max_points", "feedback"} <= set(test)
    assert by_student["bob"]["parts"][0]["tests"][0]["feedback"] == "square(3.0) returned 3.0, expected 9.0"


def test_grade_writes_csv_with_the_documented_columns(runs, course):
    assert runs["grade"].returncode == 0
    with open(course.root / "out" / "results.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["student", "square", "total", "max_score", "status", "message"]
    assert [row[:5] for row in rows[1:]] == [["ada", "3", "3", "3", "graded"], ["bob", "0", "0", "3", "graded"],
                                             ["cyd", "0", "0", "3", "invalid"]]
    assert rows[3][5].startswith("cyd.ipynb is not a notebook")


def test_grade_prints_the_score_table(runs):
    out = runs["grade"].stdout
    assert "toy: 3 submission(s)" in out
    assert "ada" in out and "3/3" in out


def test_validate_the_toy_course_with_the_installed_command(runs):
    done = runs["validate"]
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "toy: master 3/3, released stubs 0: ok"


def test_validate_fails_when_the_master_is_wrong(runs):
    done = runs["validate wrong master"]
    assert done.returncode == ExitCode.FAILED == 1
    assert "toy: NOT valid" in done.stderr
    assert "the master notebook scored 0/3" in done.stderr and "it must score full marks" in done.stderr
    assert "square/test_array: failed:" in done.stderr

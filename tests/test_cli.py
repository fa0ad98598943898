"""The `autograder` command as users run it: real subprocesses, exit codes, one-line errors, files written.

The subprocesses start at once (each spends seconds importing) and each test reads its own outcome;
errors that need no worker are also checked through `cli.main` in this process, which is cheaper.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder.cli import main
from autograder.errors import ExitCode
from toycourse import make_course

RIGHT = "def square(x):\n    return np.asarray(x, dtype=float) ** 2"
WRONG = "def square(x):\n    ### BEGIN SOLUTION\n    return np.asarray(x, dtype=float) * 2\n    ### END SOLUTION"
SCRIPT = Path(sys.executable).parent / "autograder"
BROKEN_TOML = '[assignment]\nnotebook = "toy.ipynb"\n[parts]\nsquare = 3\n[limits]\ntimeout = 0\n'


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


def start(*args: str, cwd: Path, script: bool = False) -> subprocess.Popen:
    command = [str(SCRIPT)] if script else [sys.executable, "-m", "autograder"]
    env = {k: v for k, v in os.environ.items() if k != "AUTOGRADER_COURSE"}
    env["COLUMNS"] = "200"  # rich wraps the table to the terminal width
    return subprocess.Popen([*command, *args], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


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
        "unknown assignment": start("grade", "nope", "submissions", cwd=root),
        "no such path": start("grade", "toy", "missing.ipynb", cwd=root),
    }
    done = {}
    for name, process in processes.items():
        stdout, stderr = process.communicate(timeout=180)
        done[name] = Done(process.returncode, stdout, stderr)
    return done


def test_unknown_assignment_exits_2_with_one_line(runs):
    done = runs["unknown assignment"]
    assert done.returncode == ExitCode.USAGE == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: unknown assignment 'nope'") and lines[0].endswith("(known: toy)")
    assert done.stdout == ""


def test_no_such_path_exits_2(runs):
    done = runs["no such path"]
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if not line.startswith("warning: ")]  # unsandboxed
    assert errors == ["error: no such file or folder: missing.ipynb"]


def test_no_course_here_exits_2(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("AUTOGRADER_COURSE", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "toy"]) == 2
    err = capsys.readouterr().err
    assert "no course found" in err and "--course" in err


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "usage: autograder" in capsys.readouterr().out


def test_a_broken_config_exits_3_naming_file_and_key(tmp_path, capsys):
    course = make_course(tmp_path, toml=BROKEN_TOML)
    assert main(["--course", str(course.root), "validate", "toy"]) == ExitCode.CONFIG == 3
    line = capsys.readouterr().err.strip()
    assert line.startswith("error: ") and "\n" not in line
    assert line.endswith("assignment.toml: [limits.timeout] must be a number more than 0 and at most 86,400, got 0")


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

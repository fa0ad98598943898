"""The `autograder` command as users run it: real subprocesses, exit codes, one-line errors, files written.

The subprocesses start at once (each spends seconds importing) and each test reads its own outcome;
errors that need no worker are also checked through `cli.main` in this process, which is cheaper.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder.cli import main
from autograder.errors import ExitCode
from full_disk import fill, small_filesystem
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


# --- a full disk: said as that, what was kept named, no temporary file left, every result computed kept ---

SLOW = "import time\ntime.sleep(0.8)"  # time for the test to free the disk while the batch goes on


def grade(course, *args: str) -> subprocess.Popen:
    return start("--course", str(course.root), "grade", "toy", str(course.submissions), *args, cwd=course.root,
                 script=True)


def errors_of(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(("error: ", "internal error"))]


def leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.rglob("*") if path.name.endswith(".tmp"))


def journal_students(path: Path) -> list[str]:
    return [json.loads(line)["result"]["student"] for line in path.read_text().splitlines()[1:]]


def test_a_full_disk_costs_only_the_feedback_pages_and_says_so_truthfully(tmp_path):
    course = make_course(tmp_path / "course")
    for student in ("ada", "bob"):
        course.released_with(student, RIGHT)
    with small_filesystem(tmp_path / "disk") as disk:
        fill(disk)
        out, err = grade(course, "--feedback", str(disk / "feedback"), "--jobs", "1").communicate(timeout=120)
        assert leftovers(disk) == [] and not list(disk.rglob("*.html"))
    assert errors_of(err) == [] and "3/3" in out
    for student in ("ada", "bob"):
        assert (f"warning: the feedback page of {student} could not be written (StorageError: could not write "
                f"{disk}/feedback/{student}/toy/toy.html: the disk is full (No space left on device); no page was "
                "written; free some space and grade again); no results file holds it (no --json or --csv): the "
                "score table does") in err


def test_a_full_disk_under_the_json_says_what_the_journal_keeps_and_what_is_lost(tmp_path):
    course = make_course(tmp_path / "course")
    students = [f"s{n}" for n in range(5)]
    for student in students:
        course.released_with(student, RIGHT)
    with small_filesystem(tmp_path / "disk") as disk:
        ballast = fill(disk, leave=4096)  # the journal's first page: its header and a few results
        output, journal = disk / "results.json", disk / "results.json.partial.jsonl"
        out, err = grade(course, "--json", str(output), "--jobs", "2").communicate(timeout=120)
        kept = journal_students(journal)
        assert 1 <= len(kept) < 5 and not output.exists() and leftovers(disk) == []
        assert all(f"{student} " in out for student in students)  # the table shows every score
        (line,) = errors_of(err)
        lost = [student for student in students if student not in kept]
        assert line.startswith(f"error: could not write {output}: the disk is full (No space left on device); the "
                               f"journal {journal} keeps {len(kept)} of the 5 result(s): free some space, then run "
                               "the same command with --resume, which keeps them and grades the rest; lost, and "
                               "graded again then: the results of ")
        assert line.endswith(" (the disk refused them to the journal too), whose scores are in the table above")
        assert sorted(line.split("the results of ")[1].split(" (the disk")[0].split(", ")) == lost

        ballast.unlink()  # space again: --resume keeps what the journal holds
        out, err = grade(course, "--json", str(output), "--jobs", "2", "--resume").communicate(timeout=120)
        assert errors_of(err) == [] and f"graded {len(lost)} submission(s), {len(kept)} kept from the journal" in err
        assert [s["student"] for s in json.loads(output.read_text())["submissions"]] == students
        assert not journal.exists()


@pytest.mark.slow
def test_results_the_journal_could_not_keep_are_in_the_json(tmp_path):
    course = make_course(tmp_path / "course")
    students = [f"s{n}" for n in range(6)]
    for student in students:
        course.student_notebook(student, ["import numpy as np", SLOW, RIGHT])
    with small_filesystem(tmp_path / "disk") as disk:
        ballast = fill(disk, leave=4096)
        output, journal = disk / "results.json", disk / "results.json.partial.jsonl"
        lines = []
        with grade(course, "--json", str(output), "--jobs", "1") as batch:
            for line in batch.stderr:  # "[n/6] ..." is said once the n-th result went to the journal, or not
                lines.append(line)
                if line.startswith("[") and ballast.exists() and len(journal_students(journal)) < len(
                        [seen for seen in lines if seen.startswith("[")]):
                    ballast.unlink()  # the disk refused one: free it while the batch goes on
            batch.wait(timeout=60)
        err = "".join(lines)
        assert batch.returncode == 0 and not ballast.exists(), err
        assert [s["student"] for s in json.loads(output.read_text())["submissions"]] == students
        assert not journal.exists() and leftovers(disk) == []
    assert re.search(rf"warning: [1-9] result\(s\) could not be added to the journal {re.escape(str(journal))} "
                     rf"\(the disk is full \(No space left on device\)\); {re.escape(str(output))} holds them", err)


def test_a_journal_the_full_disk_refuses_stops_the_batch_before_it_grades(tmp_path):
    course = make_course(tmp_path / "course")
    course.released_with("ada", RIGHT)
    with small_filesystem(tmp_path / "disk") as disk:
        fill(disk)
        _, err = grade(course, "--json", str(disk / "results.json")).communicate(timeout=120)
    assert errors_of(err) == [f"error: could not write {disk}/results.json.partial.jsonl: the disk is full (No space "
                              "left on device); nothing was graded: free some space, or pass another --json"]


def test_a_report_the_full_disk_refuses_is_said_and_leaves_no_temporary_file(tmp_path):
    course = make_course(tmp_path / "course")
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"assignment": "toy", "submissions": []}))
    with small_filesystem(tmp_path / "disk") as disk:
        fill(disk)
        done = start("--course", str(course.root), "report", "toy", "--json", str(results), "-o",
                     str(disk / "report.html"), cwd=tmp_path)
        _, err = done.communicate(timeout=60)
        assert leftovers(disk) == []
    assert done.returncode == ExitCode.FAILED
    assert errors_of(err) == [f"error: could not write {disk}/report.html: the disk is full (No space left on "
                              "device); no report was written: free some space, or pass another -o"]


def test_a_disk_error_no_verb_reports_itself_is_one_line_not_an_internal_error(tmp_path):
    course = make_course(tmp_path / "course")
    with small_filesystem(tmp_path / "disk") as disk:
        fill(disk)
        done = start("--course", str(course.root), "gradescope", "toy", "-o", str(disk / "autograder.zip"),
                     cwd=tmp_path)
        _, err = done.communicate(timeout=60)
    assert done.returncode == ExitCode.FAILED
    assert errors_of(err) == ["error: could not write a file: the disk is full (No space left on device); what the "
                              "command wrote before is kept: free some space (or write elsewhere) and run it again"]

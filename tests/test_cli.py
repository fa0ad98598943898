"""The `autograder` command as users run it: real subprocesses, exit codes, one-line errors, files written.

The subprocesses start at once (each spends seconds importing) and each test reads its own outcome;
errors that need no worker are also checked through `cli.main` in this process, which is cheaper.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from autograder.cli import main
from autograder.errors import ExitCode
from commandline import finished, start
from full_disk import fill, small_filesystem
from toycourse import make_course

RIGHT = "def square(x):\n    return np.asarray(x, dtype=float) ** 2"
BROKEN_TOML = '[assignment]\nnotebook = "toy.ipynb"\n[parts]\nsquare = 3\n[limits]\ntimeout = 0\n'


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """name -> Done, for every command below, run concurrently."""
    course = make_course(tmp_path_factory.mktemp("course"))
    root = course.root
    processes = {
        "unknown assignment": start("grade", "nope", "submissions", cwd=root),
        "no such path": start("grade", "toy", "missing.ipynb", cwd=root),
    }
    return {name: finished(process) for name, process in processes.items()}


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


def test_the_course_may_be_named_before_or_after_the_verb(tmp_path, capsys):
    course = make_course(tmp_path, toml=BROKEN_TOML)  # the config error shows which course was read
    for argv in (["--course", str(course.root), "validate", "toy"], ["validate", "toy", "--course", str(course.root)],
                 ["validate", f"--course={course.root}", "toy"]):
        assert main(argv) == ExitCode.CONFIG, argv
        assert str(course.root) in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:  # no path: argparse says so
        main(["validate", "toy", "--course"])
    assert usage.value.code == ExitCode.USAGE and "--course" in capsys.readouterr().err

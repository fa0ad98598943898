"""The batch journal and `--resume`: a batch killed with SIGKILL loses none of its finished results."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from autograder.cli import main
from autograder.errors import UsageError
from autograder.batch.resume import Journal, journal_path
from autograder.results import SubmissionResult

from toycourse import make_course

RIGHT = "def square(x):\n    return np.asarray(x, dtype=float) ** 2"
SLOW = "import time\ntime.sleep(0.6)"  # each submission takes long enough to be killed in the middle


def result(student: str, score: float = 1.0, graded: Path | None = None) -> SubmissionResult:
    """A result as grading makes it: with the SHA-256 of the bytes it graded."""
    sha256 = hashlib.sha256(graded.read_bytes()).hexdigest() if graded else ""
    return SubmissionResult(student=student, notebook=f"{student}.ipynb", status="graded", score=score,
                            max_score=3.0, seconds=0.5, sha256=sha256)


def test_the_journal_keeps_finished_results_of_unchanged_notebooks(tmp_path):
    alice, bob = tmp_path / "alice.ipynb", tmp_path / "bob.ipynb"
    alice.write_text("{}")
    bob.write_text("{}")
    with Journal(tmp_path / "r.json.partial.jsonl", "toy") as journal:
        journal.record(result("alice", 3.0, alice), alice)
        journal.record(result("bob", graded=bob), bob)
        journal.record(result("carl"), tmp_path / "carl.ipynb")  # invalid: nothing graded, nothing kept
    bob.write_text('{"changed": true}')  # bob submitted again: his old result no longer counts
    again = Journal(tmp_path / "r.json.partial.jsonl", "toy", resume=True)
    assert again.result_for("alice", alice).to_dict() == result("alice", 3.0, alice).to_dict()
    assert again.result_for("carl", tmp_path / "carl.ipynb") is None
    assert again.result_for("bob", bob) is None
    assert again.result_for("carol", tmp_path / "carol.ipynb") is None
    again.close()


def test_a_line_cut_short_by_a_kill_is_dropped_and_appending_goes_on(tmp_path):
    notebook = tmp_path / "a.ipynb"
    notebook.write_text("{}")
    path = tmp_path / "r.json.partial.jsonl"
    with Journal(path, "toy") as journal:
        journal.record(result("a"), notebook)
    with open(path, "a") as handle:
        handle.write('{"key": "b\\u0000/x", "sha256": "ab')  # the kill came in the middle of a line
    with Journal(path, "toy", resume=True) as journal:
        assert list(journal.finished) and len(journal.finished) == 1
        journal.record(result("c"), notebook)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line.get("result", {}).get("student") for line in lines] == [None, "a", "c"]


def test_a_journal_of_another_assignment_is_refused(tmp_path):
    Journal(tmp_path / "r.jsonl", "other").close()
    with pytest.raises(UsageError, match="not a journal of a 'toy' batch"):
        Journal(tmp_path / "r.jsonl", "toy", resume=True)


def test_resume_without_json_is_a_usage_error(tmp_path, capsys):
    course = make_course(tmp_path)
    course.released_with("a", RIGHT)
    code = main(["--course", str(course.root), "grade", "toy", str(course.submissions), "--resume"])
    assert code == 2
    assert "--resume needs --json FILE" in capsys.readouterr().err


def grade_command(course, output, *extra):
    return [sys.executable, "-m", "autograder", "--course", str(course.root), "grade", "toy",
            str(course.submissions), "--json", str(output), "--jobs", "2", *extra]


def journal_results(path) -> list[dict]:
    lines = path.read_text().splitlines()[1:]
    return [json.loads(line)["result"] for line in lines if line.endswith("}")]


@pytest.mark.slow
def test_a_killed_batch_resumes_without_regrading_what_was_finished(tmp_path):
    course = make_course(tmp_path)
    students = [f"s{n}" for n in range(6)]
    for student in students:
        course.student_notebook(student, ["import numpy as np", SLOW, RIGHT])
    output = tmp_path / "out" / "results.json"
    journal = journal_path(output)

    batch = subprocess.Popen(grade_command(course, output), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, cwd=tmp_path)
    graders = []
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and batch.poll() is None:
        if journal.is_file() and len(journal_results(journal)) >= 2:
            graders = psutil.Process(batch.pid).children(recursive=True)
            batch.send_signal(signal.SIGKILL)
            break
        time.sleep(0.05)
    assert batch.wait(timeout=10) == -signal.SIGKILL, "the batch finished before it could be killed"
    finished = {r["student"]: r for r in journal_results(journal)}
    assert 2 <= len(finished) < 6 and not output.exists()
    gone, alive = psutil.wait_procs(graders, timeout=10)
    assert not alive, f"processes left behind by the killed batch: {alive}"

    rerun = subprocess.run(grade_command(course, output, "--resume"), capture_output=True, text=True,
                           cwd=tmp_path, timeout=60)
    assert rerun.returncode == 0, rerun.stderr
    assert f"graded {6 - len(finished)} submission(s), {len(finished)} kept from the journal" in rerun.stderr
    left = 6 - len(finished)
    assert f"resuming: {len(finished)} finished result(s) kept from the journal, {left} to grade" in rerun.stderr
    assert f"[{left}/{left}] " in rerun.stderr  # the progress counts what this run grades
    report = json.loads(output.read_text())
    assert [s["student"] for s in report["submissions"]] == students
    assert all(s["score"] == 3.0 for s in report["submissions"])
    for row in report["submissions"]:
        if row["student"] in finished:  # the very result of the first run, not a new grading
            assert row == finished[row["student"]]
    assert not journal.exists()
    assert os.listdir(output.parent) == ["results.json"]


@pytest.mark.slow
def test_ctrl_c_stops_the_batch_keeps_its_results_and_says_how_to_go_on(tmp_path):
    course = make_course(tmp_path)
    for student in ("s0", "s1", "s2", "s3"):
        course.student_notebook(student, ["import numpy as np", SLOW, RIGHT])
    output = tmp_path / "results.json"
    journal = journal_path(output)
    batch = subprocess.Popen(grade_command(course, output), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True, cwd=tmp_path, start_new_session=True)
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and not (journal.is_file() and journal_results(journal)):
        time.sleep(0.05)
    processes = psutil.Process(batch.pid).children(recursive=True)
    os.killpg(batch.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole process group
    _, err = batch.communicate(timeout=30)
    assert batch.returncode == 130, err
    assert "the same command with --resume grades the rest" in err
    assert not psutil.wait_procs(processes, timeout=10)[1]
    assert 1 <= len(journal_results(journal)) < 4 and not output.exists()

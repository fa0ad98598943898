"""The batch journal and `--resume`: a batch killed with SIGKILL loses none of its finished results."""

from __future__ import annotations

import errno
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

from autograder.batch.resume import Journal, dependencies, journal_path, submission_key
from conftest import run_on
from autograder.cli import main
from autograder.errors import StorageError, UsageError
from autograder.results import NbgraderFiles, PartResult, SubmissionResult
from autograder.results import TestResult as Outcome

from full_disk import fill, small_filesystem
from toycourse import SUITE, make_course

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
    for student in ("s0", "s1", "s2", "s3"):  # the last two long enough to be stopped however busy it is
        slow = SLOW if student in ("s0", "s1") else "import time\ntime.sleep(8)"
        course.student_notebook(student, ["import numpy as np", slow, RIGHT])
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


# --- what the results depend on: a journal of another suite is dropped, saying how many and why ---

WRONG_EXPECTATION = SUITE.replace("reference.square(x), call_text", "reference.square(x) + 1, call_text")
DEPENDS = {"suite": "s1", "reference": "r1", "release": "m1", "engine": "e1"}


def journal_with(path: Path, notebook: Path, depends: dict, students=("a", "b")) -> None:
    with Journal(path, "toy", depends=depends) as journal:
        for student in students:
            journal.record(result(student, graded=notebook), notebook)


@pytest.mark.parametrize("changed, named", [
    ("suite", "another hidden suite (assignments/toy/, assignment.toml included)"),
    ("reference", "another reference (solutions/, or NumPy, pandas, Python)"),
    ("release", "another master or release (source/toy/, release/toy/)"),
    ("engine", "another engine (another version or code of the autograder)"),
])
def test_results_graded_with_other_dependencies_are_dropped_saying_how_many_and_why(tmp_path, changed, named):
    notebook, path = tmp_path / "a.ipynb", tmp_path / "r.json.partial.jsonl"
    notebook.write_text("{}")
    journal_with(path, notebook, DEPENDS)
    with Journal(path, "toy", resume=True, depends={**DEPENDS, changed: "2"}) as journal:
        assert journal.finished == {} and journal.result_for("a", notebook) is None
        assert journal.notes == [f"2 finished result(s) of {path} were dropped: they were graded with {named}; "
                                 "they are graded again"]
        journal.record(result("c", graded=notebook), notebook)
    with Journal(path, "toy", resume=True, depends={**DEPENDS, changed: "2"}) as journal:  # started afresh
        assert list(journal.finished) == [submission_key("c", notebook)] and journal.notes == []


def test_a_journal_without_what_its_results_depend_on_is_dropped(tmp_path):
    notebook, path = tmp_path / "a.ipynb", tmp_path / "r.json.partial.jsonl"
    notebook.write_text("{}")
    line = {"key": submission_key("a", notebook), "sha256": result("a", graded=notebook).sha256,
            "result": result("a", graded=notebook).to_dict()}
    path.write_text(json.dumps({"journal": 1, "assignment": "toy"}) + "\n" + json.dumps(line) + "\n")
    with Journal(path, "toy", resume=True, depends=DEPENDS) as journal:
        assert journal.finished == {}
        assert journal.notes == [f"1 finished result(s) of {path} were dropped: another version of the autograder "
                                 "wrote them, without what they depend on; they are graded again"]


def test_the_dependencies_are_the_suite_toml_reference_master_release_and_engine(tmp_path):
    course = make_course(tmp_path)
    before = dependencies(course.assignment())
    assert set(before) == {"suite", "reference", "release", "engine"}
    for folder in (course.suite_dir, course.root / "solutions", course.release.parent):
        (folder / "__pycache__").mkdir()
        (folder / "__pycache__" / "x.pyc").write_bytes(b"compiled")
        (folder / ".ipynb_checkpoints").mkdir()
        (folder / ".ipynb_checkpoints" / "x-checkpoint.py").write_text("# Jupyter's copy")
    assert dependencies(course.assignment()) == before  # what Python and Jupyter leave beside them
    edits = {"suite": (course.suite_dir / "test_square.py", "\n# fixed\n"), "suite ": (course.toml, "\n# [suite]\n"),
             "reference": (course.root / "solutions" / "toy.py", "\n# faster\n"),
             "release": (course.release.parent / "data.csv", "x\n1\n"), "release ": (course.master, " ")}
    for what, (path, addition) in edits.items():
        with open(path, "a") as handle:
            handle.write(addition)
        now = dependencies(course.assignment())
        assert [name for name in now if now[name] != before[name]] == [what.strip()], path
        before = now


def test_a_fixed_suite_regrades_what_the_journal_holds_instead_of_mixing_two_suites(tmp_path):
    course = make_course(tmp_path, suite=WRONG_EXPECTATION)
    for student in ("a", "b"):
        course.released_with(student, RIGHT)
    output = tmp_path / "results.json"
    first = run_on(course.assignment(), [course.submissions], jobs=1, json_path=output)  # stopped before its JSON
    assert [r.score for r in first.report.submissions] == [1.0, 1.0]
    (course.suite_dir / "test_square.py").write_text(SUITE)  # the instructor fixes the expectation
    course.released_with("c", RIGHT)
    done = subprocess.run(grade_command(course, output, "--resume"), capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (f"resuming: 2 finished result(s) of {journal_path(output)} were dropped: they were graded with another "
            "hidden suite (assignments/toy/, assignment.toml included); they are graded again") in done.stderr
    report = json.loads(output.read_text())
    assert [(s["student"], s["score"]) for s in report["submissions"]] == [("a", 3.0), ("b", 3.0), ("c", 3.0)]


def test_a_result_with_every_kind_of_field_is_kept_as_it_was(tmp_path):
    notebook, path = tmp_path / "a.ipynb", tmp_path / "r.json.partial.jsonl"
    notebook.write_text("{}")
    full = result("a", 1.0, notebook)
    full.parts = [PartResult("square", 1.0, 3.0, [Outcome("test_number", "passed", 1.0, 1.0, misconception="s.t"),
                                                  Outcome("test_array", "failed", 0.0, 2.0, "wrong", "an array")])]
    full.notes, full.cell_errors = ["restored cell provided"], [{"cell": 2, "type": "NameError", "message": "x"}]
    full.artifacts = {"curve": {"student": [1.0, 2.0], "title": "loss"}}
    full.nbgrader_files = NbgraderFiles(timestamp="2026-03-01 13:30:00.000000 UTC", secret="abc123")
    with Journal(path, "toy", depends=DEPENDS) as journal:
        journal.record(full, notebook)
    with Journal(path, "toy", resume=True, depends=DEPENDS) as journal:
        assert journal.notes == [] and journal.result_for("a", notebook).to_dict() == full.to_dict()


# --- a journal line that is JSON but not a result ---

NOT_RESULTS = ['5', '["a", "b"]', '{"key": "a", "result": 5}', '{"key": "a", "result": {"student": "a"}}',
               '{"key": 7, "result": {}}', '{"note": "added by hand"}']


def test_lines_that_are_not_results_are_left_out_saying_which(tmp_path):
    notebook, path = tmp_path / "a.ipynb", tmp_path / "r.json.partial.jsonl"
    notebook.write_text("{}")
    journal_with(path, notebook, DEPENDS, students=("a",))
    wrong_types = result("z", graded=notebook).to_dict() | {"score": "full marks"}
    wrong_status = result("y", graded=notebook).to_dict() | {"status": "excellent"}
    wrong_test = result("x", graded=notebook).to_dict()
    wrong_test["parts"] = [{"name": "p", "score": 1.0, "max_score": 1.0, "feedback": "", "tests": [
        {"name": "t", "outcome": "maybe", "points": 1.0, "max_points": 1.0, "feedback": "", "description": ""}]}]
    bad = NOT_RESULTS + [json.dumps({"key": submission_key(r["student"], notebook), "sha256": "", "result": r})
                         for r in (wrong_types, wrong_status, wrong_test)]
    with open(path, "a") as handle:
        handle.write("".join(line + "\n" for line in bad))
    journal_with_more = Journal(path, "toy", resume=True, depends=DEPENDS)
    journal_with_more.record(result("b", graded=notebook), notebook)  # appended after them
    journal_with_more.close()
    with Journal(path, "toy", resume=True, depends=DEPENDS) as journal:
        assert sorted(journal.finished) == [submission_key("a", notebook), submission_key("b", notebook)]
        assert journal.notes == [f"9 line(s) of {path} are not results this journal wrote (line 3, 4, 5, 6, 7, 8, 9, "
                                 "10, 11): left out, their submissions are graded again"]


def test_resume_with_a_line_that_is_not_a_result_says_so_and_grades_on(tmp_path):
    course = make_course(tmp_path)
    for student in ("a", "b"):
        course.released_with(student, RIGHT)
    output = tmp_path / "results.json"
    run_on(course.assignment(), [course.submissions], jobs=1, json_path=output)
    with open(journal_path(output), "a") as handle:
        handle.write('{"key": "a", "result": {"student": "a"}}\n')
    done = subprocess.run(grade_command(course, output, "--resume"), capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "internal error" not in done.stderr
    assert (f"resuming: 1 line(s) of {journal_path(output)} are not results this journal wrote (line 4): left out, "
            "their submissions are graded again") in done.stderr
    assert "graded 0 submission(s), 2 kept from the journal" in done.stderr


# --- one journal per batch: a second batch with the same --json is refused ---

@pytest.mark.slow
def test_a_second_batch_with_the_same_json_is_refused_and_the_first_finishes(tmp_path):
    course = make_course(tmp_path)
    for student in ("s0", "s1", "s2"):
        course.student_notebook(student, ["import numpy as np", SLOW, RIGHT])
    output = tmp_path / "results.json"
    first = subprocess.Popen(grade_command(course, output), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True, cwd=tmp_path)
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and not journal_path(output).is_file():
        time.sleep(0.05)
    second = subprocess.run(grade_command(course, output, "--resume"), capture_output=True, text=True,
                            cwd=tmp_path, timeout=60)
    _, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert second.returncode == 2, second.stderr
    assert [line for line in second.stderr.splitlines() if not line.startswith("warning: ")] == [
        f"error: another batch is writing its results with the same --json (its journal {journal_path(output)} is "
        "locked); wait until it ends, or pass another --json"]
    assert [s["student"] for s in json.loads(output.read_text())["submissions"]] == ["s0", "s1", "s2"]
    assert not journal_path(output).exists()


# --- a full disk: the line the disk refuses is cut, the result stays with the batch ---

def test_a_result_the_full_disk_refuses_is_left_out_of_the_journal_whole_lines_only(tmp_path):
    notebook = tmp_path / "a.ipynb"
    notebook.write_text("{}")
    with small_filesystem(tmp_path / "disk") as disk:
        path = disk / "r.json.partial.jsonl"
        fill(disk, leave=4096)  # one page: the header and a few results
        with Journal(path, "toy", depends=DEPENDS) as journal:
            saved = [journal.record(result(f"s{n}", graded=notebook), notebook) for n in range(30)]
        kept = saved.index(False)
        assert kept >= 1 and saved == [True] * kept + [False] * (30 - kept)
        assert journal.unsaved == [f"s{n}" for n in range(kept, 30)] and journal.failure.errno == errno.ENOSPC
        assert journal.added == kept
        assert path.read_bytes().endswith(b"\n")
        with Journal(path, "toy", resume=True, depends=DEPENDS) as again:
            assert len(again.finished) == kept and again.notes == []


def test_a_journal_that_cannot_be_started_stops_the_batch_before_it_grades(tmp_path):
    with small_filesystem(tmp_path / "disk") as disk:
        fill(disk)
        with pytest.raises(StorageError, match=r"could not write .*r.json.partial.jsonl: the disk is full "
                                               r"\(No space left on device\); nothing was graded"):
            Journal(disk / "r.json.partial.jsonl", "toy", depends=DEPENDS)

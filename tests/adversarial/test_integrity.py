"""Grade integrity through the real CLI: one batch of hostile submissions beside correct controls.

`autograder grade toy SUBMISSIONS --jobs 2 --json --csv --gradebook --feedback`, as an instructor
runs it, on a class where some submissions attack the grader (docs/SECURITY.md, threats 13-23):
what they leave in /tmp, stopping their worker, rich markup and control characters, file names
that are not UTF-8 or that collide, links to the master, huge replies and texts, spreadsheet
formulas, malformed metadata. Every control must get full marks, every submission a result in
the JSON and the CSV, and nothing may be left running or changed in the repository.
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import psutil
import pytest
from nbformat.v4 import new_code_cell
from autograder.running.launch import WORKER_MODULE
from autograder.batch.parallel import HOST_MODULE
from process_tree import not_another_tests
from toycourse import REFERENCE, SUITE, make_course, stub_of

from .scenarios import CUBE_REFERENCE, CUBE_SUITE, GOOD_CUBE, GOOD_SQUARE, PLANT, STOP_WORKER, TOML, report
from .test_adversarial import REPO, git_status, marker_processes

pytestmark = pytest.mark.slow

STUB = "def square(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()"
IMPORTS = "import statistics, colorsys"  # a module planted by another submission would be found here
MEMORY_LIMIT_MB = 500
RAW_FRAME = '''
import fcntl, os, stat, struct
def _reply_pipes():
    for fd in map(int, os.listdir("/proc/self/fd")):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode) and fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY:
                yield fd
        except OSError:
            pass
def send_raw(payload):
    for fd in _reply_pipes():
        os.write(fd, struct.pack("!Q", len(payload)) + payload)
'''
HUGE_NAME = 'raise type("E" * 30_000_000, (Exception,), {})()'
HUGE_SYNTAX = 'raise SyntaxError("x" * 30_000_000)'
HUGE_MESSAGE = "def cube(x):\n    raise ValueError('y' * 30_000_000)"


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@dataclass
class Batch:
    returncode: int
    stderr: str
    results: dict[str, dict]  # student id -> result in the JSON
    rows: dict[str, dict]  # student id -> CSV row
    root: Path
    feedback: Path
    json_bytes: int
    peak_mb: float
    seconds: float
    strays: list[str] = field(default_factory=list)
    git_before: str = ""
    git_after: str = ""


def notebook(course, answer: str, extra: list[str]) -> nbformat.NotebookNode:
    return course.answered(answer, extra)


def write(path: Path | bytes, nb: nbformat.NotebookNode | bytes) -> None:
    data = nb if isinstance(nb, bytes) else nbformat.writes(nb).encode()
    with open(path, "wb") as handle:
        handle.write(data)


def add_cube_grade_cell(course) -> None:
    """The master holds a grade cell per part (nbgrader's max scores are ours): test_square 3, test_cube 2."""
    master = nbformat.read(course.master, as_version=4)
    for cell in master.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "test_square":
            cell.metadata["nbgrader"]["points"] = 3
    cube = new_code_cell("print('cube is graded by the hidden tests')", metadata={"nbgrader": {
        "grade": True, "grade_id": "test_cube", "locked": True, "points": 2, "schema_version": 3, "solution": False}})
    master.cells.append(cube)
    nbformat.write(master, course.master)
    nbformat.write(stub_of(master), course.release)


def class_of(course, root: Path) -> dict[str, Path | bytes]:
    """File name -> what is written there; the ids the grader should give are in the tests below."""
    good = notebook(course, GOOD_SQUARE, [GOOD_CUBE, IMPORTS])
    stub = notebook(course, STUB, [GOOD_CUBE])
    files: dict = {
        "a-plant-modules.ipynb": notebook(course, GOOD_SQUARE, [GOOD_CUBE, PLANT]),
        "z-correct-1.ipynb": good, "z-correct-2.ipynb": good, "z-correct-3.ipynb": good,
        "stop-worker.ipynb": notebook(course, STOP_WORKER, [GOOD_CUBE]),
        "markup-exception.ipynb": notebook(course, GOOD_SQUARE, [GOOD_CUBE, 'raise type("[/x]", (Exception,), {})()']),
        "[bold]markup-name.ipynb": good,
        "control-\x1b]0;owned\x07.ipynb": good,
        os.fsencode("Jos\udce9.ipynb"): good,  # Windows-1252 bytes: 'José'
        "José.ipynb": stub,
        "josè.ipynb": good,
        "a/alice.ipynb": good, "alice-2.ipynb": good, "b/alice.ipynb": stub,
        "huge-list.ipynb": notebook(course, "def square(x):\n    return [[0] * 100000] * 300", [GOOD_CUBE]),
        "huge-frame.ipynb": notebook(course, GOOD_SQUARE, [GOOD_CUBE, RAW_FRAME + "send_raw(b'[' + b'0,' * 30_000_000 + b'0]')"]),
        "many-items.ipynb": notebook(course, GOOD_SQUARE, [GOOD_CUBE, RAW_FRAME + "send_raw(b'{\"v\":[' + b'[],' * 4_000_000 + b'[]]}')"]),
        "huge-texts.ipynb": notebook(course, GOOD_SQUARE, [HUGE_MESSAGE, HUGE_NAME, HUGE_SYNTAX]),
        "=2+3.ipynb": good,
        b"\x80" * 249 + b".ipynb": good,  # 249 euro signs in Windows-1252: 747 bytes of UTF-8 as an id
        "kernelspec-string.ipynb": json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": "python"},
                                                "cells": [{"cell_type": "code", "source": "x = 1", "metadata": {},
                                                           "outputs": [], "execution_count": None}]}).encode(),
        "deep-metadata.ipynb": ('{"nbformat": 4, "nbformat_minor": 5, "metadata": {"x": ' + nested(20_000)
                                + '}, "cells": []}').encode(),
        "wrong-language.ipynb": json.dumps({**nbformat.reads(nbformat.writes(good), as_version=4),
                                            "metadata": {"kernelspec": {"language": "[/x]", "name": "x"}}}).encode(),
        "environment.ipynb": notebook(course, GOOD_SQUARE, [GOOD_CUBE, report("""
            seen["pyvenv"] = open("/opt/python/pyvenv.cfg").read() if os.path.exists("/opt/python/pyvenv.cfg") else ""
            import sys
            seen["path"] = sys.path
            seen["prefix"] = [sys.prefix, sys.base_prefix, sys.executable]
        """)]),
    }
    return files


def peak_of_graders(process: psutil.Popen, peak: list[float], stop: threading.Event) -> None:
    """Sample the resident memory of the grader processes (the CLI and its --jobs processes), not the workers."""
    while not stop.is_set():
        try:
            family = [process, *process.children(recursive=True)]
        except psutil.Error:
            break
        for member in family:
            try:
                command = " ".join(member.cmdline())
                if WORKER_MODULE in command or "bwrap" in command or "setpriv" in command:
                    continue
                peak[0] = max(peak[0], member.memory_info().rss / 1024 / 1024)
            except psutil.Error:
                continue
        stop.wait(0.05)


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> Batch:
    course = make_course(tmp_path_factory.mktemp("integrity"), toml=TOML,
                         suite={"test_square.py": SUITE, "test_cube.py": CUBE_SUITE},
                         reference=REFERENCE + CUBE_REFERENCE)
    add_cube_grade_cell(course)
    folder = course.root / "submitted-files"
    for name, content in class_of(course, folder).items():
        path = os.path.join(os.fsencode(folder), os.fsencode(name))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write(path, content)
    (folder / "link.ipynb").symlink_to(course.master)  # a "notebook" that is the master
    (folder / "zero.ipynb").symlink_to("/dev/zero")  # read through, it never ends
    (folder / "loop.ipynb").symlink_to("loop.ipynb")  # resolve() raises on it
    os.mkfifo(folder / "pipe.ipynb")  # opened for reading, it waits for a writer for ever
    stamped = folder / "stamped"
    stamped.mkdir()
    write(stamped / "stamped.ipynb", notebook(course, GOOD_SQUARE, [GOOD_CUBE]))
    with open(stamped / "timestamp.txt", "wb") as handle:  # sparse: 1 GB that costs no disk
        handle.truncate(1 << 30)
    out = course.root / "out"
    env = {k: v for k, v in os.environ.items() if k != "AUTOGRADER_COURSE"}
    git_before = git_status()
    started = time.monotonic()
    peak, stop = [0.0], threading.Event()
    grading = psutil.Popen([sys.executable, "-m", "autograder", "grade", "toy", str(folder), "--jobs", "2",
                            "--json", str(out / "results.json"), "--csv", str(out / "results.csv"),
                            "--gradebook", "--feedback", str(out / "feedback")],
                           cwd=course.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sampler = threading.Thread(target=peak_of_graders, args=(grading, peak, stop))
    sampler.start()
    try:
        _, err = grading.communicate(timeout=600)
    finally:
        stop.set()
        sampler.join()
        if grading.poll() is None:
            grading.kill()
    seconds = time.monotonic() - started
    time.sleep(0.5)  # processes killed at the end of the batch are reaped by then
    report = json.loads((out / "results.json").read_text()) if (out / "results.json").exists() else {"submissions": []}
    with open(out / "results.csv", newline="", encoding="utf-8") if (out / "results.csv").exists() else open(os.devnull) as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    return Batch(grading.returncode, err.decode("utf-8", "replace"),
                 {s["student"]: s for s in report["submissions"]}, rows, course.root, out / "feedback",
                 (out / "results.json").stat().st_size if (out / "results.json").exists() else 0,
                 peak[0], seconds, strays=marker_processes() + leftover_graders(course.root),
                 git_before=git_before, git_after=git_status())


def leftover_graders(root: Path) -> list[str]:
    """Grader processes and workers still running, other test files' left out."""
    found = {}
    for process in psutil.process_iter(["cmdline"]):
        command = " ".join(process.info["cmdline"] or [])
        if HOST_MODULE in command or (WORKER_MODULE in command and "/assignment" in command):
            found[process.pid] = f"{process.pid}: {command[:200]}"
    return [found[pid] for pid in not_another_tests(list(found))]


def part_scores(result: dict) -> dict[str, float]:
    return {part["name"]: part["score"] for part in result["parts"]}


def feedback_of(result: dict, part: str) -> str:
    return " | ".join(t["feedback"] for p in result["parts"] if p["name"] == part for t in p["tests"])


def full_marks(result: dict) -> None:
    assert (result["status"], result["score"]) == ("graded", 5.0), (result["status"], result["message"], result["parts"])


# -- the batch as a whole --------------------------------------------------------------------------


def test_the_batch_finishes_and_writes_every_result(batch):
    assert batch.returncode == 0, batch.stderr[-3000:]
    discovered = 29  # every notebook file above, the links and the pipe among them
    assert len(batch.results) == len(batch.rows) == discovered, sorted(batch.results)
    assert batch.seconds < 300


def test_every_control_gets_full_marks(batch):
    for student in ("z-correct-1", "z-correct-2", "z-correct-3", "[bold]markup-name", "Jos\u00e9-2", "jos\u00e8",
                    "alice", "alice-2", "\\x3d2+3"):
        full_marks(batch.results[student])


def test_nothing_is_left_running_and_the_repository_is_unchanged(batch):
    assert batch.strays == []
    assert batch.git_after == batch.git_before


def test_the_graders_memory_stays_bounded(batch):
    assert 0 < batch.peak_mb < MEMORY_LIMIT_MB, f"a grader process reached {batch.peak_mb:.0f} MB"


# -- 1 what a submission leaves behind -------------------------------------------------------------


def test_modules_planted_by_one_submission_do_not_reach_the_others(batch):
    full_marks(batch.results["a-plant-modules"])
    for student in ("z-correct-1", "z-correct-2", "z-correct-3"):  # each imported statistics and colorsys
        full_marks(batch.results[student])


# -- 2 a worker stopped in the middle of an answer --------------------------------------------------


def test_a_stopped_worker_costs_that_submission_only_and_not_the_batch(batch):
    result = batch.results["stop-worker"]
    assert result["status"] == "graded" and part_scores(result) == {"square": 0.0, "cube": 2.0}, result


# -- 3 rich markup and control characters -------------------------------------------------------------


def test_markup_in_student_text_is_shown_as_written(batch):
    assert "[/x]" in batch.results["markup-exception"]["message"]
    assert "is a [/x] notebook" in batch.results["wrong-language"]["message"]
    assert "MarkupError" not in batch.stderr and "Traceback" not in batch.stderr


def test_control_characters_never_reach_the_terminal(batch):
    assert "\x1b" not in batch.stderr and "\x07" not in batch.stderr
    full_marks(batch.results["control-\\x1b]0;owned\\x07"])


# -- 4, 5 names: not UTF-8, colliding -----------------------------------------------------------------


def test_a_file_name_that_is_not_utf8_gets_a_readable_id_of_its_own(batch):
    assert batch.results["Jos\u00e9"]["score"] == 2.0  # 'José.ipynb' in UTF-8, a stub: found first
    renamed = batch.results["Jos\u00e9-2"]  # the Windows-1252 file, a correct one
    assert renamed["score"] == 5.0 and "is graded as 'Jos\u00e9-2'" in renamed["notes"][0]
    assert batch.rows["Jos\u00e9-2"]["total"] == "5"
    assert not list(batch.root.rglob("*.tmp"))


def test_ids_never_collide_and_the_gradebook_keeps_each_students_own_score(batch):
    assert {s: batch.results[s]["score"] for s in ("alice", "alice-2", "alice-3")} == \
        {"alice": 5.0, "alice-2": 5.0, "alice-3": 2.0}  # b/alice is a stub: its cube only
    assert "is graded as 'alice-3'" in batch.results["alice-3"]["notes"][0]
    with sqlite3.connect(batch.root / "gradebook.db") as db:
        stored = dict(db.execute(
            "SELECT s.student_id, SUM(g.auto_score) FROM grade g JOIN submitted_notebook n ON g.notebook_id = n.id "
            "JOIN submitted_assignment s ON n.assignment_id = s.id GROUP BY s.student_id"))
    assert stored == {student: result["score"] for student, result in batch.results.items()}


def test_each_student_gets_their_own_feedback_page(batch):
    pages = {p.parent.parent.name: p.read_text(encoding="utf-8") for p in batch.feedback.rglob("*.html")}
    assert len(pages) == len(batch.results)
    assert "Feedback for <b>jos\u00e8</b>" in pages["jos\u00e8"] and "Feedback for <b>jos\u00e9" not in pages["jos\u00e8"]
    assert "Feedback for <b>Jos\u00e9-2</b>" in pages["Jos\u00e9-2"]


# -- 6 links ----------------------------------------------------------------------------------------------


def test_files_that_are_not_notebooks_are_invalid_and_never_read_through(batch):
    for student, says in (("zero", "symbolic link"), ("loop", "symbolic link"), ("pipe", "not a regular file")):
        result = batch.results[student]
        assert (result["status"], result["score"]) == ("invalid", 0.0) and says in result["message"], result


def test_a_long_name_and_a_huge_timestamp_cost_nothing(batch):
    long = next(s for s in batch.results if s.startswith("\u20ac"))
    full_marks(batch.results[long])
    assert len(long.encode()) <= 200 and (batch.root / "autograded" / long / "toy" / "toy.ipynb").is_file()
    full_marks(batch.results["stamped"])


def test_a_link_to_the_master_is_invalid_and_nothing_of_the_master_is_copied(batch):
    result = batch.results["link"]
    assert (result["status"], result["score"]) == ("invalid", 0.0) and "symbolic link" in result["message"]
    for path in (batch.root / "autograded").rglob("*"):
        if path.is_file():
            assert "BEGIN SOLUTION" not in path.read_text(errors="replace"), path


# -- 7, 8 size --------------------------------------------------------------------------------------------


def test_huge_values_and_frames_fail_with_a_message(batch):
    assert "items" in feedback_of(batch.results["huge-list"], "square")
    for student in ("huge-frame", "many-items"):
        result = batch.results[student]
        assert result["score"] == 0.0 and "more than" in result["message"], result["message"]


def test_huge_texts_are_capped_everywhere(batch):
    result = batch.results["huge-texts"]
    assert len(json.dumps(result)) < 20_000
    assert batch.json_bytes < 2_000_000
    page = next(batch.feedback.glob("huge-texts/*/*.html"))
    assert page.stat().st_size < 100_000


# -- 9 spreadsheets ------------------------------------------------------------------------------------------


def test_a_formula_in_a_name_is_never_one_in_the_csv_or_the_gradebook(batch):
    assert "\\x3d2+3" in batch.rows and not any(student.startswith(("=", "'=")) for student in batch.rows)
    assert all(not row["message"].startswith(("=", "+", "-", "@")) for row in batch.rows.values())


# -- 10 malformed metadata -------------------------------------------------------------------------------------


def test_malformed_metadata_is_an_invalid_submission_with_a_message(batch):
    for student in ("kernelspec-string", "deep-metadata"):
        result = batch.results[student]
        assert result["status"] == "invalid" and "please report it" not in result["message"], result["message"]


# -- 11 paths -------------------------------------------------------------------------------------------------


def test_the_worker_sees_no_host_path(batch):
    result = batch.results["environment"]
    seen = next(json.loads(e["message"][len("REPORT "):]) for e in result["cell_errors"]
                if e["message"].startswith("REPORT "))
    text = json.dumps(seen)
    if "/opt/python" not in text and str(sys.prefix) in text:
        pytest.skip("the worker is not sandboxed here: it sees the machine as it is")
    assert str(REPO) not in text and str(batch.root) not in text, text

"""Points without working code: the grader's reference used as an oracle, and state carried between parts.

While one function of student-admissions is graded, the other graded functions it calls stand in for
the reference (docs/ARCHITECTURE.md, the callback path), so that a wrong helper costs only itself.
These scenarios are the attacks on that, written as a student would, each a real notebook
(tests/adversarial/oracle_notebooks.py) graded end to end in one batch by the CLI
(`autograder grade student-admissions FOLDER --jobs 2 --json`) beside a right control:

- A. the circle: functions that only call each other get their values from the reference;
- B. state carried between parts: what a function stores (a global, a file in the working folder or
  in /tmp) while one part is graded, or learns there from the stand-ins, used in a later part;
- C. the grader's memory: a stand-in's question that makes the reference build gigabytes in the grader;
- D. what isolation fixed, which the defences above must keep.

What is expected: while a function is graded only the graded functions it depends on stand in for
the reference (sigmoid_prime: sigmoid; error_term: sigmoid_prime and sigmoid; update_weights and
sigmoid: none), every other name is the student's own; each part starts from the state the notebook
left (memory, /tmp and the working folder); stand-in questions are bounded and the reference runs on
a submission's arguments away from the grader's own memory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass

import nbformat
import psutil
import pytest

from autograder.batch.parallel import HOST_MODULE

from .oracle_notebooks import FULL, PARTS, REPO, class_of

pytestmark = pytest.mark.slow

MEMORY_LIMIT_MB = 500  # a grader process grading this class (its RSS is far below without the attacks)


@dataclass
class Batch:
    returncode: int
    stderr: str
    results: dict[str, dict]  # student id -> result in the JSON
    students: list[str]  # the ids of the notebooks written
    peak_mb: float  # the largest RSS seen of the CLI and its grader processes


def graders(cli: psutil.Process) -> list[psutil.Process]:
    """The CLI and its --jobs grader processes (its direct children running the host module); not the
    workers, nor any process a grader starts (one that runs reference code under a memory limit, say)."""
    found = [cli]
    for child in cli.children():
        try:
            if HOST_MODULE in " ".join(child.cmdline()):
                found.append(child)
        except psutil.Error:
            continue
    return found


def sample_peak(cli: psutil.Process, peak: list[float], stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            family = graders(cli)
        except psutil.Error:
            break
        for member in family:
            try:
                peak[0] = max(peak[0], member.memory_info().rss / 2**20)
            except psutil.Error:
                continue
        stop.wait(0.05)


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> Batch:
    root = tmp_path_factory.mktemp("oracle")
    folder = root / "class"  # not "submitted": that name is nbgrader's tree (submitted/<student>/<assignment>/)
    folder.mkdir()
    notebooks = class_of()
    for student, nb in notebooks.items():
        nbformat.write(nb, folder / f"{student}.ipynb")
    out = root / "results.json"
    env = {k: v for k, v in os.environ.items() if k != "AUTOGRADER_COURSE"}
    peak, stop = [0.0], threading.Event()
    grading = psutil.Popen([sys.executable, "-m", "autograder", "grade", "student-admissions", str(folder),
                            "--jobs", "2", "--json", str(out)],
                           cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sampler = threading.Thread(target=sample_peak, args=(grading, peak, stop))
    sampler.start()
    try:
        _, err = grading.communicate(timeout=900)
    finally:
        stop.set()
        sampler.join()
        if grading.poll() is None:
            grading.kill()
    report = json.loads(out.read_text()) if out.exists() else {"submissions": []}
    return Batch(grading.returncode, err.decode("utf-8", "replace"),
                 {s["student"]: s for s in report["submissions"]}, sorted(notebooks), peak[0])


def scores(batch: Batch, student: str) -> dict[str, float]:
    result = batch.results[student]
    return {part["name"]: round(part["score"], 4) for part in result["parts"]}


def feedback(batch: Batch, student: str, part: str) -> str:
    """Every test's feedback in that part (and its notes), one per line."""
    return "\n".join(f"{t['name']}: {t['feedback']}" for p in batch.results[student]["parts"] if p["name"] == part
                     for t in p["tests"] if t["feedback"])


def seen(batch: Batch, student: str) -> str:
    """The scores and feedback of a submission, for an assertion's message."""
    lines = [f"{student}: {batch.results[student]['status']} {scores(batch, student)}"]
    lines += [f"  [{part}] {line}" for part in PARTS for line in feedback(batch, student, part).splitlines()[:3]]
    return "\n".join(lines)


# -- the batch --------------------------------------------------------------------------------------------


def test_every_submission_gets_a_result(batch):
    assert batch.returncode == 0, batch.stderr[-3000:]
    assert sorted(batch.results) == batch.students
    for student, result in batch.results.items():
        assert result["status"] == "graded", (student, result["status"], result["message"])
        assert set(scores(batch, student)) == set(PARTS)


def test_a_right_notebook_gets_full_marks(batch):
    assert scores(batch, "control") == FULL, seen(batch, "control")


# -- A. the circle ------------------------------------------------------------------------------------------


def test_the_circle_scores_nothing(batch):
    """Four one-line functions that call each other, each a RecursionError in the notebook: a careful
    human gives 0 in every part, and so must the grader, telling the student that their code raised
    (the RecursionError, or in error_term a refused question: every level of its recursion asks the
    reference's sigmoid_prime, on which it depends)."""
    assert scores(batch, "circle") == dict.fromkeys(PARTS, 0), seen(batch, "circle")
    for part in PARTS:
        assert "raised" in feedback(batch, "circle", part), seen(batch, "circle")
    for part in ("sigmoid", "sigmoid_prime", "update_weights", "training"):  # no question on their way down
        assert "RecursionError" in feedback(batch, "circle", part), seen(batch, "circle")


def test_a_function_stolen_through_a_circle_scores_nothing_and_the_right_ones_keep_their_points(batch):
    """sigmoid_prime(x) = error_term(1, 0, x) beside a right error_term (which calls sigmoid_prime back):
    sigmoid_prime does not work, error_term does (with the reference's sigmoid_prime)."""
    expected = {**FULL, "sigmoid_prime": 0, "training": 0}
    assert scores(batch, "circle-stolen-one") == expected, seen(batch, "circle-stolen-one")
    assert "RecursionError" in feedback(batch, "circle-stolen-one", "sigmoid_prime"), seen(batch, "circle-stolen-one")


# -- B. state carried between parts -------------------------------------------------------------------------


def test_a_table_learnt_from_the_stand_ins_in_one_part_earns_nothing_in_training(batch):
    """sigmoid is not written (NotImplementedError); sigmoid_prime gathers a table of the reference sigmoid
    while it is graded, within the bounds on its questions, and keeps it in a global, the working folder
    and /tmp; the training interpolates in it. The training runs the student's own functions from the
    notebook's state, and its sigmoid does not work. (sigmoid_prime is right, but asks the stand-in
    about numbers its tests never gave it: whether that costs its points is the grader's choice.)"""
    got = scores(batch, "carry-table")
    assert {**got, "sigmoid_prime": 2} == {**FULL, "sigmoid": 0, "training": 0}, seen(batch, "carry-table")
    assert "NotImplementedError" in feedback(batch, "carry-table", "training"), seen(batch, "carry-table")


def test_a_file_written_to_tmp_while_one_part_is_graded_is_gone_in_the_next(batch):
    """sigmoid writes /tmp/written-in-a-part.txt while it is graded; sigmoid_prime adds 1001 when it is there."""
    assert scores(batch, "carry-probe")["sigmoid_prime"] == 2, seen(batch, "carry-probe")


def test_a_file_written_to_the_working_folder_while_one_part_is_graded_is_gone_in_the_next(batch):
    """sigmoid writes ./written-in-a-part.txt while it is graded; error_term adds 1002 when it is there."""
    assert scores(batch, "carry-probe")["error_term"] == 2, seen(batch, "carry-probe")


def test_a_global_set_while_one_part_is_graded_is_gone_in_the_next(batch):
    """sigmoid sets MARKED_IN_A_PART while it is graded; update_weights adds 1003 when it is set."""
    assert scores(batch, "carry-probe")["update_weights"] == 2, seen(batch, "carry-probe")


def test_nothing_a_part_left_reaches_the_training(batch):
    """The training part too starts from the notebook's state: none of the three marks is there (each
    would make a function of the training add its code)."""
    assert scores(batch, "carry-probe")["training"] == 4, seen(batch, "carry-probe")


def test_what_the_notebook_wrote_before_grading_is_there_in_every_part(batch):
    """Right functions that add 2001/2002/2003 when a file the notebook wrote in the working folder or in
    /tmp, or a global it set, is missing: full marks, every part saw them."""
    assert scores(batch, "notebook-files") == FULL, seen(batch, "notebook-files")
    assert scores(batch, "carry-probe")["sigmoid"] == 2, seen(batch, "carry-probe")


# -- C. the grader's memory -----------------------------------------------------------------------------------


def test_the_graders_memory_stays_bounded(batch):
    """(N, N) from a list beside an (N, 1) array, a list times 200,000,000: not in the grader."""
    assert 0 < batch.peak_mb < MEMORY_LIMIT_MB, f"a grader process reached {batch.peak_mb:.0f} MB"


def test_an_attack_on_the_graders_memory_costs_nothing_to_the_parts_that_do_not_make_it(batch):
    """Their functions are right; the question is asked while sigmoid (memory-broadcast) or sigmoid_prime
    (memory-repeat) is graded, and only when the grader's function is the one it calls. Whether a refused
    question costs that part is the grader's choice; every other part keeps its points."""
    for student, asking in (("memory-broadcast", "sigmoid"), ("memory-repeat", "sigmoid_prime")):
        assert {**scores(batch, student), asking: 2} == FULL, seen(batch, student)


# -- D. what isolation fixed ------------------------------------------------------------------------------------


def test_a_wrong_helper_costs_only_itself_and_the_training(batch):
    """sigmoid_prime = x (1 - x); error_term, right, keeps its points with the reference's sigmoid_prime."""
    expected = {**FULL, "sigmoid_prime": 0, "training": 0}
    assert scores(batch, "isolated-slope-of-input") == expected, seen(batch, "isolated-slope-of-input")


def test_a_right_function_asking_about_one_element_at_a_time_keeps_its_points(batch):
    """error_term calls sigmoid_prime once per element (400 questions for a (8, 50) input), beside a
    wrong sigmoid_prime: as many questions as its arguments hold numbers is not an attack."""
    expected = {**FULL, "sigmoid_prime": 0, "training": 0}
    assert scores(batch, "isolated-element-by-element") == expected, seen(batch, "isolated-element-by-element")


def test_a_scalar_only_sigmoid_costs_only_sigmoid_and_the_training(batch):
    """math.exp: numbers work, arrays do not; sigmoid_prime and error_term keep their points."""
    got = scores(batch, "isolated-scalar-sigmoid")
    assert got["sigmoid"] < 2 and {**got, "sigmoid": 0} == {**FULL, "sigmoid": 0, "training": 0}, \
        seen(batch, "isolated-scalar-sigmoid")

"""The acceptance test of nbgrader's whole course cycle with our grader in the middle.

Instructors keep nbgrader's cycle (db, generate/release, fetch, submit, collect, feedback, export,
formgrader) and replace only `nbgrader autograde` by `autograder grade ... --gradebook`. The cycle runs
once, with real nbgrader commands, a real SQLite gradebook and a temporary exchange (tests/nbgrader_course.py);
each test checks one step, so a failure names the step that broke. alice answers everything right and
adds a cell of her own (a printed line and a plot); bob's sigmoid is wrong and he submits after the due date.
"""

from __future__ import annotations

import base64
import csv
import re

import nbformat
import pytest
from matplotlib import image

from nbgrader_course import (ASSIGNMENT, COURSE_ID, LATE_PENALTY, NOTEBOOK, OWN_CELL, STUDENTS, Cycle, Rendered,
                             cell, chromium, formgrade_html, output_areas, recorded_cells, render, run_cycle,
                             submissions, text_of_html)

pytestmark = pytest.mark.slow

GRADE_CELLS = {"test_sigmoid": 2.0, "test_sigmoid_prime": 2.0, "test_error_term": 2.0, "test_update_weights": 2.0,
               "test_training": 4.0}
PNG = b"\x89PNG\r\n\x1a\n"
# bob's sigmoid 1 / (1 + e^x) loses the sigmoid part (2) and, since his own functions train the network
# the wrong way, the training part (4): 12 - 2 - 4.
BOB_RAW_SCORE = 6.0


@pytest.fixture(scope="module")
def cycle(tmp_path_factory) -> Cycle:
    return run_cycle(tmp_path_factory.mktemp("cycle"))


def autograded_notebook(cycle: Cycle, student: str) -> nbformat.NotebookNode:
    path = cycle.autograded(student) / NOTEBOOK
    assert path.is_file(), f"`autograder grade --gradebook` left no {path} for the formgrader and " \
                           f"generate_feedback; {cycle.steps['autograder grade'].describe()}"
    return nbformat.read(path, as_version=4)


def graded(cycle: Cycle, student: str) -> dict:
    """The student's submission in the gradebook right after `autograder grade --gradebook`."""
    stored = submissions(cycle.snapshot("graded"))
    assert student in stored, f"no submission of {student} in the gradebook after grading; " \
                              f"{cycle.steps['autograder grade'].describe()}"
    return stored[student]


def collected(cycle: Cycle, student: str, name: str) -> str:
    path = cycle.submitted(student) / name
    assert path.is_file(), f"nbgrader collect left no {path} (test_collect_gives_each_submission_with_its_timestamp)"
    return path.read_text()


def outputs(notebook_cell) -> str:
    return repr([{k: v for k, v in out.items() if k != "data"} for out in notebook_cell.get("outputs", [])])


# 1-3: the instructor sets up the assignment and releases it


def test_the_assignment_is_added_to_the_gradebook(cycle):
    cycle.check("db assignment add")


def test_autograder_release_records_the_notebook_cells_as_nbgrader_does(cycle):
    cycle.check("db assignment add", "autograder release", "generate_assignment")
    ours, nbgraders = recorded_cells(cycle.snapshot("released")), recorded_cells(cycle.snapshot("generated"))
    assert ours, "after `autograder release` the gradebook has no notebook student-admissions: release with the " \
                 "database on, as `nbgrader generate_assignment` does, so the formgrader knows the cells"
    assert ours["kernelspec"], "the gradebook's notebook has no kernelspec after `autograder release`"
    assert ours["source"] and all(checksum for _, _, checksum in ours["source"].values()), \
        f"source cells with their checksums expected after `autograder release`, got {ours['source']}"
    assert {name: points for name, (_, points) in ours["grade"].items()} == GRADE_CELLS
    assert ours == nbgraders, "`autograder release` and `nbgrader generate_assignment` record different cells"


def test_nbgrader_generate_assignment_also_releases(cycle):
    cycle.check("generate_assignment")
    assert sorted(p.name for p in (cycle.course / "release" / ASSIGNMENT).iterdir()) == [NOTEBOOK, "student_data.csv"]


def test_release_assignment_puts_the_release_in_the_exchange(cycle):
    cycle.check("release_assignment")
    outbound = cycle.exchange / COURSE_ID / "outbound" / ASSIGNMENT
    assert sorted(p.name for p in outbound.iterdir()) == [NOTEBOOK, "student_data.csv"]


# 4-6: the students fetch, answer and submit; the instructor collects


def test_each_student_fetches_the_release(cycle):
    for student in STUDENTS:
        cycle.check(f"fetch_assignment {student}")
        fetched = cycle.home(student) / ASSIGNMENT
        assert (fetched / NOTEBOOK).is_file() and (fetched / "student_data.csv").is_file(), \
            f"{student}'s fetched folder holds {sorted(p.name for p in fetched.iterdir())}"


def test_both_submit_bob_after_the_due_date_moved_to_now(cycle):
    cycle.check("submit alice", "db assignment add (due now)", "submit bob")
    inbound = sorted(p.name.split("+")[0] for p in (cycle.exchange / COURSE_ID / "inbound").iterdir())
    assert inbound == ["alice", "bob"]


def test_collect_gives_each_submission_with_its_timestamp(cycle):
    cycle.check("collect")
    for student in STUDENTS:
        folder = cycle.submitted(student)
        assert (folder / NOTEBOOK).is_file(), f"nbgrader collect left no {folder / NOTEBOOK}"
        assert (folder / "timestamp.txt").is_file(), (
            f"nbgrader collect copied only {sorted(p.name for p in folder.iterdir())} to {folder}: without "
            "timestamp.txt no submission is late and release_feedback cannot work. nbgrader's exchange copies "
            "only the files CourseDirectory.include lets through; the course's nbgrader_config.py must let "
            "timestamp.txt and submission_secret.txt through (or not set include at all)")


# 7-8: our grader in place of `nbgrader autograde`


def test_autograder_grade_into_the_gradebook_succeeds(cycle):
    cycle.check("autograder grade")


def test_alice_has_full_marks_and_no_penalty(cycle):
    alice = graded(cycle, "alice")
    assert (alice["score"], alice["max_score"]) == (12.0, 12.0), alice
    assert (alice["total_seconds_late"], alice["late_submission_penalty"]) == (0, 0.0), alice


def test_bob_loses_his_sigmoid_and_pays_the_courses_late_penalty(cycle):
    bob = graded(cycle, "bob")
    assert (bob["score"], bob["max_score"]) == (BOB_RAW_SCORE, 12.0), bob
    assert bob["timestamp"] is not None and bob["total_seconds_late"] > 0, \
        f"bob submitted after the due date, but the gradebook has his submission time {bob['timestamp']}: {bob}"
    assert bob["late_submission_penalty"] == LATE_PENALTY, \
        f"the course's plugin (AssignLatePenalties.plugin_class = OnePointLate) charges {LATE_PENALTY}: {bob}"


# 9: what the formgrader and generate_feedback read


def test_the_autograded_folder_holds_what_nbgrader_autograde_leaves(cycle):
    release = cycle.course / "release" / ASSIGNMENT
    for student in STUDENTS:
        folder = cycle.autograded(student)
        autograded_notebook(cycle, student)
        for name in ("timestamp.txt", "submission_secret.txt"):  # release_feedback reads both
            expected = collected(cycle, student, name)
            assert (folder / name).is_file(), f"no {folder / name} (nbgrader autograde copies it from submitted/)"
            assert (folder / name).read_text() == expected, folder / name
        assert (folder / "student_data.csv").read_bytes() == (release / "student_data.csv").read_bytes()


def test_the_autograded_notebook_keeps_the_nbgrader_cell_metadata(cycle):
    for student in STUDENTS:
        notebook = autograded_notebook(cycle, student)
        nbformat.validate(notebook)
        for grade_id, points in GRADE_CELLS.items():
            metadata = cell(notebook, grade_id).metadata.nbgrader
            assert metadata.get("grade") and metadata.get("points") == points, (student, grade_id, metadata)
        for grade_id in ("sigmoid", "sigmoid_prime", "error_term", "update_weights"):
            assert cell(notebook, grade_id).metadata.nbgrader.get("solution"), (student, grade_id)


def test_alices_own_cell_keeps_its_printed_line_and_its_plot(cycle):
    own = [c for c in autograded_notebook(cycle, "alice").cells if c.source == OWN_CELL]
    assert len(own) == 1, "alice's own cell (no nbgrader metadata) is missing from her autograded notebook"
    outs = own[0].get("outputs", [])
    assert any(o.output_type == "stream" and "alice was here" in o.text for o in outs), \
        f"alice's cell should have printed 'alice was here'; its outputs: {outputs(own[0])}"
    images = [o.data["image/png"] for o in outs if o.output_type in ("display_data", "execute_result")
              and "image/png" in o.get("data", {})]
    assert len(images) == 1, f"alice's cell should have shown one PNG plot; its outputs: {outputs(own[0])}"
    assert base64.b64decode(images[0]).startswith(PNG)


def test_bobs_failing_visible_check_shows_its_assertion_error(cycle):
    check = cell(autograded_notebook(cycle, "bob"), "test_sigmoid")
    errors = [o for o in check.get("outputs", []) if o.output_type == "error"]
    assert [e.ename for e in errors] == ["AssertionError"], \
        f"bob's wrong sigmoid fails the master's check test_sigmoid; that cell's outputs: {outputs(check)}"


# 10-11: feedback to the students


def test_feedback_is_generated_and_released(cycle):
    cycle.check("generate_feedback", "release_feedback")
    for student in STUDENTS:
        folder = cycle.course / "feedback" / student / ASSIGNMENT
        held = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
        assert {f"{ASSIGNMENT}.html", "timestamp.txt", "submission_secret.txt"} <= set(held), \
            f"{folder} holds {held}: release_feedback reads the page, timestamp.txt and submission_secret.txt"
    released = list((cycle.exchange / COURSE_ID / "feedback").glob("*.html"))
    assert len(released) == len(STUDENTS), released


def test_alice_fetches_her_feedback_with_her_score(cycle):
    cycle.check("release_feedback", "fetch_feedback alice")
    feedback = cycle.home("alice") / ASSIGNMENT / "feedback"
    pages = sorted(feedback.glob(f"*/{ASSIGNMENT}.html"))
    assert len(pages) == 1, \
        f"`nbgrader fetch_feedback` gave alice {pages}:\n{cycle.steps['fetch_feedback alice'].output}"
    assert pages[0].parent.name == collected(cycle, "alice", "timestamp.txt").strip()
    text = text_of_html(pages[0].read_text())  # ours: generate_feedback leaves a folder that holds a page
    assert "Feedback for alice" in text and re.search(r"Total: 12 / 12\b", text), \
        f"alice's feedback page is not ours with her 12 / 12: {text[:500]}"


# 12-13: the grades leave, and releasing again keeps them


def test_nbgrader_export_has_our_scores_and_the_penalty(cycle):
    cycle.check("export")
    with open(cycle.course / "grades.csv", newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    columns = ("raw_score", "late_submission_penalty", "score", "max_score")
    assert {student: tuple(float(row[c]) for c in columns) for student, row in rows.items()} == {
        "alice": (12.0, 0.0, 12.0, 12.0),
        "bob": (BOB_RAW_SCORE, LATE_PENALTY, BOB_RAW_SCORE - LATE_PENALTY, 12.0)}


def test_generating_the_assignment_again_keeps_the_scores(cycle):
    cycle.check("generate_assignment again")
    before = submissions(cycle.snapshot("graded"))
    assert before, f"nothing graded to keep; {cycle.steps['autograder grade'].describe()}"
    assert submissions(cycle.snapshot("regenerated")) == before


# 14: the formgrader's page of each autograded notebook, rendered by Chromium


@pytest.fixture(scope="module")
def formgrader_pages(cycle, tmp_path_factory) -> dict[str, Rendered]:
    browser = chromium()
    folder = tmp_path_factory.mktemp("formgrader")
    pages = {}
    for student in STUDENTS:
        autograded_notebook(cycle, student)
        page = folder / f"{student}.html"
        page.write_text(formgrade_html(cycle, student))
        pages[student] = render(browser, page)
    return pages


def test_the_formgrader_shows_alices_printed_line_and_plot(formgrader_pages):
    cells = formgrader_pages["alice"].dom.split('<div class="cell ')
    printed = [c for c in cells if any("alice was here" in text for text in output_areas(c, "output_stdout"))]
    assert len(printed) == 1, "the formgrader page of alice shows no output 'alice was here'; its printed " \
                              f"outputs: {[t for c in cells for t in output_areas(c, 'output_stdout')]}"
    assert re.search(r'<img [^>]*src="data:image/png;base64,', printed[0]), \
        "the formgrader page of alice shows no plot under her printed line"


def test_the_formgrader_shows_bobs_assertion_error(formgrader_pages):
    errors = output_areas(formgrader_pages["bob"].dom, "output_error")
    assert any("AssertionError" in text for text in errors), \
        f"the formgrader page of bob shows no AssertionError output; its error outputs: {errors}"


def test_the_formgrader_has_a_score_box_for_every_grade_cell(formgrader_pages):
    for student, rendered in formgrader_pages.items():
        for grade_id, points in GRADE_CELLS.items():
            assert re.search(rf'<input class="score tabbable" id="{grade_id}"[^>]*>\s*/\s*{points}', rendered.dom), \
                f"the formgrader page of {student} has no score box '/ {points}' for the grade cell {grade_id}"


def test_the_formgrader_pages_are_not_blank(formgrader_pages):
    for student, rendered in formgrader_pages.items():
        pixels = image.imread(rendered.screenshot)
        assert pixels.shape[:2] == (1600, 1200)
        assert pixels[..., :3].std() > 0.05, f"the screenshot of {student}'s formgrader page is blank"

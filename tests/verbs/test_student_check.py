"""`autograder check`: students run the public checks; nothing about the hidden tests comes out."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.verbs.student_check import CheckReport, find_assignment, format_report, run_checks
from autograder.course.config import load_assignment
from autograder.errors import UsageError
from autograder.grade import Grader
from conftest import REPO
from answers import GRADIENT_DESCENT as ANSWERS
from hostile_notebooks import hostile, nested
from toycourse import make_course

NAME = "gradient-descent"
CORRECT = ANSWERS  # right answers, as in the suite's own tests
# Right on the public inputs (numbers), wrong on hidden ones (arrays), and so in training.
WRONG = dict(CORRECT, sigmoid="def sigmoid(x):\n    x = np.clip(x, -30, 30)\n"
                              "    return 1 / (1 + np.exp(-x)) if np.ndim(x) == 0 else np.tanh(x)")


@pytest.fixture(scope="module")
def assignment():
    return load_assignment(NAME, REPO)


@pytest.fixture(scope="module")
def grader(assignment):
    with Grader(assignment) as grader:
        yield grader


@pytest.fixture(scope="module")
def suite(grader):
    return grader.collected()


def released_with(assignment, answers: dict[str, str], path):
    notebook = nbformat.read(assignment.release_notebook, as_version=4)
    for cell in notebook.cells:
        name = cell.metadata.get("nbgrader", {}).get("grade_id")
        if name in answers:
            cell.source = answers[name]
    nbformat.write(notebook, path)
    return path


def check_cli(path, *options: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "AUTOGRADER_COURSE"}
    return subprocess.run([sys.executable, "-m", "autograder", "check", str(path), *options], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_assignment_comes_from_the_option_the_metadata_or_the_file_name(assignment, tmp_path):
    renamed = tmp_path / "my work.ipynb"
    renamed.write_bytes(assignment.release_notebook.read_bytes())
    assert find_assignment(renamed, REPO).name == NAME  # metadata
    plain = nbformat.read(assignment.release_notebook, as_version=4)
    del plain.metadata["autograder"]
    nbformat.write(plain, tmp_path / "gradient-descent.ipynb")
    assert find_assignment(tmp_path / "gradient-descent.ipynb", REPO).name == NAME  # file name
    nbformat.write(plain, renamed)
    with pytest.raises(UsageError, match=r"cannot tell which assignment my work.ipynb belongs to; pass --assignment"):
        find_assignment(renamed, REPO)
    assert find_assignment(renamed, REPO, "student-admissions").name == "student-admissions"
    with pytest.raises(UsageError, match="no such notebook"):
        find_assignment(tmp_path / "missing.ipynb", REPO)


@pytest.mark.parametrize("text", [
    hostile("metadata", nested(20_000)), hostile("metadata", '"x"'), hostile("metadata.autograder", '"x"'),
    hostile("metadata.autograder", "[1]"), hostile("metadata.autograder.assignment", '{"a": 1}'),
    hostile("metadata.autograder.assignment", "null"), hostile("metadata.autograder", "9" * 5000),
    b"[1]", b'"x"', b"\xff\xfe", b"[" * 50_000],
    ids=["nesting-20000", "metadata-text", "autograder-text", "autograder-list", "assignment-object",
         "assignment-null", "number-of-5000-digits", "a-list", "a-string", "not-utf8", "truncated-nesting"])
def test_hostile_metadata_leaves_the_file_name_to_tell(tmp_path, text):
    path = tmp_path / f"{NAME}.ipynb"
    path.write_bytes(text)
    assert find_assignment(path, REPO).name == NAME


def test_both_released_notebooks_name_their_assignment():
    for name in ("student-admissions", NAME):
        released = REPO / "release" / name / f"{name}.ipynb"
        assert json.loads(released.read_text())["metadata"]["autograder"] == {"assignment": name}


@pytest.mark.slow
def test_only_the_public_tests_run_and_they_keep_their_grading_points(assignment, grader, suite, tmp_path):
    path = released_with(assignment, CORRECT, tmp_path / "student.ipynb")
    public = grader.grade("student", path, only_visible=True)
    full = grader.grade("student", path)
    visible = {(o.part, o.name) for o in suite if o.visible}
    assert visible and len(visible) < len(suite)
    assert {(p.name, t.name) for p in public.parts for t in p.tests} == visible
    points = {(p.name, t.name): t.max_points for p in full.parts for t in p.tests}
    assert all(t.max_points == points[(p.name, t.name)] for p in public.parts for t in p.tests)
    assert public.status == "graded" and all(t.outcome == "passed" for p in public.parts for t in p.tests)


@pytest.mark.slow
def test_check_on_a_correct_notebook(assignment, suite, tmp_path):
    result = check_cli(released_with(assignment, CORRECT, tmp_path / "student.ipynb"))
    assert result.returncode == 0, result.stderr
    visible = [o for o in suite if o.visible]
    assert f"{len(visible)} of {len(visible)} public checks passed" in result.stdout
    for outcome in suite:
        assert (outcome.description in result.stdout) == outcome.visible, outcome.name
    assert "FAIL" not in result.stdout


@pytest.mark.slow
def test_check_on_a_wrong_notebook_reveals_nothing_hidden(assignment, grader, suite, tmp_path):
    path = released_with(assignment, WRONG, tmp_path / "student.ipynb")
    graded = grader.grade("student", path)
    hidden_failures = [t for p in graded.parts for t in p.tests
                       if t.outcome != "passed" and (p.name, t.name) not in {(o.part, o.name) for o in suite if o.visible}]
    assert hidden_failures, "the wrong notebook must fail hidden tests for this test to mean anything"

    result = check_cli(path, "--assignment", NAME)
    assert result.returncode == 1, result.stderr
    out = result.stdout
    assert "FAIL  the mean log-loss goes down" in out and "after epoch 1 is nan" in out  # a public check's feedback
    for test in hidden_failures:
        assert test.feedback not in out and test.name not in out and test.description not in out
    hidden = [o for o in suite if not o.visible]
    assert all(o.name not in out and o.description not in out for o in hidden)
    assert "hidden" not in out.lower()
    for count in {len(hidden), len(suite)}:  # no "N tests", "of N", "N checks" for the hidden or all tests
        assert not re.search(rf"\b{count} (tests|checks)|\bof {count}\b", out), count
    assert "points" not in out


@pytest.mark.slow
def test_check_on_the_stubs_fails_with_feedback(assignment, tmp_path):
    report = run_checks(assignment, assignment.release_notebook)
    assert not report.passed and report.status == "graded"
    assert {c.outcome for c in report.checks} == {"failed"}
    assert all("this function is not written yet" in c.feedback for c in report.checks)
    text = format_report(report)
    assert "0 of" in text and "cell" in text and "NotImplementedError" in text
    assert CheckReport.from_dict(json.loads(json.dumps(report.to_dict()))) == report


def folder_posing_as_a_suite(folder, course):
    """A folder outside the course made to look like a hidden suite: its conftest.py copies the course's
    reference out, its notebook (master and release alike) names the folder as its assignment."""
    folder.mkdir()
    (folder / "assignment.toml").write_text('[assignment]\nnotebook = "mine.ipynb"\nreference = "toy"\n'
                                            "[parts]\nsquare = 1\n")
    (folder / "conftest.py").write_text(f"import pathlib\npathlib.Path({str(folder / 'leaked.txt')!r}).write_text("
                                        f"pathlib.Path({str(course.root / 'solutions' / 'toy.py')!r}).read_text())\n")
    notebook = nbformat.read(course.release, as_version=4)
    notebook.metadata["autograder"] = {"assignment": ""}
    return notebook


@pytest.mark.parametrize("named", ["absolute", "relative"])
def test_a_notebook_naming_a_folder_as_its_assignment_runs_nothing_of_it(tmp_path, named):
    course = make_course(tmp_path / "course")
    notebook = folder_posing_as_a_suite(tmp_path / "mine", course)
    notebook.metadata["autograder"]["assignment"] = str(tmp_path / "mine") if named == "absolute" else "../../mine"
    nbformat.write(notebook, tmp_path / "mine" / "mine.ipynb")
    env = {k: v for k, v in os.environ.items() if k != "AUTOGRADER_COURSE"}
    done = subprocess.run([str(Path(sys.executable).parent / "autograder"), "--course", str(course.root), "check",
                           str(tmp_path / "mine" / "mine.ipynb")], env=env, capture_output=True, text=True,
                          timeout=120)
    assert not (tmp_path / "mine" / "leaked.txt").exists()
    assert done.returncode == 2, done.stdout + done.stderr
    assert "is not an assignment name" in done.stderr and "letters, digits" in done.stderr


@pytest.mark.parametrize("name", ["../toy", "/etc", "toy/../toy", ".hidden", "", "a" * 101, "toy\n", "tôy"])
def test_an_assignment_name_from_the_metadata_or_the_option_is_a_plain_folder_name(tmp_path, name):
    course = make_course(tmp_path / "course")
    notebook = nbformat.read(course.release, as_version=4)
    notebook.metadata["autograder"] = {"assignment": name}
    nbformat.write(notebook, tmp_path / "toy.ipynb")
    if name:  # an empty name in the metadata names none: the file name tells
        with pytest.raises(UsageError, match="is not an assignment name"):
            find_assignment(tmp_path / "toy.ipynb", course.root)
    with pytest.raises(UsageError, match="is not an assignment name"):
        find_assignment(tmp_path / "toy.ipynb", course.root, name or ".")

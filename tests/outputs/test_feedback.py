"""Feedback pages: what a student reads, built from real grading runs of the toy course, rendered by Chromium."""

from __future__ import annotations

import base64
import html
import re
import shutil
import subprocess
from xml.etree import ElementTree

import nbformat
import numpy as np
import pytest
from matplotlib import image

from autograder.course.config import load_assignment
from autograder.errors import StorageError
from autograder.outputs.feedback import feedback_path, render, write_all, write_feedback
from autograder.grade import Grader
from autograder.results import SubmissionResult

from conftest import REPO
from full_disk import fill, small_filesystem
from toybatch import toy_graded  # noqa: F401  (the fixture)
from toycourse import make_course

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def graded(toy_graded, tmp_path_factory):
    course, report = toy_graded
    pages = write_all(course.assignment(), report, tmp_path_factory.mktemp("feedback"))
    return course, report, {path.parent.parent.name: path for path in pages}


def text_of(path) -> str:
    """The page's visible text, tags and runs of white space as single spaces."""
    body = path.read_text().split("<body>", 1)[1]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def test_pages_follow_nbgrader_feedback_layout(graded):
    course, report, pages = graded
    assert sorted(pages) == ["alice", "bob", "carol", "dan"]
    for student, path in pages.items():
        assert path == feedback_path(path.parents[2], course.assignment(), student)
        assert path.relative_to(path.parents[2]).parts == (student, "toy", "toy.html")


def test_recorded_curve_travels_with_the_result(graded):
    _, report, _ = graded
    bob = next(s for s in report.submissions if s.student == "bob")
    curve = bob.artifacts["square_curve"]
    assert curve["student"][:3] == [2.0, 4.0, 6.0] and curve["reference"][:3] == [1.0, 4.0, 9.0]
    assert SubmissionResult.from_dict(bob.to_dict()).artifacts == bob.artifacts


def test_wrong_values_show_call_result_and_expected(graded):
    _, _, pages = graded
    page = pages["bob"].read_text()
    text = text_of(pages["bob"])
    assert "Total: 0 / 3" in text
    assert "square of a single number" in text
    assert "Call square(3.0) Your result 6.0 Expected 9.0" in text
    assert "not yet" in text
    assert len(re.findall(r'<img [^>]*src="data:image/svg\+xml;base64,', page)) == 1


def test_the_students_own_line_is_shown_where_their_code_raised(graded):
    _, _, pages = graded
    text = text_of(pages["carol"])
    assert "NameError" in text
    assert "Your code raised the error here:" in text
    assert "cell 3, line 2, in square: y = undefined_name" in text


def test_passed_and_failed_tests_of_a_partial_answer(graded):
    _, _, pages = graded
    text = text_of(pages["dan"])
    assert "Total: 1 / 3" in text
    assert "✔ square of a single number (1 / 1)" in text
    assert "✘ square of an array (0 / 1)" in text
    alice = text_of(pages["alice"])
    assert "Total: 3 / 3" in alice and "✔ passed" in alice and "✘" not in alice


def test_the_plot_is_an_svg_image_of_both_curves(graded):
    _, report, pages = graded
    uri = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', pages["bob"].read_text())[1]
    chart = ElementTree.fromstring(base64.b64decode(uri))
    lines = chart.findall("{http://www.w3.org/2000/svg}polyline")
    student = [line for line in lines if line.get("stroke") == "#d9480f"]
    reference = [line for line in lines if line.get("stroke-dasharray")]
    bob = next(s for s in report.submissions if s.student == "bob").artifacts["square_curve"]
    assert len(student) == 1 and len(reference) == 1
    assert len(student[0].get("points").split()) == len(bob["student"])  # every value drawn
    texts = [t.text for t in chart.iter("{http://www.w3.org/2000/svg}text")]
    assert "your code" in texts and "expected" in texts


def secret_lines(files, released_notebook) -> set[str]:
    """Lines of hidden tests and solutions, less those students have anyway (the released notebook's)."""
    public = {line.strip() for cell in nbformat.read(released_notebook, as_version=4).cells
              for line in cell.source.splitlines()}
    return {line.strip() for path in files for line in path.read_text().splitlines()
            if len(line.strip()) >= 8} - public


def assert_no_line_of(lines: set[str], page) -> None:
    assert lines
    text = page.read_text()
    for shown in (text, html.unescape(text)):
        leaked = [line for line in lines if line in shown]
        assert not leaked, f"{page}: {leaked[:3]}"


def test_no_hidden_test_or_solution_line_reaches_a_page(graded):
    course, _, pages = graded
    lines = secret_lines([course.suite_dir / "test_square.py", course.root / "solutions" / "toy.py",
                          *REPO.glob("solutions/*.py"), *REPO.glob("assignments/*/*.py")], course.release)
    for page in pages.values():
        assert_no_line_of(lines, page)


def test_the_released_stubs_of_student_admissions_get_a_page_without_hidden_code(tmp_path):
    assignment = load_assignment("student-admissions", REPO)
    with Grader(assignment) as grader:
        result = grader.grade("stubs", assignment.release_notebook)
    page = write_feedback(assignment, result, tmp_path)
    assert page == tmp_path / "stubs" / "student-admissions" / "student-admissions.html"
    text = text_of(page)
    assert "Total: 0 / 12" in text and "NotImplementedError" in text and "Your code raised the error here:" in text
    assert [part.name for part in result.parts] == list(assignment.parts)
    assert all(f"{part}: 0 / {points:g}" in text for part, points in assignment.parts.items())
    assert_no_line_of(secret_lines([*REPO.glob("solutions/*.py"), *REPO.glob("assignments/*/*.py")],
                                   assignment.release_notebook), page)


def test_a_student_id_cannot_climb_out_of_the_feedback_folder(tmp_path, graded):
    course, _, _ = graded
    assert feedback_path(tmp_path, course.assignment(), "../../x").is_relative_to(tmp_path)
    assert feedback_path(tmp_path, course.assignment(), "..").parent.parent.parent == tmp_path


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    pytest.skip("Chromium is not installed (`apt-get install -y chromium`); the page is not rendered")


def test_a_page_renders_in_headless_chromium(graded, tmp_path):
    browser = chromium()
    _, _, pages = graded
    shot = tmp_path / "bob.png"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}",
                    "--window-size=1000,1400", "--disable-background-networking", "--disable-component-update",
                    "--no-first-run", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
                    pages["bob"].as_uri()], check=True, capture_output=True, timeout=60)
    pixels = image.imread(shot)
    assert pixels.shape[:2] == (1400, 1000)
    assert pixels[..., :3].std() > 0.05  # text, boxes and the plot: not a blank page
    rows_with_ink = (pixels[..., :3].min(axis=2) < 0.5).any(axis=1)
    assert rows_with_ink[:200].any() and rows_with_ink[700:].any()  # the heading at the top, the plot further down
    orange = (np.abs(pixels[..., 0] - 0xd9 / 255) < 0.08) & (np.abs(pixels[..., 1] - 0x48 / 255) < 0.08)
    assert orange.sum() > 50  # the student's curve, drawn by the browser from the page's SVG


def test_values_no_plot_can_draw_leave_the_page_without_that_plot(graded):
    course, report, _ = graded
    result = SubmissionResult.from_dict(report.submissions[0].to_dict())
    result.artifacts = {"loss_curve": {"student": [1.7e308, -1.7e308, 1.7e308], "reference": [1.0, 0.5, 0.25],
                                       "title": "training loss"}}
    page = render(course.assignment(), result)  # a student's loss of 1.7e308 used to raise in matplotlib
    assert "Total:" in page and "data:image/" not in page


def test_a_page_the_full_disk_refuses_leaves_no_temporary_file_and_the_page_before(tmp_path):
    course = make_course(tmp_path / "course")
    result = SubmissionResult(student="ada", notebook="ada.ipynb", status="graded", score=3.0, max_score=3.0)
    with small_filesystem(tmp_path / "disk") as disk:
        before = write_feedback(course.assignment(), result, disk)  # a page from an earlier batch
        fill(disk)
        for student in ("ada", "bob"):
            with pytest.raises(StorageError) as refused:
                write_feedback(course.assignment(), SubmissionResult(**{**result.__dict__, "student": student,
                                                                       "score": 1.0}), disk)
            kept = "the page written before is left as it was" if student == "ada" else "no page was written"
            assert str(refused.value) == (f"could not write {disk}/{student}/toy/toy.html: the disk is full (No space "
                                          f"left on device); {kept}; free some space and grade again")
        assert sorted(path.name for path in disk.rglob("*") if path.is_file()) == ["ballast", "toy.html"]
        assert "Total: 3 / 3" in before.read_text()

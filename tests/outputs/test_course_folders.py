"""nbgrader's autograded/ and feedback/ folders, written from a graded submission of the course's submitted/ tree."""

from __future__ import annotations

import hashlib
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output

from autograder.outputs.course_folders import CourseFolders
from autograder.errors import SubmissionFilesError
from autograder.outputs.executed import executed_notebook
from autograder.results import NbgraderFiles, SubmissionResult
from autograder.running.nbgrader_files import read_files

from toycourse import make_course

STAMP = b"2026-11-20 09:15:00.123456 UTC\n"
SECRET = b"9f2c" * 32  # as nbgrader's submit writes it: secrets.token_hex(64), no newline


@pytest.fixture
def course(tmp_path):
    course = make_course(tmp_path)
    (course.release.parent / "sides.csv").write_text("side\n3\n")  # a data file of the release
    return course


def submit(course, student: str, nb: nbformat.NotebookNode, stamp: bytes | None = STAMP,
           secret: bytes | None = SECRET) -> SubmissionResult:
    """The notebook as nbgrader's collect leaves it, and its result as the grader made it (nbgrader's files
    read with the notebook)."""
    folder = course.root / "submitted" / student / "toy"
    folder.mkdir(parents=True)
    path = folder / "toy.ipynb"
    nbformat.write(nb, path)
    if stamp is not None:
        (folder / "timestamp.txt").write_bytes(stamp)
    if secret is not None:
        (folder / "submission_secret.txt").write_bytes(secret)
    return SubmissionResult(student=student, notebook=str(path), status="graded", score=3.0, max_score=3.0,
                            sha256=hashlib.sha256(path.read_bytes()).hexdigest(), outputs={},
                            nbgrader_files=read_files(folder))


def graded_bytes(result: SubmissionResult) -> bytes:
    return Path(result.notebook).read_bytes()


def released(course, answer: str = "def square(x):\n    return x * x") -> nbformat.NotebookNode:
    return course.answered(answer)


def test_the_executed_notebook_is_the_submission_restored_with_the_workers_outputs(course):
    nb = released(course)
    nb.cells[1].source = "SIDE = 100.0"  # the read-only provided cell, changed by the student
    nb.cells[2].metadata["nbgrader"]["points"] = 100  # their answer cell, made to look worth more
    nb.cells[2].outputs = [new_output("stream", name="stdout", text="all tests passed!")]  # an output of their own
    nb.cells.append(new_code_cell("print('mine')", metadata={"nbgrader": {"grade_id": "square", "grade": True}}))
    nb.cells.append(new_markdown_cell("<img src=x onerror=alert(1)> [see](javascript:alert(2)) ```` ok"))
    outputs = {"2": [new_output("stream", name="stdout", text="side set\n")],
               "3": [new_output("execute_result", data={"text/plain": "9.0"})]}
    executed = executed_notebook(nbformat.writes(nb).encode(), course.master_node(), outputs)
    nbformat.validate(executed)
    master = course.master_node()
    assert executed.cells[1].source == master.cells[1].source  # restored, as it ran
    assert executed.cells[2].metadata["nbgrader"] == master.cells[2].metadata["nbgrader"]
    assert [c.outputs for c in executed.cells if c.cell_type == "code"][:2] == [outputs["2"], [
        dict(outputs["3"][0], execution_count=2)]]
    assert executed.cells[1].execution_count == 1 and executed.cells[3].execution_count is None
    assert "all tests passed!" not in nbformat.writes(executed)
    assert executed.cells[4].metadata == {}  # a second cell claiming the grade_id of an answer
    # shown as written, never rendered: a fence longer than any run of backticks in it
    assert executed.cells[5].source == "`````text\n<img src=x onerror=alert(1)> [see](javascript:alert(2)) ```` ok\n`````"
    assert executed.cells[0].source == master.cells[0].source  # the master's own Markdown as it is
    assert executed.metadata == {key: master.metadata[key] for key in ("kernelspec", "language_info")}


def test_autograded_holds_the_notebook_as_it_ran_its_timestamp_and_the_release_files(course):
    result = submit(course, "alice", released(course))
    result.outputs = {"3": [new_output("stream", name="stdout", text="square looks right\n")]}
    path = CourseFolders(course.assignment()).write_autograded(result, graded_bytes(result))
    folder = course.root / "autograded" / "alice" / "toy"
    assert path == folder / "toy.ipynb"
    written = nbformat.read(path, as_version=4)
    assert written.cells[2].outputs[0]["text"] == "square looks right\n"
    assert (folder / "timestamp.txt").read_bytes() == STAMP
    assert (folder / "submission_secret.txt").read_bytes() == SECRET
    assert (folder / "sides.csv").read_text() == "side\n3\n"


def test_only_a_notebook_in_its_students_own_submitted_folder_has_a_page_in_feedback(course, tmp_path):
    folders = CourseFolders(course.assignment())
    result = submit(course, "bob", released(course))
    assert folders.slot(result) == course.root / "submitted" / "bob" / "toy"
    for other in (dict(student="bob-2"),  # an id the batch made unique: not the folder's name
                  dict(student="../bob"),
                  dict(notebook=str(course.root / "submissions" / "bob.ipynb")),
                  dict(notebook=str(course.root / "submitted" / "bob" / "toy" / "copy.ipynb"))):
        moved = SubmissionResult.from_dict(dict(result.to_dict(), **other))
        assert folders.slot(moved) is None and folders.write_feedback(moved) is None
    assert not (course.root / "feedback").exists()


def test_a_notebook_graded_from_elsewhere_is_in_autograded_for_the_formgrader_under_a_safe_id(course):
    folders = CourseFolders(course.assignment())
    nb = released(course)
    path = course.write("frank", nb)  # submissions/frank.ipynb, as from a folder of notebooks
    result = SubmissionResult(student="frank", notebook=str(path), status="graded", score=3.0, max_score=3.0,
                              sha256=hashlib.sha256(path.read_bytes()).hexdigest())
    written = folders.write_autograded(result, path.read_bytes())
    assert written == course.root / "autograded" / "frank" / "toy" / "toy.ipynb"
    for student in ("../frank", "..", ""):
        moved = SubmissionResult.from_dict(dict(result.to_dict(), student=student))
        assert folders.write_autograded(moved, path.read_bytes()) is None
    assert sorted(p.name for p in (course.root / "autograded").iterdir()) == ["frank"]


def test_autograded_holds_the_notebook_graded_or_none_never_another_submissions(course):
    folders = CourseFolders(course.assignment())
    first = submit(course, "carol", released(course))
    folder = course.root / "autograded" / "carol" / "toy"
    assert folders.write_autograded(first, graded_bytes(first)) == folder / "toy.ipynb"
    # carol submits again (nbgrader's collect --update) while the batch grades her first notebook again
    again = SubmissionResult.from_dict(first.to_dict())
    again.outputs = {}
    path = course.root / "submitted" / "carol" / "toy" / "toy.ipynb"
    path.write_text(path.read_text().replace("x * x", "x ** 2"))
    (path.parent / "timestamp.txt").write_bytes(b"2026-11-21 10:00:00.000000 UTC\n")
    assert folders.write_autograded(again, path.read_bytes()) is None  # not the bytes graded
    assert sorted(p.name for p in folder.iterdir()) == ["sides.csv"]  # none of the first stays beside the new row
    assert folders.write_autograded(again, None) is None  # its notebook can no longer be read (a link, gone)
    assert not (folder / "toy.ipynb").exists()
    # a result of no bytes (a notebook that could not be read, a lost grader process) keeps no earlier copy either
    earlier = submit(course, "ida", released(course))
    folders.write_autograded(earlier, graded_bytes(earlier))
    invalid = SubmissionResult.from_dict(dict(earlier.to_dict(), status="invalid", score=0.0, sha256=""))
    assert folders.write_autograded(invalid, None) is None
    assert not (course.root / "autograded" / "ida" / "toy" / "toy.ipynb").exists()


def test_nbgraders_files_are_those_read_with_the_graded_notebook_never_those_there_now(course):
    folders = CourseFolders(course.assignment())
    result = submit(course, "hana", released(course))
    submitted = course.root / "submitted" / "hana" / "toy"
    (submitted / "timestamp.txt").write_bytes(b"2026-11-21 10:00:00.000000 UTC\n")  # a newer submission's
    (submitted / "submission_secret.txt").write_bytes(b"77" * 64)
    page = folders.write_feedback(result)
    folders.write_autograded(result, graded_bytes(result))
    for folder in (page.parent, course.root / "autograded" / "hana" / "toy"):
        assert (folder / "timestamp.txt").read_bytes() == STAMP
        assert (folder / "submission_secret.txt").read_bytes() == SECRET
    result.nbgrader_files = NbgraderFiles(timestamp="yesterday", secret=SECRET.decode())  # not a time nbgrader reads
    folders.write_autograded(result, graded_bytes(result))
    assert not (course.root / "autograded" / "hana" / "toy" / "timestamp.txt").exists()  # no older one stays
    result.nbgrader_files = None  # the folder changed at every read of the notebook
    with pytest.raises(SubmissionFilesError, match="were not read with its notebook .* grade it again"):
        folders.write_feedback(result)


def test_the_feedback_page_goes_where_release_feedback_looks_with_the_submission_time(course):
    folders = CourseFolders(course.assignment())
    page = folders.write_feedback(submit(course, "dan", released(course)))
    assert page == course.root / "feedback" / "dan" / "toy" / "toy.html"
    assert "Feedback for <b>dan</b>" in page.read_text()
    assert (page.parent / "timestamp.txt").read_bytes() == STAMP
    assert (page.parent / "submission_secret.txt").read_bytes() == SECRET
    # release_feedback would crash on either: no page in feedback/, and a warning that says why
    with pytest.raises(SubmissionFilesError, match="no readable timestamp.txt"):
        folders.write_feedback(submit(course, "erin", released(course), stamp=b"yesterday"))
    with pytest.raises(SubmissionFilesError, match="no readable submission_secret.txt"):
        folders.write_feedback(submit(course, "finn", released(course), secret=b"<script>"))
    with pytest.raises(SubmissionFilesError, match="include"):
        folders.write_feedback(submit(course, "gus", released(course), stamp=None, secret=None))
    assert sorted(p.name for p in (course.root / "feedback").iterdir()) == ["dan"]


def test_the_formgrader_shows_what_a_student_wrote_as_text_never_as_markup(course):
    from nbconvert.exporters import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers
    from traitlets.config import Config

    nb = released(course)
    nb.cells += [new_markdown_cell('<img src=x onerror="alert(1)"> [see](javascript:alert(2)) ![x](http://evil/x.png)'),
                 nbformat.v4.new_raw_cell('<script>alert(3)</script><a href="javascript:alert(4)">raw</a>')]
    result = submit(course, "mallory", nb)
    result.outputs = {"3": [new_output("stream", name="stdout", text="<script>alert(5)</script>\n"),
                            new_output("error", ename="<b>E</b>", evalue="<img src=y onerror=alert(6)>",
                                       traceback=["\x1b[31m<script>alert(7)</script>\x1b[0m"])]}
    path = CourseFolders(course.assignment()).write_autograded(result, graded_bytes(result))
    config = Config()
    config.HTMLExporter.template_name = "formgrade"  # as nbgrader's formgrader renders autograded/
    config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    page, _ = HTMLExporter(config=config).from_filename(str(path), resources={
        "assignment_id": "toy", "notebook_id": "toy", "submission_id": "1", "index": 0, "total": 1,
        "base_url": "/", "student": "mallory", "last_name": None, "first_name": None, "notebook_path": "/x"})
    elements = Elements()
    elements.feed(page)
    assert not [attrs for tag, attrs in elements.found if tag in ("img", "a") and any(
        "javascript:" in (value or "") or "evil" in (value or "") or name == "onerror" for name, value in attrs)]
    assert not [text for text in elements.scripts if "alert(" in text]
    assert "&lt;script&gt;alert(7)" in page and "&lt;script&gt;alert(5)" in page  # outputs, shown as text
    assert "[see](javascript:alert(2))" in page  # the student's Markdown, as written


class Elements(HTMLParser):
    """Every element of a page with its attributes, and the text of its scripts."""

    def __init__(self):
        super().__init__()
        self.found, self.scripts, self.in_script = [], [], False

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, attrs))
        self.in_script = tag == "script"

    def handle_endtag(self, tag):
        self.in_script = False

    def handle_data(self, data):
        if self.in_script:
            self.scripts.append(data)

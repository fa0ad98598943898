"""nbgrader's whole course cycle on a scratch copy of the student-admissions course, `autograder grade` in the middle.

    course/      source/, assignments/, solutions/ and nbgrader_config.py of the repository, plus a course id,
                 the exchange below and a late-submission policy (one point off)
    exchange/    nbgrader's exchange folder (world-writable, as nbgrader asks)
    alice/, bob/ each student's own folder, with a nbgrader_config.py naming the course and the exchange

Every step is a real command (`nbgrader ...`, `autograder ...`) run in its own folder with the venv's
bin first on PATH. A step that fails is recorded, not raised: the cycle goes on, and each test says
which step broke. The gradebook is copied after the steps a test looks back at.
"""

from __future__ import annotations

import datetime
import html
import inspect
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from conftest import REPO, load_solutions

BIN = Path(sys.executable).parent
ASSIGNMENT = "student-admissions"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
COURSE_ID = "course101"
STUDENTS = ("alice", "bob")
ANSWERS = ("sigmoid", "sigmoid_prime", "error_term", "update_weights")  # grade_ids of the answer cells
TIMEOUT = 120  # seconds for any one command
LATE_PENALTY = 1.0  # what the course's OnePointLate plugin charges

COURSE_CONFIG = '''
# Added for the course-cycle test: a course id, the exchange, a late-submission policy.
c.CourseDirectory.course_id = "{course_id}"
c.Exchange.root = "{exchange}"

from nbgrader.plugins import LateSubmissionPlugin


class OnePointLate(LateSubmissionPlugin):
    def late_submission_penalty(self, student_id, score, total_seconds_late):
        return {penalty}


c.AssignLatePenalties.plugin_class = OnePointLate
'''

STUDENT_CONFIG = '''c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "{course_id}"
c.Exchange.root = "{exchange}"
c.Exchange.cache = "{cache}"  # not the shared ~/.local/share/jupyter: every student here is the same OS user
'''

WRONG_SIGMOID = '''def sigmoid(x):
    return 1 / (1 + np.exp(x))'''

OWN_CELL = '''print("alice was here")
import matplotlib.pyplot as plt
plt.plot([0, 1], [0, 1])
plt.show()'''


@dataclass
class Step:
    """One command of the cycle and how it ended (returncode None: it ran out of time)."""

    name: str
    args: list[str]
    cwd: Path
    returncode: int | None
    output: str = field(repr=False)
    seconds: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def describe(self) -> str:
        ended = f"exit {self.returncode} after {self.seconds:.1f} s" if self.returncode is not None \
            else f"no end within {TIMEOUT} s"
        return (f"step '{self.name}' ({' '.join(self.args)} in {self.cwd}): {ended}\n"
                f"--- output ---\n{self.output[-6000:]}")


@dataclass
class Cycle:
    root: Path
    course: Path
    exchange: Path
    steps: dict[str, Step] = field(default_factory=dict, repr=False)

    def home(self, student: str) -> Path:
        return self.root / student

    def submitted(self, student: str) -> Path:
        return self.course / "submitted" / student / ASSIGNMENT

    def autograded(self, student: str) -> Path:
        return self.course / "autograded" / student / ASSIGNMENT

    @property
    def database(self) -> Path:
        return self.course / "gradebook.db"

    def snapshot(self, name: str) -> Path:
        return self.root / "snapshots" / f"{name}.db"

    def take_snapshot(self, name: str) -> None:
        if self.database.is_file():
            self.snapshot(name).parent.mkdir(exist_ok=True)
            shutil.copy(self.database, self.snapshot(name))

    def check(self, *names: str) -> None:
        """Fail with the command, its exit code and its output unless every named step ran and exited 0."""
        for name in names:
            step = self.steps.get(name)
            if step is None:
                pytest.fail(f"step '{name}' never ran")
            assert step.ok, step.describe()

    def run(self, name: str, command: str, *args: str, cwd: Path, student: str | None = None) -> Step:
        # The course is the working folder (not AUTOGRADER_COURSE); AUTOGRADER_SANDBOX and the like are kept.
        env = {key: value for key, value in os.environ.items()
               if key != "AUTOGRADER_COURSE" and not key.startswith(("JUPYTER_", "NBGRADER_"))}
        env["PATH"] = os.pathsep.join([str(BIN), os.environ.get("PATH", "")])
        if student:
            env["USER"] = env["LOGNAME"] = student
        argv, started = [str(BIN / command), *args], time.monotonic()
        try:
            done = subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, timeout=TIMEOUT)
            returncode, output = done.returncode, done.stdout
        except subprocess.TimeoutExpired as expired:
            returncode = None
            output = expired.stdout.decode(errors="replace") if isinstance(expired.stdout, bytes) else expired.stdout
        step = Step(name, [command, *args], cwd, returncode, output or "", time.monotonic() - started)
        self.steps[name] = step
        return step


def make_course(root: Path) -> Cycle:
    """The scratch course, an empty exchange and a folder per student."""
    course, exchange = root / "course", root / "exchange"
    for folder in (f"source/{ASSIGNMENT}", f"assignments/{ASSIGNMENT}", "solutions"):
        shutil.copytree(REPO / folder, course / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    config = (REPO / "nbgrader_config.py").read_text()
    config += COURSE_CONFIG.format(course_id=COURSE_ID, exchange=exchange, penalty=LATE_PENALTY)
    (course / "nbgrader_config.py").write_text(config)
    exchange.mkdir()
    exchange.chmod(0o777)
    for student in STUDENTS:
        home = root / student
        home.mkdir()
        (home / "nbgrader_config.py").write_text(
            STUDENT_CONFIG.format(course_id=COURSE_ID, exchange=exchange, cache=home / ".nbgrader_cache"))
    return Cycle(root, course, exchange)


def reference_answer(function: str) -> str:
    """The reference function's code as a student would type it: the solution markers left out."""
    source = inspect.getsource(getattr(load_solutions("student_admissions"), function))
    return "\n".join(line for line in source.rstrip().splitlines() if "### BEGIN SOLUTION" not in line
                     and "### END SOLUTION" not in line)


def answer(notebook: Path, *, wrong_sigmoid: bool = False, own_cell: bool = False) -> None:
    """Fill in the answer cells as a student does in Jupyter: sources change, the nbgrader metadata stays."""
    nb = nbformat.read(notebook, as_version=4)
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
    for function in ANSWERS:
        cells[function].source = WRONG_SIGMOID if (wrong_sigmoid and function == "sigmoid") \
            else reference_answer(function)
    if own_cell:
        nb.cells.append(new_code_cell(OWN_CELL))
    nbformat.validate(nb)
    nbformat.write(nb, notebook)


def utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f UTC")


def run_cycle(root: Path) -> Cycle:
    """Run the course cycle once, in order; each command is recorded in `cycle.steps` under its name."""
    cycle = make_course(root)
    course = cycle.course
    cycle.run("db assignment add", "nbgrader", "db", "assignment", "add", ASSIGNMENT,
              "--duedate=2999-01-01 00:00:00 UTC", cwd=course)
    cycle.run("autograder release", "autograder", "release", ASSIGNMENT, cwd=course)
    cycle.take_snapshot("released")
    cycle.run("generate_assignment", "nbgrader", "generate_assignment", ASSIGNMENT, "--force", cwd=course)
    cycle.take_snapshot("generated")
    cycle.run("release_assignment", "nbgrader", "release_assignment", ASSIGNMENT, cwd=course)

    for student in STUDENTS:
        home = cycle.home(student)
        cycle.run(f"fetch_assignment {student}", "nbgrader", "fetch_assignment", ASSIGNMENT, cwd=home,
                  student=student)
        if (home / ASSIGNMENT / NOTEBOOK).is_file():
            answer(home / ASSIGNMENT / NOTEBOOK, wrong_sigmoid=student == "bob", own_cell=student == "alice")

    # nbgrader 0.9.6 takes the student id from the OS account (pwd), not $USER: --student names them here.
    cycle.run("submit alice", "nbgrader", "submit", ASSIGNMENT, "--student=alice", cwd=cycle.home("alice"),
              student="alice")
    cycle.run("db assignment add (due now)", "nbgrader", "db", "assignment", "add", ASSIGNMENT,
              f"--duedate={utc_now()}", cwd=course)
    time.sleep(1.5)
    cycle.run("submit bob", "nbgrader", "submit", ASSIGNMENT, "--student=bob", cwd=cycle.home("bob"),
              student="bob")
    cycle.run("collect", "nbgrader", "collect", ASSIGNMENT, cwd=course)

    cycle.run("autograder grade", "autograder", "grade", ASSIGNMENT, "submitted", "--gradebook", cwd=course)
    cycle.take_snapshot("graded")

    cycle.run("generate_feedback", "nbgrader", "generate_feedback", ASSIGNMENT, cwd=course)
    cycle.run("release_feedback", "nbgrader", "release_feedback", ASSIGNMENT, cwd=course)
    cycle.run("fetch_feedback alice", "nbgrader", "fetch_feedback", ASSIGNMENT, "--student=alice",
              cwd=cycle.home("alice"), student="alice")
    cycle.run("export", "nbgrader", "export", "--to=grades.csv", cwd=course)

    cycle.run("generate_assignment again", "nbgrader", "generate_assignment", ASSIGNMENT, "--force", cwd=course)
    cycle.take_snapshot("regenerated")
    return cycle


def submissions(database: Path) -> dict[str, dict]:
    """What nbgrader's gradebook says of each student's submission."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{database}") as gb:
        return {s.student.id: {"score": s.score, "max_score": s.max_score, "timestamp": s.timestamp,
                               "total_seconds_late": s.total_seconds_late,
                               "late_submission_penalty": s.late_submission_penalty}
                for s in gb.assignment_submissions(ASSIGNMENT)}


def recorded_cells(database: Path) -> dict:
    """The notebook's cells as the gradebook records them (what generate_assignment's SaveCells writes)."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{database}") as gb:
        try:
            nb = gb.find_notebook(Path(NOTEBOOK).stem, ASSIGNMENT)
        except MissingEntry:
            return {}
        return {
            "kernelspec": nb.kernelspec,
            "source": {c.name: (c.cell_type, c.locked, c.checksum) for c in nb.source_cells},
            "grade": {c.name: (c.cell_type, c.max_score) for c in nb.grade_cells},
            "solution": sorted(c.name for c in nb.solution_cells),
            "task": {c.name: (c.cell_type, c.max_score) for c in nb.task_cells},
        }


def cell(notebook: nbformat.NotebookNode, grade_id: str) -> nbformat.NotebookNode:
    found = [c for c in notebook.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id]
    assert len(found) == 1, f"expected one cell with nbgrader grade_id {grade_id!r}, found {len(found)}"
    return found[0]


def text_of_html(page: str) -> str:
    """An HTML page's text: tags and runs of white space as single spaces (entities left as they are)."""
    body = page.split("<body", 1)[-1]
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S | re.I)
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


def chromium() -> str:
    """The headless browser the rendering tests use (as tests/outputs/test_feedback.py); skips when there is none."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    pytest.skip("Chromium is not installed (`apt-get install -y chromium`); the formgrader's page is not rendered")


def formgrade_html(cycle: Cycle, student: str) -> str:
    """The page nbgrader's formgrader serves for this submission (handlers.SubmissionHandler), its scripts
    loaded from nbgrader's own static folder; the grades API is not there, so the score boxes stay empty."""
    from nbconvert.exporters import HTMLExporter
    from nbgrader.api import Gradebook
    from nbgrader.server_extensions.formgrader import handlers
    from traitlets.config import Config

    notebook_id = Path(NOTEBOOK).stem
    path = cycle.autograded(student) / NOTEBOOK
    with Gradebook(f"sqlite:///{cycle.database}") as gb:
        listed = [nb for nb in gb.notebook_submissions(notebook_id, ASSIGNMENT)
                  if (cycle.autograded(nb.student.id) / NOTEBOOK).is_file()]
        indices = {nb.id: i for i, nb in enumerate(listed)}
        submission = gb.find_submission_notebook(notebook_id, ASSIGNMENT, student)
        resources = {
            "assignment_id": ASSIGNMENT, "notebook_id": notebook_id, "submission_id": submission.id,
            "index": indices.get(submission.id, -2), "total": len(indices),
            "base_url": Path(handlers.root_path).parent.as_uri(),  # {base_url}/formgrader/static is static_path
            "student": student, "last_name": submission.student.last_name,
            "first_name": submission.student.first_name,
            "notebook_path": "/notebooks/" + str(path.relative_to(cycle.course))}
    config = Config()
    config.HTMLExporter.template_name = "formgrade"
    config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    page, _ = HTMLExporter(config=config).from_filename(str(path), resources=resources)
    return page


def output_areas(dom: str, kind: str) -> list[str]:
    """The text of the page's output areas of one kind (output_stdout, output_error, output_png ...)."""
    return [html.unescape(re.sub(r"<[^>]+>", "", inner)) for classes, inner in
            re.findall(r'<div class="([^"]*output_subarea[^"]*)"[^>]*>(.*?)</div>', dom, flags=re.S)
            if kind in classes.split()]


@dataclass
class Rendered:
    """A formgrader page in headless Chromium: its DOM after the page's scripts ran, and a screenshot."""

    dom: str = field(repr=False)
    screenshot: Path


def render(browser: str, page: Path) -> Rendered:
    """The page in headless Chromium: the DOM once its scripts ran, and a 1200 x 1600 screenshot beside it."""
    common = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--no-first-run", "--disable-sync", "--allow-file-access-from-files",
              f"--user-data-dir={page.parent / 'profile'}", "--virtual-time-budget=5000"]
    dom = subprocess.run([*common, "--dump-dom", page.as_uri()], check=True, capture_output=True, text=True,
                         timeout=60).stdout
    shot = page.with_suffix(".png")
    subprocess.run([*common, f"--screenshot={shot}", "--window-size=1200,1600", page.as_uri()], check=True,
                   capture_output=True, timeout=60)
    return Rendered(dom, shot)

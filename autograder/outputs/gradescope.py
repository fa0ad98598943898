"""A Gradescope autograder for one assignment: `run` grades inside Gradescope (the zip
is gradescope_zip.py's).

The zip holds setup.sh (installs Python and this package with its dependencies),
run_autograder, the package source, and the course files grading needs: the hidden
suite, the solutions, the master and the release. Gradescope unpacks it into
/autograder/source/; for each submission run_autograder grades
/autograder/submission/*.ipynb with the same pipeline as `autograder grade` and writes
/autograder/results/results.json in Gradescope's format, one test per hidden test.
`GRADESCOPE_ROOT` (default /autograder) and `PYTHON` let run_autograder run outside
Gradescope.

Gradescope runs it as root. It grades only in the sandbox unless AUTOGRADER_SANDBOX says
otherwise (set in run_autograder), and then says so in results.json and on its output.
In any case the course files it grades with are copied, before any student code runs, to
a folder of its own that the sandbox does not show, read-only, and the hidden tests are
collected from there first; a file of that copy that changed while the notebook ran
voids the grading (`CourseCopy`).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from .. import settings
from ..course.config import Assignment, load_assignment
from ..errors import AutograderError, UsageError
from ..grade import Grader
from ..results import SubmissionResult
from ..running.launch import Launch, package_dir
from ..running.sandbox import build_launch
from .course_copy import CourseCopy


def submitted_notebook(folder: Path, assignment: Assignment) -> Path:
    """The notebook to grade: the one named like the assignment's, else the only one (or
    the first) found."""
    found = sorted(
        p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
    )
    named = [p for p in found if p.name == assignment.notebook]
    return (named or found or [folder / assignment.notebook])[0]


def results_json(
    result: SubmissionResult, seconds: float, unsandboxed: str = ""
) -> dict:
    """Gradescope's results.json: the score, a summary, and one test per hidden test
    with its feedback; `unsandboxed`: why student code ran without the sandbox, said
    first in the output and as a test."""
    tests = []
    for i, part in enumerate(result.parts, start=1):
        for j, test in enumerate(part.tests, start=1):
            # a known mistake's hint included; on a passed test, a note
            output = test.feedback
            tests.append(
                {
                    "name": f"{part.name}: {test.description or test.name}",
                    "number": f"{i}.{j}",
                    "score": test.points,
                    "max_score": test.max_points,
                    "status": "passed" if test.outcome == "passed" else "failed",
                    "output": output.strip(),
                    "visibility": "visible",
                }
            )
    output = summary(result)
    if unsandboxed:
        warning = without_sandbox(unsandboxed)
        output = f"{warning}\n{output}"
        tests.insert(
            0,
            {
                "name": "Sandbox: none",
                "number": "0",
                "score": 0.0,
                "max_score": 0.0,
                "status": "failed",
                "output": warning,
                "visibility": "visible",
            },
        )
    return {
        "score": result.score,
        "execution_time": max(1, round(seconds)),
        "output": output,
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def without_sandbox(why: str) -> str:
    return (
        f"Graded WITHOUT the sandbox ({why}), as the instructor set "
        f"{settings.SANDBOX}: the notebook ran with the grader's rights. The hidden "
        "tests were taken before it ran and checked after it."
    )


def summary(result: SubmissionResult) -> str:
    lines = [f"Total: {result.score:g} / {result.max_score:g}"]
    if result.status != "graded":
        lines.append(f"{result.status}: {result.message}")
    lines += [f"Note: {note}" for note in result.notes]
    for error in result.cell_errors:
        where = f" at {error['where']}" if error.get("where") else ""
        lines.append(
            f"Cell {error.get('cell')} raised "
            f"{error.get('type') or error.get('status')}: "
            f"{error.get('message', '')}{where}"
        )
    return "\n".join(lines)


def run(root: Path, name: str) -> int:
    """Grade the submission under `root` (Gradescope's /autograder) and write
    results/results.json."""
    started = time.monotonic()
    results = Path(root) / "results" / "results.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    # no .pyc in the course copy: every file in it is checked after grading
    sys.dont_write_bytecode = True
    print(f"grading with the autograder package in {package_dir()}")
    copy = None
    try:
        copy = CourseCopy.make(load_assignment(name, Path(root) / "source" / "course"))
        data, code = grade_copy(Path(root), copy, started)
    except AutograderError as error:
        print(f"not graded: {error}")
        data = {
            "score": 0.0,
            "execution_time": max(1, round(time.monotonic() - started)),
            "tests": [],
            "output": (
                f"The autograder could not grade this submission ({error}); please "
                "tell your instructor."
            ),
        }
        code = 1
    finally:
        if copy is not None:
            copy.remove()
    results.write_text(json.dumps(data, indent=2) + "\n")
    print(f"score {data['score']:g}; results in {results}")
    return code


def grade_copy(root: Path, copy: CourseCopy, started: float) -> tuple[dict, int]:
    """Grade /autograder/submission with the course copy: in the sandbox unless
    AUTOGRADER_SANDBOX allows otherwise, the hidden tests collected before the notebook
    runs, the copy checked after it."""
    assignment = copy.assignment
    launch = sandbox_launch(assignment)
    unsandboxed = "; ".join(launch.missing)
    if unsandboxed:
        print(f"warning: {without_sandbox(unsandboxed)}")
    notebook = submitted_notebook(root / "submission", assignment)
    with Grader(assignment, launch) as grader:
        # the hidden tests are imported now, before any student code runs
        grader.collected()
        result = grader.grade("submission", notebook)
    changed = copy.changed()
    if changed:
        print(
            "not graded: the course's files changed while the notebook ran: "
            f"{', '.join(changed[:10])}"
        )
        return {
            "score": 0.0,
            "execution_time": max(1, round(time.monotonic() - started)),
            "tests": [],
            "output": (
                "Not graded: the course's files changed while your notebook ran. A "
                "notebook may only write in its own folder; please tell your "
                "instructor."
            ),
        }, 1
    if result.status == "invalid" and not notebook.exists():
        result.message = (
            f"no notebook found in your submission; upload {assignment.notebook}"
        )
    return results_json(result, time.monotonic() - started, unsandboxed), 0


def sandbox_launch(assignment: Assignment) -> Launch:
    """The sandbox's launch; a plain process only when AUTOGRADER_SANDBOX is auto or off
    (else a UsageError)."""
    mode = settings.sandbox_mode(default="bwrap")
    launch = build_launch(assignment.release_dir, "auto" if mode == "bwrap" else mode)
    if launch.missing and mode == "bwrap":
        raise UsageError(
            "student code is graded only in the sandbox, which cannot start here "
            f"({'; '.join(launch.missing)}). Instructor: `autograder doctor` in the "
            f"image says why; or set {settings.SANDBOX}=auto in run_autograder to "
            "grade without it (results then say so)"
        )
    return launch


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(f"usage: python -m {__spec__.name} ROOT ASSIGNMENT", file=sys.stderr)
        return 2
    return run(Path(args[0]), args[1])


if __name__ == "__main__":
    sys.exit(main())

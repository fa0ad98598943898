"""Time to feedback on the course service: from the upload to a graded status, on an idle,
warm `autograder serve`, against the floor (the student's own work) and a warm Grader in this
process, both measured in the same run.

The service grades a scratch copy of the course (the repository's own files, nbgrader's
gradebook made fresh, one student on its roster), through the JSON API over loopback, one
submission at a time, waiting for each change of its status as the page does. What it
adds above a warm Grader is the upload (checked, synced to disk, queued), the queue's
claim, the copy into submitted/, the gradebook row, autograded/ and feedback/ pages, and
the answer to the waiting request.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import nbformat  # noqa: E402
from floor import floor_seconds  # noqa: E402
from grade_one import REPO, warm_seconds  # noqa: E402
from servicecourse import Service  # noqa: E402
from variants import VARIANTS, answers_of  # noqa: E402

from autograder.course.config import load_assignment  # noqa: E402
from autograder.service.server import token  # noqa: E402

FINAL = ("graded", "invalid", "timeout", "crashed")
COURSE_FILES = ("assignments", "solutions", "source", "release", "nbgrader_config.py")


def scratch_course(folder: Path) -> Path:
    from nbgrader.api import Gradebook

    # a new gradebook is made by nbgrader's alembic command, beside this Python
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    folder.mkdir(exist_ok=True)
    for name in COURSE_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, folder / name)
    with Gradebook(f"sqlite:///{folder / 'gradebook.db'}") as gradebook:
        gradebook.update_or_create_student("ada")
    return folder


def to_feedback(client: httpx.Client, notebook: Path) -> float:
    started = time.perf_counter()
    with open(notebook, "rb") as handle:
        answer = client.post("/api/submissions", files={"notebook": (notebook.name, handle)},
                             data={"assignment": "student-admissions"})
    status = answer.json()
    while status["status"] not in FINAL:  # answered as the status changes, as a page is
        status = client.get(f"/api/submissions/{status['id']}",
                            params={"seen": status["status"], "wait": 20}).json()
    took = time.perf_counter() - started
    assert status["score"] == status["max_score"], status
    return took


def right_notebook(folder: Path) -> Path:
    """The released notebook with the lesson's right answers (variants.py's "right")."""
    path = folder / "student-admissions.ipynb"
    notebook = nbformat.read(REPO / "release" / "student-admissions" / path.name, as_version=4)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in VARIANTS["right"]:
            cell.source = VARIANTS["right"][grade_id]
    nbformat.write(notebook, path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    assignment = load_assignment("student-admissions", REPO)
    with tempfile.TemporaryDirectory(prefix="service-bench-") as folder:
        args.notebook = right_notebook(Path(folder))
        # the floor of these very functions: the time inside them for the hidden suite
        floor = floor_seconds(assignment.name, answers_of("right"), args.runs)[0]
        warm = statistics.median(warm_seconds(assignment, args.notebook, args.runs)["on"])
        root = scratch_course(Path(folder) / "course")
        service = Service(root, "--jobs", "1")
        try:
            with httpx.Client(base_url=service.url, timeout=60,
                              headers={"Authorization": f"Bearer {token(root, None, 'ada', False)}"}) as ada:
                to_feedback(ada, args.notebook)  # warm up: the grader process, its worker, the reference
                times = [to_feedback(ada, args.notebook) for _ in range(args.runs)]
        finally:
            service.stop()
    median = statistics.median(times)
    print(f"floor (the student's own work, in-process): {floor:.3f} s (median of {args.runs})")
    print(f"warm Grader in this process:                {warm:.3f} s  ({warm - floor:+.3f} s above the floor)")
    print(f"service, upload to graded status:            {median:.3f} s  (min {min(times):.3f}, "
          f"max {max(times):.3f}; {median - floor:+.3f} s above the floor, {median - warm:+.3f} s above "
          "the warm Grader)")
    target = floor + 0.3
    print(f"target: upload to graded <= floor + 0.3 s = {target:.3f} s -> {'met' if median <= target else 'NOT met'}")


if __name__ == "__main__":
    main()

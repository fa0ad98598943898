"""What writing nbgrader's autograded/ notebooks costs: collecting each cell's outputs in the worker
(values, figures, the visible checks run after the suite) and writing the notebook as it ran.

    .venv/bin/python bench/outputs.py [--runs 5] [--assignment student-admissions]

Two warm graders (as in a batch) grade the example submissions in turn, one collecting the outputs
(`Grader(display=True)`, what `grade --gradebook` does for the course's own gradebook) and one not
(the baseline, measured in the same run); then the autograded/ copy of each is written into a
scratch course folder. Printed: the median seconds per submission of each, and the difference.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

from autograder.course.config import load_assignment  # noqa: E402
from autograder.outputs.course_folders import CourseFolders  # noqa: E402
from autograder.grade import Grader  # noqa: E402
from autograder.running.sandbox import build_launch  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--assignment", default="student-admissions")
    args = parser.parse_args()
    assignment = load_assignment(args.assignment, REPO)
    notebooks = sorted((REPO / "examples" / "submissions").glob("*.ipynb"))
    if args.assignment != "student-admissions":
        notebooks = [assignment.release_notebook]
    graders = {shown: Grader(assignment, build_launch(assignment.release_dir), display=shown) for shown in (False, True)}
    times: dict[bool, list[float]] = {False: [], True: []}
    results = []
    try:
        for grader in graders.values():
            grader.grade("warmup", notebooks[0])
        for _ in range(args.runs):
            for notebook in notebooks:
                for shown, grader in graders.items():
                    started = time.perf_counter()
                    result = grader.grade(notebook.stem, notebook)
                    times[shown].append(time.perf_counter() - started)
                    if shown:
                        results.append(result)
    finally:
        for grader in graders.values():
            grader.close()
    writing = write_seconds(assignment, results[:len(notebooks)])
    off, on = statistics.median(times[False]), statistics.median(times[True])
    print(f"{args.assignment}: {len(notebooks)} notebooks x {args.runs} runs, warm graders, median per submission")
    print(f"  without outputs (baseline): {off:.3f} s")
    print(f"  collecting outputs:         {on:.3f} s  (+{on - off:.3f} s)")
    print(f"  writing autograded/ copy:   {writing:.3f} s")
    print(f"  outputs and copy together:  +{on - off + writing:.3f} s per submission")
    kinds = sorted({o["output_type"] for r in results for outs in (r.outputs or {}).values() for o in outs})
    print(f"  output types collected: {', '.join(kinds)}")


def write_seconds(assignment, results) -> float:
    """Median time to write one autograded/ copy, into a scratch copy of the course."""
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        for folder in ("source", "release", "assignments"):
            shutil.copytree(REPO / folder / assignment.name, root / folder / assignment.name)
        shutil.copytree(REPO / "solutions", root / "solutions")
        course = load_assignment(assignment.name, root)
        folders = CourseFolders(course)
        times = []
        for result in results:
            assert result.sha256 == hashlib.sha256(Path(result.notebook).read_bytes()).hexdigest()
            started = time.perf_counter()
            folders.write_autograded(result, Path(result.notebook).read_bytes())  # read, as the batch does
            times.append(time.perf_counter() - started)
        return statistics.median(times)


if __name__ == "__main__":
    main()

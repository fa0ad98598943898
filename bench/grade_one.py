"""How long grading one correct submission takes, next to the floor: the student's own training run.

    .venv/bin/python bench/grade_one.py [--runs 7] [--notebook PATH]

The floor is the lesson's 1000-epoch training with the (correct) student functions, called
directly in this process: no grader could be faster. Grading runs in one warm `Grader` (as in a
batch) and cold through the CLI, a new process each time (median of at least five runs); both are
printed with their overhead above the floor.
The warm gradings alternate between two graders, one whose submissions each get a fresh /tmp
(a new tmpfs in namespaces of their own, the default) and one with AUTOGRADER_FRESH_TMP=off (a
folder of the worker's /tmp, emptied after): the difference is what the fresh /tmp costs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")  # the floor runs single-threaded, as the worker does

from autograder.course.config import load_assignment  # noqa: E402
from autograder.grade import Grader  # noqa: E402
from autograder.running.sandbox import build_launch  # noqa: E402
from autograder.suite.runner import load_reference  # noqa: E402


def floor_seconds(assignment, runs: int) -> float:
    reference = load_reference(assignment)
    settings = assignment.settings
    data = reference.load_data(assignment.release_dir / settings["data"])
    features, targets, _, _ = reference.prepare_data(data)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        reference.train_network(features, targets, settings["epochs"], settings["learnrate"], settings["seed"])
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def warm_seconds(assignment, notebook: Path, runs: int) -> dict[str, list[float]]:
    """Wall times of `runs` gradings in each of two warm graders, alternating: fresh /tmp and shared /tmp."""
    graders = {}
    for mode in ("on", "off"):
        os.environ["AUTOGRADER_FRESH_TMP"] = mode
        graders[mode] = Grader(assignment, build_launch(assignment.release_dir))
    del os.environ["AUTOGRADER_FRESH_TMP"]
    times: dict[str, list[float]] = {mode: [] for mode in graders}
    try:
        for grader in graders.values():
            grader.grade("warmup", notebook)  # starts the worker, imports the suite, caches the reference run
        for _ in range(runs):
            for mode, grader in graders.items():
                started = time.perf_counter()
                result = grader.grade("bench", notebook)
                times[mode].append(time.perf_counter() - started)
                assert result.score == result.max_score, result.to_dict()
    finally:
        for grader in graders.values():
            grader.close()
    return times


def cold_seconds(notebook: Path, runs: int) -> list[float]:
    """Wall times of `autograder grade student-admissions NOTEBOOK`, each a new process (as Gradescope's
    run_autograder, a student's `check` or a TA's regrade of one notebook)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "autograder", "grade", "student-admissions", str(notebook)],
                       cwd=REPO, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--notebook", type=Path, default=None, help="a correct submission (default: the master)")
    args = parser.parse_args()
    assignment = load_assignment("student-admissions", REPO)
    notebook = args.notebook or assignment.master_notebook

    floor = floor_seconds(assignment, args.runs)
    both = warm_seconds(assignment, notebook, args.runs)
    warm, shared = both["on"], both["off"]
    colds = cold_seconds(notebook, max(5, args.runs))
    cold = statistics.median(colds)
    median = statistics.median(warm)
    print(f"floor (training with the student's functions, in-process): {floor:.3f} s (median of {args.runs})")
    print(f"grade one submission, warm grader:  median {median:.3f} s  "
          f"(min {min(warm):.3f}, max {max(warm):.3f})  overhead above floor {median - floor:+.3f} s")
    print(f"  the same with a shared /tmp (AUTOGRADER_FRESH_TMP=off): median {statistics.median(shared):.3f} s; "
          f"a fresh /tmp per submission costs {median - statistics.median(shared):+.3f} s")
    print(f"grade one submission, cold CLI run: median {cold:.3f} s of {len(colds)} (min {min(colds):.3f}, "
          f"max {max(colds):.3f})  overhead above floor {cold - floor:+.3f} s (starting Python and the worker "
          f"included) -> target floor + 1.0 s {'met' if cold <= floor + 1.0 else 'NOT met'}")
    print(f"target: warm median <= floor + 0.5 s = {floor + 0.5:.3f} s -> "
          f"{'met' if median <= floor + 0.5 else 'NOT met'}")


if __name__ == "__main__":
    main()

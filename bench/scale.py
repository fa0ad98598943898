"""How the cost of a batch grows with the class: N = 100, 500 and 2,000 submissions of gradient-descent.

    .venv/bin/python bench/scale.py [--sizes 100,500,2000] [--jobs 2] [--keep DIR]

gradient-descent's floor is small (its training is 100 epochs on 100 points), so the grader's own
costs show. For each N, a scratch course (a copy of this one's gradient-descent) gets N submissions
in nbgrader's submitted/<student>/gradient-descent/ layout, with timestamp.txt and submission_secret.txt
as nbgrader's collect leaves them: a mix of right answers and typical mistakes (`ANSWERS`). Then the
real CLI grades them as an instructor would,

    autograder grade gradient-descent submitted --jobs 2 --json --csv --gradebook --feedback DIR

(the course's own gradebook: scores, autograded/ notebooks with their outputs, feedback pages in the
course's feedback/ folder and in DIR), while this process samples the grader's memory (RSS of the
command's own process; its grader processes and workers are listed apart). Then, in this process,
each output is written once more from the results, timed on its own: the JSON, the CSV, the
gradebook rows, the autograded/ copies, the feedback pages, and the class report.

Printed per N: wall seconds per submission, the grader's peak RSS, the grader processes' and the
workers' peak RSS, and the seconds of each output (total and per submission).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from autograder.course.config import load_assignment  # noqa: E402
from autograder.outputs.course_folders import CourseFolders  # noqa: E402
from autograder.outputs.exports import write_csv, write_json  # noqa: E402
from autograder.batch.parallel import HOST_MODULE  # noqa: E402
from autograder.outputs.feedback import write_feedback  # noqa: E402
from autograder.outputs.gradebook import GradebookWriter  # noqa: E402
from autograder.outputs.report import write_report  # noqa: E402
from autograder.results import GradeReport  # noqa: E402

ASSIGNMENT = "gradient-descent"
BIN = Path(sys.executable).parent
STAMP = "2026-11-20 09:15:00.000000 UTC"

SIGMOID = "def sigmoid(x):\n    return 1 / (1 + np.exp(-x))"
OUTPUT = "def output_formula(features, weights, bias):\n    return sigmoid(np.dot(features, weights) + bias)"
ERROR = "def error_formula(y, output):\n    return -y * np.log(output) - (1 - y) * np.log(1 - output)"
UPDATE = ("def update_weights(x, y, weights, bias, learnrate):\n"
          "    output = output_formula(x, weights, bias)\n"
          "    step = learnrate * (y - output)\n"
          "    return weights + step * x, bias + step")
RIGHT = {"sigmoid": SIGMOID, "output_formula": OUTPUT, "error_formula": ERROR, "update_weights": UPDATE}
ANSWERS = {  # half right, the rest a typical mistake each
    "right": RIGHT,
    "right-again": RIGHT,
    "wrong-error-sign": {**RIGHT, "error_formula": "def error_formula(y, output):\n"
                                                   "    return y * np.log(output) + (1 - y) * np.log(1 - output)"},
    "wrong-update-sign": {**RIGHT, "update_weights": UPDATE.replace("weights + step", "weights - step")},
    "no-bias": {**RIGHT, "output_formula": "def output_formula(features, weights, bias):\n"
                                           "    return sigmoid(np.dot(features, weights))"},
    "unfinished": {**RIGHT, "update_weights": "def update_weights(x, y, weights, bias, learnrate):\n"
                                              "    raise NotImplementedError()"},
}


def make_course(root: Path, count: int) -> None:
    """A copy of the course's gradient-descent with `count` collected submissions."""
    for folder in ("source", "release", "assignments"):
        shutil.copytree(REPO / folder / ASSIGNMENT, root / folder / ASSIGNMENT)
    shutil.copytree(REPO / "solutions", root / "solutions", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    cache = REPO / ".autograder"
    if cache.is_dir():  # the reference's cached results: as in a course that was validated
        shutil.copytree(cache, root / ".autograder")
    release = nbformat.read(root / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    kinds = list(ANSWERS)
    for number in range(count):
        notebook = nbformat.from_dict(release)
        answers = ANSWERS[kinds[number % len(kinds)]]
        for cell in notebook.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in answers:
                cell.source = answers[grade_id]
        folder = root / "submitted" / f"s{number:04d}" / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / f"{ASSIGNMENT}.ipynb")
        (folder / "timestamp.txt").write_text(STAMP)
        (folder / "submission_secret.txt").write_text(f"{number:064x}")


def grade(root: Path, jobs: int) -> dict:
    """Run the CLI; wall time and the peak RSS of the command, its grader processes and its workers."""
    command = [str(BIN / "autograder"), "grade", ASSIGNMENT, "submitted", "--jobs", str(jobs),
               "--json", "out/results.json", "--csv", "out/results.csv", "--gradebook", "--feedback", "out/feedback"]
    started = time.perf_counter()
    log = open(root / "grade.log", "wb")  # a pipe nobody reads while it runs would fill and stop the command
    process = subprocess.Popen(command, cwd=root, stdout=subprocess.DEVNULL, stderr=log)
    main, peak = psutil.Process(process.pid), {"grader": 0, "grader processes": 0, "workers": 0}
    while process.poll() is None:
        try:
            peak["grader"] = max(peak["grader"], main.memory_info().rss)
            for child in main.children(recursive=True):
                kind = "grader processes" if HOST_MODULE in " ".join(child.cmdline()) else "workers"
                peak[kind] = max(peak[kind], child.memory_info().rss)
        except psutil.Error:
            pass
        time.sleep(0.2)
    seconds = time.perf_counter() - started
    log.close()
    errors = (root / "grade.log").read_text(errors="replace")
    if process.returncode != 0:
        raise SystemExit(f"grade exited {process.returncode}:\n{errors[-3000:]}")
    return {"seconds": seconds, **{k: v / 2**20 for k, v in peak.items()}}


def outputs(root: Path) -> dict[str, float]:
    """Each output written once more from the results, timed on its own."""
    os.chdir(root)  # the results name their notebooks as the command line did, from the course folder
    assignment = load_assignment(ASSIGNMENT, root)
    report = GradeReport.load(root / "out" / "results.json")
    again = root / "again"
    timings = {}

    def timed(name, action):
        started = time.perf_counter()
        action()
        timings[name] = time.perf_counter() - started

    timed("JSON", lambda: write_json(report, again / "results.json"))
    timed("CSV", lambda: write_csv(report, again / "results.csv"))

    writer = []
    timed("gradebook opened (the master recorded)",
          lambda: writer.append(GradebookWriter(assignment, f"sqlite:///{again / 'gradebook.db'}")))
    timed("gradebook rows", lambda: [writer[0].record(result) for result in report.submissions])
    writer[0].close()
    shutil.rmtree(root / "autograded")
    folders = CourseFolders(assignment)
    timed("autograded/", lambda: [folders.write_autograded(result, Path(result.notebook).read_bytes())
                                  for result in report.submissions])
    timed("feedback pages", lambda: [write_feedback(assignment, result, again / "feedback")
                                     for result in report.submissions])
    timed("class report", lambda: write_report(assignment, root / "out" / "results.json", again / "report.html"))
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,500,2000")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="keep the scratch courses here")
    args = parser.parse_args()
    rows = []
    for count in (int(size) for size in args.sizes.split(",")):
        root = Path(tempfile.mkdtemp(prefix=f"scale-{count}-", dir=args.keep))
        make_course(root, count)
        run = grade(root, args.jobs)
        report = GradeReport.load(root / "out" / "results.json")
        scores = statistics.mean(s.score for s in report.submissions)
        timings = outputs(root)
        rows.append((count, run, timings))
        print(f"N = {count}: {run['seconds']:.1f} s, {run['seconds'] / count:.3f} s per submission "
              f"(mean score {scores:.2f}); peak RSS: grader {run['grader']:.0f} MB, grader processes "
              f"{run['grader processes']:.0f} MB, workers {run['workers']:.0f} MB", flush=True)
        print("  outputs, written again: " + ", ".join(f"{name} {seconds:.2f} s ({1000 * seconds / count:.2f} ms each)"
                                                      for name, seconds in timings.items()), flush=True)
        os.chdir(REPO)
        if args.keep is None:
            shutil.rmtree(root)
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        ratio = (last[1]["seconds"] / last[0]) / (first[1]["seconds"] / first[0])
        print(f"per-submission time at N = {last[0]} is {ratio:.2f}x that at N = {first[0]}")


if __name__ == "__main__":
    main()

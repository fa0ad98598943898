"""Throughput of grading a whole class, next to the floor and to nbgrader's own `autograde`.

    .venv/bin/python bench/grade_throughput.py [--sizes 1,20,100] [--pairs K] [--no-nbgrader] [--keep DIR]

Builds N submissions of student-admissions from the released notebook (a mix of right and wrong
answers, `VARIANTS`), grades them with `autograder grade --jobs 1` and `--jobs 2` (the real CLI,
as subprocesses; `--jobs 2` once more with AUTOGRADER_CACHE=off, so that each grader process trains
the reference itself), and with `nbgrader autograde` in a scratch nbgrader course whose checks are the
master's test cells. Prints per size: median seconds per submission, submissions per minute, peak
memory (RSS) of the grader and of one worker, nbgrader's throughput with the ratio, and the scores
each answer got from both. With `--pairs K`, `--jobs 1` and `--jobs 2` run one after the other K times
and the speed-up printed is the median of the K pairs (each pair is listed; the machine's noise moves a
single pair's figure by several hundredths), with the other figures from that median pair.

The floor is what the student's functions alone need: the hidden suite is run in this process with
a `student` that calls the functions directly (no worker, no protocol), and only the time spent
inside the student's functions (the checks' calls and the training run) is counted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from autograder.running.launch import WORKER_MODULE  # noqa: E402
from autograder.running.referee import MODULE as REFEREE_MODULE  # noqa: E402
from autograder.batch.parallel import HOST_MODULE  # noqa: E402
from floor import floor_seconds  # noqa: E402
from variants import VARIANTS, answers_of  # noqa: E402

ASSIGNMENT = "student-admissions"
BIN = Path(sys.executable).parent


def build_class(target: Path, count: int) -> dict[str, str]:
    """`count` filled-in copies of the released notebook in `target`; student -> variant name."""
    release = nbformat.read(REPO / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    names = list(VARIANTS)
    target.mkdir(parents=True)
    chosen = {}
    for number in range(count):
        variant = names[number % len(names)]
        notebook = nbformat.from_dict(release)
        for cell in notebook.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in VARIANTS[variant]:
                cell.source = VARIANTS[variant][grade_id]
        student = f"s{number:03d}"
        nbformat.write(notebook, target / f"{student}.ipynb")
        chosen[student] = variant
    return chosen


class Watch:
    """Peak RSS by role, and CPU seconds, of a process tree, sampled every 0.1 s.

    CPU is summed over every process seen, each at its last sample (psutil, not rusage: processes
    in the worker's PID namespace are reaped there and never reach this process's rusage).
    """

    def __init__(self, root: int):
        self.root = psutil.Process(root)
        self.peak: dict[str, int] = {"grader": 0, "zygote": 0, "child": 0, "referee": 0}
        self.cpu_seen: dict[tuple[int, float], float] = {}  # (pid, create time) -> CPU seconds
        self.roles: dict[tuple[int, float], str | None] = {}  # (pid, create time) -> role

    def role(self, process: psutil.Process, roles: dict[int, str]) -> str | None:
        command = " ".join(process.cmdline())
        if (process.pid == self.root.pid and "--jobs 1" in command) or HOST_MODULE in command:
            return "grader"
        if WORKER_MODULE in command and "bwrap" not in process.name():
            return "child" if roles.get(process.ppid()) == "zygote" else "zygote"
        if REFEREE_MODULE in command:
            return "referee"
        return None

    def sample(self) -> None:
        try:
            processes = [self.root, *self.root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return
        for process in processes:
            try:
                with process.oneshot():
                    key = (process.pid, process.create_time())
                    times = process.cpu_times()
                    self.cpu_seen[key] = times.user + times.system
                    # A command line is read until the process has a role, or has had none for a second
                    # (it is past its exec): the watch takes CPU that graders on a busy machine would use.
                    role = self.roles.get(key)
                    if role is None and key not in self.roles:
                        role = self.role(process, {pid: role for (pid, _), role in self.roles.items()})
                        if role or time.time() - key[1] > 1:
                            self.roles[key] = role
                    if role:
                        self.peak[role] = max(self.peak[role], process.memory_info().rss)
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue

    @property
    def cpu(self) -> float:
        return sum(self.cpu_seen.values())


def run_measured(command: list[str], cwd: Path, env: dict | None = None) -> tuple[float, float, Watch]:
    """(wall seconds, CPU seconds of the whole process tree, the watch) of one command."""
    errors = tempfile.TemporaryFile()  # a file, not a pipe: nbgrader logs more than a pipe holds
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=errors)
    watch = Watch(process.pid)
    try:
        while process.poll() is None:
            watch.sample()
            time.sleep(0.1)
    finally:
        if process.poll() is None:  # the benchmark was interrupted: so is the command
            process.terminate()
            process.wait()
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        errors.seek(0)
        raise SystemExit(f"{' '.join(command)} failed:\n{errors.read().decode()[-3000:]}")
    return seconds, watch.cpu, watch


@dataclass
class Run:
    wall: float  # seconds for the whole command
    cpu: float  # CPU seconds of every process it started
    peaks: Watch
    report: dict | None = None


def grade(folder: Path, jobs: int, output: Path, cache: bool = True) -> Run:
    """`autograder grade --jobs N`; with `cache=False` every grader process trains the reference itself."""
    command = [str(BIN / "autograder"), "grade", ASSIGNMENT, str(folder), "--jobs", str(jobs), "--json", str(output)]
    env = None if cache else {**os.environ, "AUTOGRADER_CACHE": "off"}
    return Run(*run_measured(command, REPO, env), report=json.loads(output.read_text()))


def nbgrader_autograde(folder: Path, course: Path) -> Run:
    """Seconds `nbgrader autograde` takes for the notebooks in `folder`, in a scratch nbgrader course."""
    shutil.copytree(REPO / "source" / ASSIGNMENT, course / "source" / ASSIGNMENT)
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(course)!r}\nc.CourseDirectory.course_id = 'bench'\n")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    subprocess.run([str(BIN / "nbgrader"), "generate_assignment", ASSIGNMENT, "--force"], cwd=course, env=env,
                   check=True, capture_output=True)
    for notebook in sorted(folder.glob("*.ipynb")):
        submitted = course / "submitted" / notebook.stem / ASSIGNMENT
        submitted.mkdir(parents=True)
        shutil.copy(notebook, submitted / f"{ASSIGNMENT}.ipynb")
        shutil.copy(REPO / "release" / ASSIGNMENT / "student_data.csv", submitted)
    run = Run(*run_measured([str(BIN / "nbgrader"), "autograde", ASSIGNMENT, "--force"], course, env))
    graded = list((course / "autograded").glob(f"*/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"))
    if len(graded) != len(list(folder.glob("*.ipynb"))):
        raise SystemExit(f"nbgrader autograded {len(graded)} notebooks of {len(list(folder.glob('*.ipynb')))}")
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        run.report = {"submissions": [{"student": notebook.stem, "score": gradebook.find_submission(
            ASSIGNMENT, notebook.stem).score} for notebook in sorted(folder.glob("*.ipynb"))]}
    return run


def breakdown(folder: Path, chosen: dict[str, str], floors: dict, runs: int = 3) -> list[float]:
    """Where one submission's CPU goes beyond its floor, per variant (medians of `runs`): the grader, the
    worker (warm, as in a batch). Returns the overhead of each variant."""
    from autograder.course.config import load_assignment
    from autograder.grade import Grader

    def cpu_of(module: str = WORKER_MODULE) -> float:
        total = 0.0
        for process in psutil.Process().children(recursive=True):
            try:
                if module in " ".join(process.cmdline()):
                    t = process.cpu_times()
                    total += t.user + t.system + t.children_user + t.children_system
            except psutil.Error:
                continue
        return total

    firsts = {variant: student for student, variant in reversed(chosen.items())}
    overheads = []
    with Grader(load_assignment(ASSIGNMENT, REPO)) as grader:
        grader.grade("warm-up", folder / f"{firsts[next(iter(firsts))]}.ipynb")
        for variant, student in firsts.items():
            graders, workers = [], []
            for _ in range(runs):
                worker, referee = cpu_of(), cpu_of(REFEREE_MODULE)
                own = time.process_time()  # after those: reading the processes costs this one CPU
                grader.grade(student, folder / f"{student}.ipynb")
                # the grader's CPU counts its reference process's (references.py)
                graders.append(time.process_time() - own + cpu_of(REFEREE_MODULE) - referee)
                time.sleep(0.3)  # the submission's process is reaped: its CPU is in the zygote's children
                workers.append(cpu_of() - worker)
            own, worker = statistics.median(graders), statistics.median(workers)
            overheads.append(own + worker - floors[variant][1])
            print(f"  {variant:<18} grader CPU {own:.3f} s, worker CPU {worker:.3f} s, floor CPU "
                  f"{floors[variant][1]:.3f} s -> overhead {overheads[-1]:+.3f} s")
    print(f"  median overhead {statistics.median(overheads):+.3f} s per submission")
    return overheads


def mb(value: int) -> str:
    return f"{value / 1024 / 1024:.0f} MB"


def report_size(size: int, chosen: dict[str, str], floors: dict, one: Run, two: Run, cold: Run,
                nb: Run | None, speedups: list[float]) -> None:
    per = [s["seconds"] for s in one.report["submissions"]]
    over = [s["seconds"] - floors[chosen[s["student"]]][0] for s in one.report["submissions"]]
    floor_cpu = sum(floors[variant][1] for variant in chosen.values())

    def scores(run: Run) -> list:
        return [(s["student"], s["score"], s["status"]) for s in run.report["submissions"]]

    mix = ", ".join(f"{v} {list(chosen.values()).count(v)}" for v in VARIANTS if v in chosen.values())
    print(f"\nN = {size} ({mix})")
    print(f"  load average {os.getloadavg()[0]:.2f} (other processes on the machine slow every wall-clock figure)")
    print(f"  jobs 1: {one.wall:7.1f} s = {60 * size / one.wall:5.1f} submissions/min; median {statistics.median(per):.3f} s "
          f"per submission, {statistics.median(over):+.3f} s above its floor (median; max {max(over):+.3f})")
    print(f"          CPU {one.cpu / size:.3f} s per submission, {(one.cpu - floor_cpu) / size:+.3f} s above the floor's CPU "
          f"(everything included: start, worker, reference run, notebook cells, pytest)")
    pairs = f" (median of {len(speedups)} pairs, sorted: {', '.join(f'{x:.2f}' for x in speedups)})" if len(speedups) > 1 else ""
    print(f"  jobs 2: {two.wall:7.1f} s = {60 * size / two.wall:5.1f} submissions/min; speed-up {one.wall / two.wall:.2f}x{pairs}; "
          f"CPU {two.cpu / size:.3f} s per submission; scores {'same' if scores(one) == scores(two) else 'DIFFERENT'} as jobs 1")
    print(f"  jobs 2 without the reference cache (each grader process trains the reference): {cold.wall:7.1f} s = "
          f"{60 * size / cold.wall:5.1f} submissions/min; CPU {cold.cpu / size:.3f} s per submission")
    per_process = mb(two.peaks.peak["grader"]) if two.peaks.peak["grader"] else "none (one submission: graded in-process)"
    print(f"  peak RSS: grader {mb(one.peaks.peak['grader'])} (jobs 1), {per_process} per grader "
          f"process (jobs 2); worker zygote {mb(max(one.peaks.peak['zygote'], two.peaks.peak['zygote']))}, "
          f"submission process {mb(max(one.peaks.peak['child'], two.peaks.peak['child']))}, "
          f"reference process {mb(max(one.peaks.peak['referee'], two.peaks.peak['referee']))}")
    if nb is not None:
        ours = {s["student"]: s["score"] for s in one.report["submissions"]}
        theirs = {s["student"]: s["score"] for s in nb.report["submissions"]}
        by_variant = {}
        for student, variant in chosen.items():
            by_variant.setdefault(variant, set()).add((ours[student], theirs[student]))
        print("  scores by answer (autograder / nbgrader with the master's test cells, out of 12): " + ", ".join(
            f"{variant} {' '.join(f'{a:g}/{b:g}' for a, b in sorted(pairs))}" for variant, pairs in by_variant.items()))
        print(f"  nbgrader autograde: {nb.wall:7.1f} s = {60 * size / nb.wall:5.1f} submissions/min; CPU {nb.cpu / size:.3f} s "
              f"per submission; throughput ratio autograder/nbgrader: jobs 2 {nb.wall / two.wall:.2f}x, "
              f"jobs 2 without the cache {nb.wall / cold.wall:.2f}x, jobs 1 {nb.wall / one.wall:.2f}x (by CPU per "
              f"submission: {nb.cpu / one.cpu:.2f}x per core)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,20,100", help="class sizes to grade (default 1,20,100)")
    parser.add_argument("--pairs", type=int, default=1, help="run --jobs 1 and --jobs 2 this many times, alternating, "
                                                             "and take the median speed-up (default 1)")
    parser.add_argument("--no-nbgrader", action="store_true", help="skip the nbgrader comparison")
    parser.add_argument("--keep", type=Path, help="build and keep everything in DIR (default: a temp dir)")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    scratch = args.keep or Path(tempfile.mkdtemp(prefix="grade-throughput-"))

    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start")
    floors = {name: floor_seconds(ASSIGNMENT, answers_of(name), runs=3) for name in VARIANTS}
    print("the reference cache (.autograder/cache) is filled by the floor's warm-up, as `autograder validate` fills it")
    for name, (wall, cpu) in floors.items():
        print(f"floor {name:<18} {wall:.3f} s, CPU {cpu:.3f} s (its functions alone, in-process: checks + training)")
    print("one submission in a warm grader (as in a batch), CPU seconds:")
    breakdown(scratch / "variants", build_class(scratch / "variants", len(VARIANTS)), floors)
    for size in sizes:
        folder = scratch / f"class-{size}"
        chosen = build_class(folder, size)
        pairs = sorted(((grade(folder, 1, scratch / f"jobs1-{size}.json"), grade(folder, 2, scratch / f"jobs2-{size}.json"))
                        for _ in range(max(1, args.pairs))), key=lambda pair: pair[0].wall / pair[1].wall)
        one, two = pairs[(len(pairs) - 1) // 2]  # the median pair (the lower one of an even count)
        cold = grade(folder, 2, scratch / f"jobs2-cold-{size}.json", cache=False)
        nb = None if args.no_nbgrader else nbgrader_autograde(folder, scratch / f"nbgrader-{size}")
        report_size(size, chosen, floors, one, two, cold, nb, [a.wall / b.wall for a, b in pairs])
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end")
    if not args.keep:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()

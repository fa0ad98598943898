"""The course service under a deadline's load: many students submitting in bursts, against
`autograder grade --jobs N` on the same notebooks, measured in the same run.

A scratch copy of the course gets `--students` students on its roster; each submits
`--rounds` notebooks (the variants of `variants.py`, in turn), every round a burst in which
all students upload at once (16 at a time). The service runs with `--jobs N`. Printed:
throughput against the batch baseline, p50 and p95 of upload-to-graded, the service's
peak memory (its process and its grader processes), and that every submission was graded
exactly once. With `--kill`, the service is killed with -9 once a third of the
submissions are graded, started again, and the count is checked the same way.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import nbformat
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from service_latency import scratch_course  # noqa: E402
from servicecourse import Service  # noqa: E402
from variants import VARIANTS  # noqa: E402

from autograder.service.store import FINAL, Store  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
ASSIGNMENT = "student-admissions"


def notebooks(folder: Path, students: list[str], rounds: int) -> dict[tuple[str, int], Path]:
    release = nbformat.read(REPO / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    names, made = list(VARIANTS), {}
    for number, student in enumerate(students):
        for round_ in range(rounds):
            variant = VARIANTS[names[(number + round_) % len(names)]]
            notebook = nbformat.from_dict(release)
            for cell in notebook.cells:
                grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
                if grade_id in variant:
                    cell.source = variant[grade_id]
            path = folder / f"round{round_}" / f"{student}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, path)
            made[(student, round_)] = path
    return made


class Peak:
    """The peak RSS of a process and its descendants, sampled every 0.2 s."""

    def __init__(self, pid: int):
        self.pid, self.mb, self.stopping = pid, 0.0, threading.Event()
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        while not self.stopping.wait(0.2):
            try:
                root = psutil.Process(self.pid)
                tree = [root, *root.children(recursive=True)]
                self.mb = max(self.mb, sum(p.memory_info().rss for p in tree) / 2**20)
            except psutil.Error:
                pass


def batch_seconds(root: Path, folder: Path, jobs: int) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "autograder", "grade", ASSIGNMENT, str(folder), "--jobs", str(jobs)],
                   cwd=root, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--kill", action="store_true", help="kill -9 the service a third of the way")
    args = parser.parse_args()
    students = [f"s{n:03d}" for n in range(args.students)]
    with tempfile.TemporaryDirectory(prefix="service-load-") as scratch:
        root = scratch_course(Path(scratch) / "course")
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
            for student in students:
                gradebook.update_or_create_student(student)
        made = notebooks(Path(scratch) / "notebooks", students, args.rounds)
        every = Path(scratch) / "every"
        every.mkdir()
        for (student, round_), path in made.items():
            (every / f"{student}-{round_}.ipynb").write_bytes(path.read_bytes())
        baseline = batch_seconds(root, every, args.jobs)

        store = Store(f"sqlite:///{root / 'gradebook.db'}")
        secrets = {student: store.tokens.new_token(student) for student in students}
        service = Service(root, "--jobs", str(args.jobs), "--lease", "10")
        peak = Peak(service.process.pid)
        uploaded: dict[str, float] = {}
        graded: dict[str, float] = {}
        killed = False

        def send(item):
            (student, round_), path = item
            with httpx.Client(base_url=service.url, timeout=60,
                              headers={"Authorization": f"Bearer {secrets[student]}"}) as client:
                with open(path, "rb") as handle:
                    answer = client.post("/api/submissions", files={"notebook": (path.name, handle)},
                                         data={"assignment": ASSIGNMENT})
                answer.raise_for_status()
                uploaded[answer.json()["id"]] = time.perf_counter()

        started = time.perf_counter()
        for round_ in range(args.rounds):
            burst = [(key, path) for key, path in made.items() if key[1] == round_]
            with ThreadPoolExecutor(16) as pool:
                list(pool.map(send, burst))
            # the next burst comes once this one is half graded: a deadline's waves
            while sum(1 for ident in uploaded if ident in graded) < len(uploaded) - len(burst) // 2:
                for row in store.listed():
                    if row["status"] in FINAL and row["id"] not in graded:
                        graded[row["id"]] = time.perf_counter()
                if args.kill and not killed and len(graded) >= len(made) // 3:
                    service.process.kill()
                    service.process.communicate()
                    service, killed = Service(root, "--jobs", str(args.jobs), "--lease", "10"), True
                    peak = Peak(service.process.pid)
                time.sleep(0.1)
        while len(graded) < len(uploaded):
            for row in store.listed():
                if row["status"] in FINAL and row["id"] not in graded:
                    graded[row["id"]] = time.perf_counter()
            time.sleep(0.1)
        took = max(graded.values()) - started
        service.stop()
        peak.stopping.set()
        rows = store.listed()
        feedback = sorted(graded[i] - uploaded[i] for i in uploaded)
        once = len(rows) == len(made) and all(r["status"] in FINAL for r in rows)
        print(f"{len(made)} submissions of {args.students} students in {args.rounds} bursts, --jobs {args.jobs}")
        print(f"grade --jobs {args.jobs} on the same notebooks: {baseline:.1f} s "
              f"({len(made) / baseline:.2f} notebooks/s)")
        print(f"service: {took:.1f} s from the first upload to the last grade ({len(made) / took:.2f} notebooks/s, "
              f"{100 * baseline / took:.0f} % of the batch's throughput)")
        print(f"time to feedback: p50 {statistics.median(feedback):.1f} s, "
              f"p95 {feedback[int(0.95 * (len(feedback) - 1))]:.1f} s, max {feedback[-1]:.1f} s")
        print(f"service memory at its peak (its process and grader processes): {peak.mb:.0f} MB")
        print(f"{'killed with -9 once and started again; ' if killed else ''}every submission graded exactly once: "
              f"{'yes' if once else 'NO'} ({len(rows)} rows, statuses "
              f"{sorted({r['status'] for r in rows})}, at most {max(r['attempts'] for r in rows)} attempts)")


if __name__ == "__main__":
    main()

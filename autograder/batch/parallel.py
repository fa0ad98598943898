"""Grade submissions in parallel on one machine: `jobs` grader processes, each with its
own worker.

The hidden suite runs in the grader process and `pytest.main` is not thread-safe, so
jobs are processes (`python -m autograder.batch.host`), never threads. Each keeps one
`Grader` for the whole batch and is handed the next submission as soon as it is free.
Requests and replies are JSON frames (`protocol`), never pickle. A grader process that
dies or hangs costs only the submission it had: that one is tried again on a fresh
process, and reported as crashed after MAX_ATTEMPTS.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Sequence
from typing import IO

from ..course.config import Assignment
from ..errors import UsageError
from ..running import framing
from ..running.launch import package_dir
from ..running.worker_process import START_TIMEOUT
from .tasks import Done, Task, decode_reply, lost_result

HOST_MODULE = f"{__package__}.host"  # a grader process: `python -m` this
# a submission whose grader process died this often is reported as crashed
MAX_ATTEMPTS = 2
# beyond a submission's own limits before its grader process counts as hung
SPARE_SECONDS = 60.0


class GraderProcess:
    """One `python -m autograder.batch.host` process and the task it is grading."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.task: Task | None = None
        self.deadline = 0.0

    def start(self, assignment: Assignment) -> GraderProcess:
        """Start the process (and so its worker) now, ahead of its first submission.
        OSError if it cannot."""
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                HOST_MODULE,
                str(os.getpid()),
                str(assignment.root),
                assignment.name,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=_env(),
        )
        return self

    def give(
        self, assignment: Assignment, task: Task, seconds: float, display: bool = False
    ) -> bool:
        request = {
            "root": str(assignment.root),
            "assignment": assignment.name,
            "student": task.student,
            "notebook": str(task.notebook),
            "display": display,
        }
        self.task, self.deadline = task, time.monotonic() + seconds
        for _ in range(2):  # a process that ended between two submissions is replaced
            try:
                if self.process is None or self.process.poll() is not None:
                    self.stop()
                    self.start(assignment)
                stdin, _ = self._pipes()
                framing.write_frame(stdin.fileno(), request, self.deadline)
                return True
            # it could not be started, it is gone, or it hangs
            except (OSError, framing.ProtocolError):
                self.stop(kill=True)
        return False

    def fileno(self) -> int:
        _, stdout = self._pipes()
        return stdout.fileno()

    def _pipes(self) -> tuple[IO[bytes], IO[bytes]]:
        """The process's stdin and stdout (both pipes); OSError once it is stopped."""
        process = self.process
        if process is None or process.stdin is None or process.stdout is None:
            raise OSError("the grader process is not running")
        return process.stdin, process.stdout

    def receive(self) -> dict:
        reply = framing.read_frame(self.fileno(), self.deadline)
        self.task = None
        return reply

    def stop(self, kill: bool = False) -> None:
        self.end(kill)
        self.reap()

    def end(self, kill: bool = False) -> None:
        """Tell the process to stop (the host stops its Grader and exits on end of
        input), without waiting."""
        if self.process is None:
            return
        if kill:
            self.process.send_signal(signal.SIGKILL)
        stdin = self.process.stdin
        if stdin is not None and not stdin.closed:
            stdin.close()

    def reap(self) -> None:
        """Wait for the process that `end` told to stop (killing it if it takes too
        long)."""
        if self.process is None:
            return
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.process = None


def _env() -> dict[str, str]:
    """This environment, with the autograder importable even when it is not
    installed."""
    package_parent = str(package_dir().parent)
    paths = [
        package_parent,
        *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep)),
    ]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def start_processes(assignment: Assignment, count: int) -> list[GraderProcess]:
    """`count` grader processes for the assignment, started now (one that cannot be is
    tried again, and reported, when it is given a submission); the caller stops them, or
    hands them to `run_batch`."""
    processes = [GraderProcess() for _ in range(count)]
    try:
        for process in processes:
            try:
                process.start(assignment)
            # left unstarted: `give` starts it, or reports its submission
            except OSError:
                pass
    except BaseException:  # Ctrl-C while they start: none is left behind
        for process in processes:
            process.stop(kill=True)
        raise
    return processes


def grade_in_processes(
    assignment: Assignment,
    tasks: Sequence[Task],
    jobs: int,
    done: Done,
    display: bool,
    pool: list[GraderProcess],
) -> None:
    """Grade `tasks` in `jobs` grader processes of `pool` (`engines.Processes`'), adding
    those it lacks; `done` sees each result as it finishes. The processes stay in the
    pool, warm, for the next call; one lost or interrupted while grading is stopped."""
    queue, attempts = deque(tasks), {task.index: 0 for task in tasks}
    limit = task_limit(assignment, display)
    count = max(1, min(jobs, len(tasks)))
    pool.extend(GraderProcess() for _ in range(count - len(pool)))
    workers = pool[:count]  # any others stay idle

    def lost(worker: GraderProcess, why: str) -> None:
        task = worker.task
        worker.stop(kill=True)
        worker.task = None
        if task is None:  # only a busy worker is lost
            return
        attempts[task.index] += 1
        if attempts[task.index] >= MAX_ATTEMPTS:
            done(task, lost_result(assignment, task, why), False)
        else:
            queue.appendleft(task)

    try:
        while queue or any(w.task for w in workers):
            for worker in workers:
                if (
                    worker.task is None
                    and queue
                    and not worker.give(assignment, queue.popleft(), limit, display)
                ):
                    lost(worker, "no grader process could be started for it")
            busy = [w for w in workers if w.task]
            ready, _, _ = select.select(busy, [], [], 1.0)
            for worker in ready:
                task = worker.task
                if task is None:  # only busy workers were selected
                    continue
                try:
                    reply = worker.receive()
                except (EOFError, OSError, framing.ProtocolError):
                    lost(worker, "the grader process grading it died")
                    continue
                done(task, decode_reply(reply), True)
            for worker in busy:
                if worker.task and time.monotonic() > worker.deadline:
                    lost(
                        worker,
                        "the grader process grading it did not finish within "
                        f"{limit:g} s",
                    )
    finally:  # interrupted (Ctrl-C, a fatal reply): what was being graded stops
        busy = [w for w in workers if w.task]
        for worker in busy:  # every one is told first, so that they stop side by side
            worker.end(kill=True)
        for worker in busy:
            worker.reap()
            worker.task = None


def task_limit(assignment: Assignment, display: bool = False) -> float:
    """The longest grading one submission may take in a grader process (or a Dask task)
    before that process counts as hung: every wait inside has its own deadline, so this
    is a last resort, above everything the submission's own budgets allow
    (`notebook_run.longest`)."""
    # with the grading side's imports (NumPy): not at this module's
    from ..running.notebook_run import longest

    return (
        longest(assignment.limits, len(assignment.parts), display)
        + START_TIMEOUT
        + SPARE_SECONDS
    )


def default_jobs() -> int:
    """The number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def check_jobs(jobs: int | None) -> int:
    if jobs is None:
        return default_jobs()
    if jobs < 1:
        raise UsageError(f"--jobs must be 1 or more, got {jobs}")
    return jobs

"""The ways of grading, one class each: here (here.py), in grader processes, on a Dask
cluster.

An engine grades tasks (`grade(assignment, tasks, done, display)`), telling `done` of
each result as it finishes, and owns what it starts: the Grader and its worker
(`Here`), a pool of grader processes (`Processes`), a connection to a cluster
(`Cluster`). What it starts stays warm between calls, for the next batch or the next
submission, until `close` (or the end of its `with` block). Every engine grades a
submission with the same `Grader`, so results are the same whichever runs them.

`start` chooses the engine for a command line's --jobs and --scheduler and starts what
it needs first, so that its start overlaps the rest of the command's.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..course.config import Assignment
from ..errors import UsageError
from ..running.launch import Launch
from ..running.worker_process import Worker
from .here import Engine, Here
from .parallel import GraderProcess, check_jobs, grade_in_processes, start_processes
from .tasks import Done, Task


class Processes(Engine):
    """`jobs` grader processes (`parallel.py`), each with its own worker, kept warm
    between calls; `started`: processes already started for the first assignment."""

    def __init__(self, jobs: int, started: Sequence[GraderProcess] = ()):
        self.jobs = jobs
        self.pool: list[GraderProcess] = list(started)

    def grade(
        self,
        assignment: Assignment,
        tasks: Sequence[Task],
        done: Done,
        display: bool = False,
    ) -> None:
        if tasks:
            grade_in_processes(assignment, tasks, self.jobs, done, display, self.pool)

    def close(self) -> None:
        for process in self.pool:  # every process is told first: they stop side by side
            process.end(kill=bool(process.task))
        for process in self.pool:
            process.reap()
        self.pool.clear()


class Cluster(Engine):
    """The Dask cluster whose scheduler is at `address` (`cluster.py`; its TLS settings
    are Dask's own, `trust.cluster_tls`)."""

    def __init__(self, address: str):
        self.address = address

    def grade(
        self,
        assignment: Assignment,
        tasks: Sequence[Task],
        done: Done,
        display: bool = False,
    ) -> None:
        from .cluster import grade_on_cluster

        if tasks:
            grade_on_cluster(assignment, tasks, self.address, done, display=display)


def start(
    assignment: Assignment,
    jobs: int | None = None,
    scheduler: str | None = None,
    count: int | None = None,
    launch: Launch | None = None,
) -> Engine:
    """The engine for `jobs` (default: the cores) or `scheduler`, for `count`
    submissions (None: not known yet, nothing is started ahead), with its worker or
    grader processes started now."""
    if scheduler:
        if jobs is not None:
            raise UsageError(
                "--jobs does not apply with --scheduler: the cluster's workers grade "
                "in parallel"
            )
        return Cluster(scheduler)
    jobs = check_jobs(jobs)
    if count is None:
        return Processes(jobs) if jobs > 1 else Here(assignment, launch)
    if min(jobs, count) > 1:
        return Processes(jobs, start_processes(assignment, min(jobs, count)))
    if count == 0 or launch is None:
        return Here(assignment, launch)
    from ..running.launch import start_worker

    return Here(assignment, launch, Worker(launch, start_worker(launch)))

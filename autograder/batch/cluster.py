"""Grade a batch on a Dask distributed cluster: each Dask worker grades whole
submissions.

Nothing needs to be shared but the installed package: the batch sends the course as a
bundle (`bundle.py`: the release, the hidden suite, the reference, assignment.toml;
content-addressed) to each worker that does not hold it yet, where it is unpacked once
and kept for later batches, and each notebook's bytes with its task. Every Dask worker
process keeps one `Grader` (with its own sandboxed worker) for the batch, the same code
path as a local grader process (`host.grade_here`). Tasks and replies are plain data
(bytes and strings in, our result JSON out); never pickle of ours. Start workers with
one thread each (`dask worker ADDRESS --nthreads 1 --nworkers N`), since a grader
process grades one submission at a time. At most a few tasks per worker are in flight,
so the client never holds a large class's notebooks at once. A task that has been
running for longer than `parallel.task_limit` is given up (its submission reported as
crashed, to grade again with --resume), as a hung local grader process is.

Every worker that joins the scheduler is sent the course (the reference solutions and
hidden tests included) and its results are believed: the client connects with the
security settings `trust.py` makes (TLS and the course's certificates for a tls://
address).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from typing import Any

from ..course.config import Assignment
from ..errors import UsageError
from ..results import NbgraderFiles
from ..running.nbgrader_files import read_together
from ..running.notebook_file import read_bytes
from .bundle import BUNDLES_VARIABLE, Bundle, install, installed, make_bundle
from .host import close_idle_graders, grade_sent
from .parallel import task_limit
from .tasks import Done, Task, decode_reply, lost_result
from .trust import TLS_SCHEMES, cluster_security, scheme

CONNECT_TIMEOUT = "20s"
POLL_SECONDS = 0.2  # how often the client looks for finished and overlong tasks
IN_FLIGHT_PER_WORKER = 4  # tasks (and their notebooks' bytes) sent ahead of the results


def grade_on_cluster(
    assignment: Assignment,
    tasks: Sequence[Task],
    address: str,
    done: Done,
    task_seconds: float | None = None,
    display: bool = False,
) -> int:
    """Grade `tasks` on the Dask cluster whose scheduler is at `address`; a task running
    for longer than `task_seconds` (default `parallel.task_limit`) is given up. Returns
    how many workers were sent the course."""
    try:
        from distributed import Client
    except ImportError:
        raise UsageError(
            "--scheduler needs the `distributed` package; install the project again "
            "(`make install`)"
        ) from None
    bundle = make_bundle(assignment)
    security = cluster_security(address)
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT, security=security)
    # OSError: nothing answers; anything else: something that is not a Dask scheduler
    # answered (an HTTP server's reply read as a frame length is a MemoryError)
    except Exception as error:
        over_tls = (
            (
                "; over TLS, its certificate must be signed by the CA of "
                "--tls-ca-file, and ours (--tls-cert) by the CA it was started with"
            )
            if scheme(address) in TLS_SCHEMES
            else ""
        )
        raise UsageError(
            f"cannot reach the Dask scheduler at {address} ({error}); start one with "
            f"`dask scheduler` and give its address (tls://HOST:8786){over_tls}"
        ) from None
    try:
        workers, sent = ship(client, bundle)
        batch = Batch(client, assignment, bundle, workers, uuid.uuid4().hex, display)
        batch.run(
            tasks,
            done,
            task_limit(assignment, display) if task_seconds is None else task_seconds,
        )
        return sent
    finally:
        try:
            # stop the graders' sandboxed workers until the next batch
            client.run(close_idle_graders)
        except Exception:  # a worker that is gone has nothing to stop
            pass
        client.close()


def ship(client, bundle: Bundle) -> tuple[list[str], int]:
    """Every worker of the cluster now holds the bundle; those that lacked it were sent
    it. (workers, sent)"""
    held = client.run(_holds, bundle.key)
    if not held:
        raise UsageError(
            "the Dask cluster has no workers; start some with `dask worker ADDRESS "
            "--nthreads 1`"
        )
    missing = [worker for worker, has in held.items() if not has]
    failed = {}
    if missing:
        answers = client.run(
            install, bundle.key, bundle.data, workers=missing, on_error="return"
        )
        failed = {
            worker: answer
            for worker, answer in answers.items()
            if isinstance(answer, BaseException)
        }
    ready = sorted(worker for worker in held if worker not in failed)
    if not ready:
        first = next(iter(failed.values()))
        raise UsageError(
            f"no Dask worker could unpack the course ({type(first).__name__}: "
            f"{first}); check the workers' disk space, or set {BUNDLES_VARIABLE} to a "
            "folder they can write"
        )
    return ready, len(missing) - len(failed)


def _holds(key: str) -> bool:
    return installed(key) is not None


class Batch:
    """The tasks of one batch on the cluster, a few per worker at a time."""

    def __init__(
        self,
        client,
        assignment: Assignment,
        bundle: Bundle,
        workers: list[str],
        token: str,
        display: bool,
    ):
        self.client, self.assignment, self.bundle = client, assignment, bundle
        self.workers, self.token, self.display = workers, token, display
        # task index -> nbgrader's files read with its notebook
        self.files: dict[int, NbgraderFiles | None] = {}

    def submit(self, task: Task):
        # as a submission is read: never through a link, bounded (the error is the
        # result's message), and with nbgrader's files beside it, which go with its
        # result (the worker gets the notebook alone)
        read = read_together(
            task.notebook,
            lambda: read_bytes(task.notebook, self.assignment.limits.max_notebook_mb),
        )
        notebook, problem, self.files[task.index] = (
            read.value,
            str(read.error or ""),
            read.files,
        )
        return self.client.submit(
            grade_sent,
            self.bundle.key,
            self.assignment.name,
            task.student,
            task.notebook.name,
            notebook,
            problem,
            self.token,
            self.display,
            pure=False,
            key=f"autograde-{task.index}-{self.token}",
            workers=self.workers,
            allow_other_workers=False,
        )

    def run(self, tasks: Sequence[Task], done: Done, limit: float) -> None:
        """Report each task as it finishes; give up on one that has run (been
        processing) for over `limit` s."""
        from distributed import as_completed

        queue = list(reversed(tasks))
        window = max(1, IN_FLIGHT_PER_WORKER * len(self.workers))
        pending: dict[Any, Task] = {}  # future -> its task
        since: dict[str, float] = {}  # key -> when a worker was first seen running it
        finished = as_completed()
        while queue or pending:
            while queue and len(pending) < window:
                task = queue.pop()
                future = self.submit(task)
                pending[future] = task
                finished.add(future)
            for future in (
                finished.next_batch(block=False) if finished.has_ready() else []
            ):
                reported = pending.pop(future, None)
                if reported is not None:
                    _report(
                        future,
                        reported,
                        self.assignment,
                        done,
                        self.files.pop(reported.index, None),
                    )
            now = time.monotonic()
            running = {
                key for keys in self.client.processing().values() for key in keys
            }
            for future, task in list(pending.items()):
                started = (
                    since.setdefault(future.key, now)
                    if future.key in running
                    else since.get(future.key)
                )
                if started is not None and now - started > limit:
                    del pending[future]
                    future.cancel()
                    done(
                        task,
                        lost_result(
                            self.assignment,
                            task,
                            f"the Dask worker grading it did not finish "
                            f"within {limit:g} s",
                        ),
                        False,
                    )
            time.sleep(POLL_SECONDS if pending and not finished.has_ready() else 0)


def _report(
    future,
    task: Task,
    assignment: Assignment,
    done: Done,
    files: NbgraderFiles | None = None,
) -> None:
    try:
        reply = future.result()
    # the Dask worker died (KilledWorker) or the task was lost
    except Exception as error:
        done(
            task,
            lost_result(
                assignment,
                task,
                f"the Dask worker grading it failed ({type(error).__name__})",
            ),
            False,
        )
        return
    result = decode_reply(json.loads(reply))
    # as the user named it, like a local run (workers got its bytes)
    result.notebook = str(task.notebook)
    result.nbgrader_files = files
    done(task, result, True)

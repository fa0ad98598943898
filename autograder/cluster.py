"""Grade a batch on a Dask distributed cluster: each Dask worker grades whole submissions.

Every Dask worker process keeps one `Grader` (with its own sandboxed worker) for the batch, the
same code path as a local grader process (`parallel.grade_here`). Tasks and replies are plain
strings (paths in, our result JSON out). The course folder and the notebooks must be readable on
every Dask worker at the same absolute paths (a shared filesystem), with the same environment
installed; start workers with one thread each (`dask worker ADDRESS --nthreads 1 --nworkers N`),
since a grader process grades one submission at a time. A task that has been running for longer
than `parallel.task_limit` is given up (its submission reported as crashed, to grade again with
--resume), as a hung local grader process is.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Sequence

from .config import Assignment
from .errors import UsageError
from .host import close_idle_graders, grade_json
from .parallel import Done, Task, decode_reply, lost_result, task_limit

CONNECT_TIMEOUT = "20s"
POLL_SECONDS = 0.2  # how often the client looks for finished and overlong tasks


def grade_on_cluster(assignment: Assignment, tasks: Sequence[Task], address: str, done: Done,
                     task_seconds: float | None = None, display: bool = False) -> None:
    """Grade `tasks` on the Dask cluster whose scheduler is at `address`; a task running for longer than
    `task_seconds` (default `parallel.task_limit`) is given up."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise UsageError("--scheduler needs the `distributed` package; install the project again "
                         "(`make install`)") from None
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT)
    except OSError as error:
        raise UsageError(f"cannot reach the Dask scheduler at {address} ({error}); start one with "
                         "`dask scheduler` and give its address (tcp://HOST:8786)") from None
    batch = uuid.uuid4().hex
    limit = task_limit(assignment) if task_seconds is None else task_seconds
    try:
        futures = {client.submit(grade_json, str(assignment.root), assignment.name, task.student,
                                 os.path.abspath(task.notebook), batch, display, pure=False,  # as found: no link followed
                                 key=f"autograde-{task.index}-{batch}"): task for task in tasks}
        _collect(client, futures, assignment, done, limit, as_completed)
    finally:
        try:
            client.run(close_idle_graders)  # stop the graders' sandboxed workers until the next batch
        except Exception:  # a worker that is gone has nothing to stop
            pass
        client.close()


def _collect(client, futures: dict, assignment: Assignment, done: Done, limit: float, as_completed) -> None:
    """Report each task as it finishes; give up on one that has run (been processing) for over `limit` s."""
    pending, since = dict(futures), {}
    finished = as_completed(futures)
    while pending:
        for future in finished.next_batch(block=False) if finished.has_ready() else []:
            task = pending.pop(future, None)
            if task is not None:
                _report(future, task, assignment, done)
        now = time.monotonic()
        running = {key for keys in client.processing().values() for key in keys}
        for future, task in list(pending.items()):
            started = since.setdefault(future.key, now) if future.key in running else since.get(future.key)
            if started is not None and now - started > limit:
                del pending[future]
                future.cancel()
                done(task, lost_result(assignment, task, f"the Dask worker grading it did not finish "
                                       f"within {limit:g} s"), False)
        time.sleep(POLL_SECONDS if pending else 0)


def _report(future, task: Task, assignment: Assignment, done: Done) -> None:
    try:
        reply = future.result()
    except Exception as error:  # the Dask worker died (KilledWorker) or the task was lost
        done(task, lost_result(assignment, task, f"the Dask worker grading it failed "
                               f"({type(error).__name__})"), False)
        return
    result = decode_reply(json.loads(reply))
    result.notebook = str(task.notebook)  # as the user named it, like a local run (workers got it absolute)
    done(task, result, True)

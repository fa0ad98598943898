"""Grade a batch on a Dask distributed cluster: each Dask worker grades whole submissions.

Every Dask worker process keeps one `Grader` (with its own sandboxed worker) for the batch, the
same code path as a local grader process (`parallel.grade_here`). Tasks and replies are plain
strings (paths in, our result JSON out). The course folder and the notebooks must be readable on
every Dask worker at the same absolute paths (a shared filesystem), with the same environment
installed; start workers with one thread each (`dask worker ADDRESS --nthreads 1 --nworkers N`),
since a grader process grades one submission at a time.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence

from .config import Assignment
from .errors import UsageError
from .host import close_idle_graders, grade_json
from .parallel import Done, Task, decode_reply, lost_result

CONNECT_TIMEOUT = "20s"


def grade_on_cluster(assignment: Assignment, tasks: Sequence[Task], address: str, done: Done) -> None:
    """Grade `tasks` on the Dask cluster whose scheduler is at `address`."""
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
    try:
        futures = {client.submit(grade_json, str(assignment.root), assignment.name, task.student,
                                 str(task.notebook.resolve()), batch, pure=False,
                                 key=f"autograde-{task.index}-{batch}"): task for task in tasks}
        for future in as_completed(futures):
            task = futures[future]
            try:
                reply = future.result()
            except Exception as error:  # the Dask worker died (KilledWorker) or the task was lost
                done(task, lost_result(assignment, task, f"the Dask worker grading it failed "
                                       f"({type(error).__name__})"), False)
                continue
            result = decode_reply(json.loads(reply))
            result.notebook = str(task.notebook)  # as the user named it, like a local run (workers got it absolute)
            done(task, result, True)
    finally:
        try:
            client.run(close_idle_graders)  # stop the graders' sandboxed workers until the next batch
        except Exception:  # a worker that is gone has nothing to stop
            pass
        client.close()

"""A grader process for a parallel batch: keeps one `Grader` (and so one sandboxed
worker) and grades the submissions it is handed, one at a time.

Started by `parallel.py` as `python -m autograder.batch.host PARENT_PID ROOT ASSIGNMENT`
(requests and replies are JSON frames on stdin/stdout; its worker starts before the
grader's imports, so their costs overlap), or used inside a Dask worker process by
`cluster.py`. Either way a task goes in as plain strings and comes back as our own
`SubmissionResult.to_dict()`: nothing the student's worker made crosses, and nothing is
pickled.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if __name__ == "__main__":
    # jsonschema (under nbformat) imports rfc3987_syntax when it is installed, which
    # builds a grammar for ~1 s per process start; nbformat's schemas check no formats,
    # so our grader processes skip it.
    # None blocks the import; typeshed types sys.modules' values as modules only
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

from ..course.config import load_assignment
from ..errors import AutograderError
from ..running import framing
from .here import Here

if TYPE_CHECKING:
    from ..grade import Grader

PR_SET_PDEATHSIG = 1

# this process's Graders, kept warm between submissions, and a worker started with the
# process for its first one
_here = Here()
_batch = {"token": ""}
# one submission at a time per process: pytest.main is not thread-safe
_lock = threading.Lock()


def grade_here(
    root: str,
    assignment: str,
    student: str,
    notebook: str,
    batch: str = "",
    display: bool = False,
    problem: str = "",
) -> dict:
    """Grade one submission with this process's cached Grader: {"result": ...} or
    {"fatal": ...}. With `display`, the result carries what its cells showed (for the
    autograded/ notebooks); with a `problem` (why the notebook could not be read where
    it was found) it is invalid, saying so."""
    with _lock:
        try:
            grader = _grader(root, assignment, batch, display)
            result = (
                grader.refuse(student, Path(notebook), problem)
                if problem
                else grader.grade(student, Path(notebook))
            )
        # the assignment itself is broken: the batch stops
        except AutograderError as error:
            return {"fatal": {"message": str(error), "exit_code": int(error.exit_code)}}
        return {"result": result.to_dict(outputs=display)}


def grade_sent(
    key: str,
    assignment: str,
    student: str,
    filename: str,
    notebook: bytes | None,
    problem: str,
    batch: str = "",
    display: bool = False,
) -> str:
    """A Dask task: grade a notebook sent as bytes against the course bundle `key`
    unpacked on this machine (`bundle.py`); `problem` is why the client could not read
    it (then it is invalid). JSON text."""
    from .bundle import installed

    root = installed(key)
    if root is None:
        return json.dumps(
            {
                "fatal": {
                    "message": (
                        f"this Dask worker has no copy of the course (bundle {key}); "
                        "grade again: the batch sends it to every worker it finds"
                    ),
                    "exit_code": 1,
                }
            }
        )
    name = Path(filename).name
    name = name if name not in ("", ".", "..") else "submission.ipynb"
    with tempfile.TemporaryDirectory(prefix="autograder-task-") as folder:
        path = Path(folder) / name
        if notebook is not None:
            path.write_bytes(notebook)
        return json.dumps(
            grade_here(
                str(root), assignment, student, str(path), batch, display, problem
            )
        )


def _grader(root: str, assignment: str, batch: str, display: bool) -> Grader:
    """This process's Grader for the assignment (under `_lock`); a new batch starts from
    fresh files."""
    if batch != _batch["token"]:  # a new batch on a long-lived process
        close_graders()
        _batch["token"] = batch
    return _here.grader(load_assignment(assignment, Path(root)), display)


def close_graders() -> None:
    """Stop every cached Grader's worker (edited solutions and hidden tests are imported
    again by `runner.load_reference` and `runner.forget_other_suites` when their files
    change)."""
    _here.close()


def close_idle_graders() -> None:
    """`close_graders` unless a submission is being graded right now (the next batch
    closes them then)."""
    if _lock.acquire(blocking=False):
        try:
            close_graders()
        finally:
            _lock.release()


def start_early(root: str, assignment: str) -> None:
    """Start the worker for the batch's assignment now, before the grader's imports (a
    failure here is the first Grader's to report)."""
    from ..running.sandbox import build_launch
    from ..running.worker_process import Worker

    try:
        launch = build_launch(load_assignment(assignment, Path(root)).release_dir)
        _here.prepare(root, assignment, launch, Worker(launch).spawn())
    except Exception:
        pass


def serve(parent: int, root: str = "", assignment: str = "") -> None:
    """Answer {"root", "assignment", "student", "notebook"} frames until stdin
    closes."""
    _die_with(parent)
    if root and assignment:
        start_early(root, assignment)
    control_in, control_out = os.dup(0), os.dup(1)
    os.dup2(2, 1)  # the protocol owns the original stdout; stray prints go to stderr
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the batch's to handle
    try:
        while True:
            try:
                request = framing.read_frame(control_in)
            except (EOFError, framing.ProtocolError):
                break
            reply = grade_here(
                request["root"],
                request["assignment"],
                request["student"],
                request["notebook"],
                display=bool(request.get("display")),
            )
            framing.write_frame(control_out, reply)
    finally:
        close_graders()


def _die_with(parent: int) -> None:
    """A grader process left behind by a killed batch would hold its worker forever."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(
            PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0
        )
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the batch was gone before the line above took effect
        os._exit(1)


if __name__ == "__main__":
    serve(int(sys.argv[1]), *sys.argv[2:4])
    # Without tearing down pytest, NumPy and pandas (0.15 s, which the batch waits for
    # at its end): every reply is written and the worker is stopped.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)

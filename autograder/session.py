"""The grader's handle on the worker: start it, run one submission's cells, call its functions.

`Worker` owns the process (one per batch and job); `StudentSession` is one submission on it and the
object the hidden tests see as the `student` fixture. Every answer is decoded strictly; every
failure becomes one of our exceptions with a message written for the student.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from dataclasses import dataclass, field
from typing import Any

from . import protocol
from .checks import Mismatch, call_text
from .config import Limits
from .errors import NotPlainData, StudentError, WorkerCrashed, WorkerTimeout
from .sandbox import Launch

KEEPING_INPUTS = "autograder_call_keeping_inputs"
# Public helper run in the student's namespace: it calls one of the notebook's functions and sends
# back its value and the arguments as the call left them. It holds nothing secret; the grader compares.
KEEPING_INPUTS_SOURCE = f'''
def {KEEPING_INPUTS}(name, *args):
    result = globals()[name](*args)
    return result, args
'''

MARGIN = 5.0  # seconds the grader waits beyond the worker's own deadlines before killing it
START_TIMEOUT = 60.0


class MissingFunction(StudentError):
    """The notebook does not define a function a test needs."""


class Worker:
    """One worker process (zygote); restarted transparently if it dies."""

    def __init__(self, launch: Launch):
        self.launch = launch
        self.process: subprocess.Popen | None = None

    def ensure_started(self) -> None:
        if self.process is not None and self.process.poll() is None:
            return
        self.stop()  # a worker that died: close its pipes before starting the next
        self.process = subprocess.Popen(
            self.launch.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=self.launch.env,
            start_new_session=True,
            close_fds=True,
        )
        try:
            reply = self._read(START_TIMEOUT)
        except (EOFError, protocol.ProtocolError, WorkerTimeout):  # it exited or printed something else
            reply = {}
        if not reply.get("ready"):
            self.stop()
            raise WorkerCrashed("the worker did not start; run `autograder doctor` to see why")

    def request(self, message: dict, timeout: float) -> dict:
        self.ensure_started()
        try:
            protocol.write_frame(self.process.stdin.fileno(), message)
            return self._read(timeout + MARGIN)
        except (BrokenPipeError, EOFError, protocol.ProtocolError, WorkerTimeout):
            self.stop()
            return {"ok": False, "crashed": "the worker process stopped answering and was restarted"}

    def _read(self, timeout: float) -> dict:
        fd = self.process.stdout.fileno()
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            raise WorkerTimeout("the worker did not answer in time")
        return protocol.read_frame(fd)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                protocol.write_frame(self.process.stdin.fileno(), {"op": "quit"})
                self.process.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                pass
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            stream.close()
        self.process = None

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


@dataclass
class CellOutcome:
    number: int
    status: str  # ok | error | timeout | skipped
    error: Any = None
    output: str = ""


@dataclass
class Execution:
    """How the notebook's cells ran in the worker."""

    status: str = "ok"  # ok | timeout | crashed
    message: str = ""
    cells: list[CellOutcome] = field(default_factory=list)

    def errors(self) -> list[CellOutcome]:
        return [c for c in self.cells if c.status in ("error", "timeout")]


class StudentSession:
    """One submission running in the worker; the hidden tests call its functions through it."""

    MAX_RESTARTS = 2

    def __init__(self, worker: Worker, cells: list[dict], limits: Limits):
        self.worker, self.limits = worker, limits
        self.cells = cells  # [{"number", "source", "skip"}]
        self.started = time.monotonic()
        self.execution = Execution()
        self.restarts = 0
        self.alive = False
        self.timed_out: dict[str, str] = {}  # function name -> message; later calls fail fast

    # -- the notebook ----------------------------------------------------------------------------

    def run_notebook(self) -> Execution:
        """Execute every cell; a cell that hangs for good is skipped on a restart."""
        skipped: set[int] = set()
        while True:
            cells = [dict(c, skip=c["skip"] or c["number"] in skipped) for c in self.cells]
            reply = self.worker.request(
                {"op": "start", "cells": cells, "limits": self._limits_dict()},
                self.limits.timeout,
            )
            if reply.get("ok"):
                self.alive = True
                self.execution.cells = [CellOutcome(**c) for c in reply["cells"]]
                for number in skipped:
                    self._mark(number, "timeout", f"cell {number} did not finish within "
                               f"{self.limits.cell_timeout:g} s and was skipped")
                return self.execution
            self.alive = False
            cell = reply.get("cell")
            if reply.get("timeout") and not reply.get("whole") and cell and self.restarts < self.MAX_RESTARTS:
                skipped.add(cell)
                self.restarts += 1
                continue
            self.execution.status = "timeout" if reply.get("timeout") else "crashed"
            self.execution.message = self._failure(reply)
            return self.execution

    def _mark(self, number: int, status: str, error: str) -> None:
        for cell in self.execution.cells:
            if cell.number == number:
                cell.status, cell.error = status, error

    def _failure(self, reply: dict) -> str:
        cell = f" in cell {reply['cell']}" if reply.get("cell") else ""
        if reply.get("timeout"):
            if reply.get("whole"):
                return f"the notebook used up its time limit of {self.limits.timeout:g} s{cell}"
            return f"the notebook did not finish{cell} within {self.limits.cell_timeout:g} s"
        return f"the notebook's process ended unexpectedly{cell}: {reply.get('crashed')}"

    def _limits_dict(self) -> dict:
        remaining = self.limits.timeout - (time.monotonic() - self.started)
        return {**self.limits.__dict__, "timeout": max(remaining, 1.0)}

    # -- calls -----------------------------------------------------------------------------------

    def call(self, name: str, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        """Call the student's `name` with plain-data copies of the arguments; return plain data."""
        if name in self.timed_out:
            raise WorkerTimeout(self.timed_out[name])
        message = {"op": "call", "name": name, "args": protocol.encode(list(args)),
                   "kwargs": protocol.encode(tuple(kwargs.items()))}
        return self._request(message, timeout, what=call_text(name, *args, **kwargs))

    def call_keeping_inputs(self, name: str, *args: Any) -> tuple[Any, tuple]:
        """(value, arguments as the call left them) of the student's name(*args), to see what it changes in place."""
        self.exec(KEEPING_INPUTS_SOURCE)
        value = self.call(KEEPING_INPUTS, name, *args)
        if not (isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], tuple)
                and len(value[1]) == len(args)):
            raise Mismatch(f"{call_text(name, *args)} could not be checked for changed arguments")
        return value

    def exec(self, source: str, timeout: float | None = None) -> None:
        """Run trusted, public code (e.g. a provided cell of the master) in the student's namespace."""
        self._request({"op": "exec", "source": source}, timeout, what="the provided code")

    def _request(self, message: dict, timeout: float | None, what: str) -> Any:
        name = message.get("name", "")
        remaining = self.limits.timeout - (time.monotonic() - self.started)
        if remaining <= 0:
            raise WorkerTimeout(f"the submission used up its time limit of {self.limits.timeout:g} s")
        if not self.alive:
            self._restart()
        limit = min(timeout or self.limits.call_timeout, remaining)
        reply = self.worker.request({**message, "timeout": limit}, limit)
        if reply.get("ok"):
            return _decode(reply.get("value"), what)
        if reply.get("timeout"):
            if "whole" in reply:  # the zygote killed it: the notebook has to run again
                self.alive = False
            text = f"{what} did not return within {limit:g} s (an endless loop?)"
            if name:
                self.timed_out[name] = text
            raise WorkerTimeout(text)
        if "missing" in reply:
            raise MissingFunction(_missing_message(reply["missing"], reply.get("defined", []), self.execution))
        if "crashed" in reply:
            self.alive = False
            raise WorkerCrashed(f"the notebook's process ended while running {what}: {reply['crashed']}")
        raise _student_error(what, reply.get("error") or {})

    def _restart(self) -> None:
        if self.restarts >= self.MAX_RESTARTS:
            raise WorkerCrashed("the notebook could not be run again after an earlier crash or timeout")
        self.restarts += 1
        if self.run_notebook().status != "ok":
            raise WorkerCrashed(self.execution.message)

    def close(self) -> None:
        self.worker.request({"op": "end"}, 10)
        self.alive = False

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, *args, **kwargs)


def _student_error(what: str, error: dict) -> StudentError:
    kind, text, where = (str(error.get(k, "")) for k in ("type", "message", "where"))
    at = f" (at {where})" if where else ""
    if kind == "NotImplementedError":
        return StudentError(f"{what} raised NotImplementedError: this function is not written yet{at}", where)
    return StudentError(f"{what} raised {kind or 'an error'}" + (f": {text}" if text else "") + at, where)


def _decode(value: Any, what: str) -> Any:
    try:
        result = protocol.decode(value)
    except protocol.ProtocolError as error:
        raise NotPlainData(f"{what} returned something the grader cannot read ({error})") from None
    return result


def _missing_message(name: str, defined: list[str], execution: Execution) -> str:
    text = f"your notebook does not define `{name}`"
    errors = execution.errors()
    if errors:
        first = errors[0]
        detail = first.error.get("type", "") if isinstance(first.error, dict) else str(first.error)
        text += f" (cell {first.number} stopped with {detail}; fix it and run all cells again)"
    close = [d for d in defined if d.lower().replace("_", "") == name.lower().replace("_", "")]
    if close:
        text += f"; did you mean `{close[0]}`? The name must be exactly `{name}`"
    return text

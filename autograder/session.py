"""The grader's handle on the worker: start it, run one submission's cells, call its functions.

`Worker` owns the process (one per batch and job); `StudentSession` is one submission on it and the
object the hidden tests see as the `student` fixture. Every answer is decoded strictly; every
failure becomes one of our exceptions with a message written for the student.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from typing import Any

from . import protocol
from .checks import Mismatch, call_text
from .config import Limits
from .errors import NotPlainData, StudentError, WorkerCrashed, WorkerTimeout
from .sandbox import Launch, with_files

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
READY_BYTES = 4096  # the worker's first frame says it is ready, nothing more


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
        with with_files(self.launch.argv, self.launch.files) as (argv, fds):  # fds: files written for the sandbox
            self.process = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=self.launch.env,
                start_new_session=True,
                close_fds=True,
                pass_fds=fds,
            )
        try:
            reply = protocol.read_frame(self.process.stdout.fileno(), time.monotonic() + START_TIMEOUT,
                                        max_bytes=READY_BYTES)
        except (EOFError, OSError, protocol.ProtocolError):  # it exited, hung or printed something else
            reply = {}
        if not reply.get("ready"):
            self.stop()
            raise WorkerCrashed("the worker did not start; run `autograder doctor` to see why")

    def request(self, message: dict, timeout: float, max_bytes: int = protocol.MAX_FRAME) -> dict:
        """Send one request and read its reply, both within `timeout` + MARGIN seconds. A worker that
        misses the deadline (even in the middle of a frame), or breaks the protocol, is killed (the next
        request starts a new one); a reply over `max_bytes` or protocol.MAX_TOKENS is dropped unparsed."""
        self.ensure_started()
        deadline = time.monotonic() + timeout + MARGIN
        try:
            protocol.write_frame(self.process.stdin.fileno(), message, deadline)
            return clean_reply(protocol.read_frame(self.process.stdout.fileno(), deadline, max_bytes,
                                                   protocol.MAX_TOKENS))
        except protocol.FrameTooLarge as error:
            self._skip(error.unread, deadline)
            return {"ok": False, "oversized": str(error)}
        except (OSError, EOFError, protocol.ProtocolError):
            self.stop()
            return {"ok": False, "crashed": "the worker process stopped answering and was restarted"}

    def _skip(self, size: int, deadline: float) -> None:
        """Read past the rest of a refused frame, so the worker can answer the next request."""
        try:
            protocol.discard(self.process.stdout.fileno(), size, deadline)
        except (OSError, EOFError, protocol.ProtocolError):
            self.stop()

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                protocol.write_frame(self.process.stdin.fileno(), {"op": "quit"}, time.monotonic() + 1)
                self.process.wait(timeout=2)
            except (OSError, protocol.ProtocolError, subprocess.TimeoutExpired):
                pass
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:  # unflushed bytes to a worker that is gone
                pass
        self.process = None

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


TEXT_LIMITS = {"type": 100, "message": protocol.MAX_TEXT, "where": 300}
MAX_NAMES = 40  # names listed when a function is missing


def clean_reply(reply: dict) -> dict:
    """The fields of a worker's reply that the grader reads, as bounded plain values: the child wrote
    them, so each has its expected type (or is dropped) and every text is capped (`protocol.text`)."""
    clean: dict[str, Any] = {"ok": reply.get("ok") is True}
    for key in ("timeout", "whole", "ready", "missing"):
        if key in reply:
            clean[key] = bool(reply[key])
    for key in ("crashed", "oversized", "setup", "restart"):
        if key in reply:
            clean[key] = protocol.text(reply[key]) or "no reason given"
    if type(reply.get("cell")) is int:
        clean["cell"] = reply["cell"]
    if isinstance(reply.get("defined"), list):
        clean["defined"] = [protocol.text(n, 100) for n in reply["defined"][:MAX_NAMES] if isinstance(n, str)]
    if "error" in reply:
        clean["error"] = error_fields(reply["error"])
    for key in ("value", "cells"):  # decoded strictly by their readers
        if key in reply:
            clean[key] = reply[key]
    return clean


def error_fields(error: Any) -> dict[str, str]:
    """An error the worker described, as {type, message, where}, each capped."""
    if not isinstance(error, dict):
        return {"type": "", "message": protocol.text(error), "where": ""}
    return {key: protocol.text(error.get(key), limit) for key, limit in TEXT_LIMITS.items()}


def cell_outcomes(raw: Any, sent: list[dict], output_limit: int) -> list[CellOutcome]:
    """The outcome of each cell that was sent, at most once each, in the order reported."""
    numbers = {cell["number"] for cell in sent}
    outcomes = []
    for item in raw if isinstance(raw, list) else []:
        number = item.get("number") if isinstance(item, dict) else None
        if type(number) is not int or number not in numbers:
            continue
        numbers.discard(number)
        status = item.get("status") if item.get("status") in CELL_STATUSES else "error"
        error = item.get("error")
        error = error_fields(error) if isinstance(error, dict) else (protocol.text(error) or None)
        outcomes.append(CellOutcome(number, status, error, protocol.text(item.get("output"), output_limit)))
    return outcomes


CELL_STATUSES = ("ok", "error", "timeout", "skipped")


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
                self.limits.timeout, self._max_bytes,
            )
            if reply.get("ok"):
                self.alive = True
                self.execution.cells = cell_outcomes(reply.get("cells"), cells, self.limits.max_output_kb * 1024 + 100)
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
        if "setup" in reply:
            return f"the notebook could not be started: {protocol.text(reply['setup'])}"
        if "oversized" in reply:
            return f"the notebook's cells sent back {reply['oversized']}; print less"
        cell = f" in cell {reply['cell']}" if isinstance(reply.get("cell"), int) else ""
        if reply.get("timeout"):
            if reply.get("whole"):
                return f"the notebook used up its time limit of {self.limits.timeout:g} s{cell}"
            return f"the notebook did not finish{cell} within {self.limits.cell_timeout:g} s"
        return f"the notebook's process ended unexpectedly{cell}: {reply.get('crashed')}"

    @property
    def _max_bytes(self) -> int:
        return int(self.limits.max_reply_mb * 1024 * 1024)

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
        reply = self.worker.request({**message, "timeout": limit}, limit, self._max_bytes)
        if reply.get("ok"):
            return _decode(reply.get("value"), what)
        if "oversized" in reply:
            raise NotPlainData(f"{what} returned {reply['oversized']}")
        if reply.get("timeout"):
            if "whole" in reply:  # the zygote killed it: the notebook has to run again
                self.alive = False
            text = f"{what} did not return within {limit:g} s (an endless loop?)"
            if name:
                self.timed_out[name] = text
            raise WorkerTimeout(text)
        if reply.get("missing"):
            raise MissingFunction(_missing_message(name, reply.get("defined", []), self.execution))
        if "crashed" in reply:
            self.alive = False
            raise WorkerCrashed(f"the notebook's process ended while running {what}: {reply['crashed']}")
        raise _student_error(what, reply.get("error") or error_fields(None))

    def _restart(self) -> None:
        if self.restarts >= self.MAX_RESTARTS:
            raise WorkerCrashed("the notebook could not be run again after an earlier crash or timeout")
        self.restarts += 1
        if self.run_notebook().status != "ok":
            raise WorkerCrashed(self.execution.message)

    def close(self) -> None:
        if self.worker.request({"op": "end"}, 10).get("restart"):
            self.worker.stop()  # it could not clean up after this submission: the next one gets a new worker
        self.alive = False

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, *args, **kwargs)


def _student_error(what: str, error: dict[str, str]) -> StudentError:
    kind, text, where = error["type"], error["message"], error["where"]
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

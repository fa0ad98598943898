"""One submission in the worker: run its cells, call its functions (the `student` fixture of the hidden tests).

`StudentSession` runs on a `Worker` (worker_process.py). Every answer is decoded strictly; every
failure becomes one of our exceptions with a message written for the student.
"""

from __future__ import annotations

import time
from typing import Any

from .. import names
from ..course.config import Limits
from ..errors import NotPlainData, WorkerCrashed, WorkerTimeout
from ..mismatch import Mismatch, call_text
from . import protocol, references
from .cell_outputs import CellOutputs, cell_outcomes
from .outcomes import (
    Execution,
    MissingFunction,
    decode_value,
    missing_message,
    student_error,
)
from .worker_process import START_TIMEOUT, Worker, error_fields

END_SECONDS = 10.0  # for the worker to clean up after a submission
PART_SECONDS = 10.0  # for the worker to start a part's process (worker/parts.py)
NO_PART = object()  # no part's process is running
KEEPING_INPUTS = "autograder_call_keeping_inputs"
# Public helper run in the student's namespace: it calls one of the notebook's functions and sends
# back its value and the arguments as the call left them. It holds nothing secret; the grader compares.
KEEPING_INPUTS_SOURCE = f'''
def {KEEPING_INPUTS}(name, *args):
    result = globals()[name](*args)
    return result, args
'''

class StudentSession:
    """One submission running in the worker; the hidden tests call its functions through it.

    Time: the notebook's cells have `limits.timeout`; the calls of each part's tests have
    `limits.part_timeout` of their own (`begin_part`), so a hang in one part costs no other.
    A function that ran out of time is not called again, directly or from another function.
    Isolation: while a part that isolates is tested, calling one graded function makes those it depends
    on (`stand_ins`, suite/dependencies.py) stand-ins for the reference (`references.py`);
    `student.own.f(...)` and `student.isolated.f(...)` choose explicitly.
    Outputs: each cell's outcome holds what Jupyter would show (`CellOutcome.outputs`); with `display`
    the worker also renders values and figures (for a run of its own: `Grader._outputs`).
    """

    MAX_RESTARTS = 2

    def __init__(self, worker: Worker, cells: list[dict], limits: Limits, stand_ins: dict | None = None,
                 reference: Any = None, parts: int = 1, display: bool = False):
        self.worker, self.limits = worker, limits
        self.display = display  # results and figures cost the worker time: only when asked
        self.shown = CellOutputs()  # what the notebook's outputs may still hold
        self.cells = cells  # [{"number", "source", "skip"}]
        self.started = time.monotonic()
        self.execution = Execution()
        self.restarts = 0
        self.alive = False
        self.timed_out: dict[str, str] = {}  # function name -> message; later calls fail fast
        self.stand_ins, self.reference = dict(stand_ins or {}), reference  # graded function -> its stand-ins
        self.isolating = False  # the current part's tests isolate each function (begin_part)
        self.part: str | None = None
        self.part_started: dict[str, float] = {}
        self.forked: object = NO_PART  # the part whose process the calls go to (worker/parts.py)
        self.used: list[str] = []  # the stand-ins the last call asked (what its value depended on)
        self.whole = limits.timeout + parts * limits.part_timeout  # every budget: the worker's own last resort

    def begin_part(self, part: str, isolating: bool) -> None:
        """The tests of `part` run next: its own time budget starts at its first test."""
        self.part, self.isolating = part, isolating
        self.part_started.setdefault(part, time.monotonic())

    @property
    def isolated(self) -> Calls:
        return Calls(self, True)

    @property
    def own(self) -> Calls:
        return Calls(self, False)

    # -- the notebook ----------------------------------------------------------------------------

    def run_notebook(self) -> Execution:
        """Execute every cell; a cell that hangs for good is skipped on a restart."""
        skipped: set[int] = set()
        while True:
            cells = [dict(c, skip=c["skip"] or c["number"] in skipped) for c in self.cells]
            start = {"op": protocol.Op.START, "cells": cells, "limits": self._limits_dict()}
            reply = self.worker.request({**start, "display": True} if self.display else start,
                                        self.limits.timeout, self._max_bytes)
            if reply.get("ok"):
                self.alive, self.forked = True, NO_PART
                self.shown = CellOutputs()
                self.execution.cells = cell_outcomes(reply.get("cells"), cells, self._output_limit, self.shown)
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
            return f"the notebook could not be started: {names.text(reply['setup'])}"
        if "oversized" in reply:
            return f"the notebook's cells sent back {reply['oversized']}; print less"
        cell = f" in cell {reply['cell']}" if isinstance(reply.get("cell"), int) else ""
        if reply.get("timeout"):
            if reply.get("whole"):
                return f"the notebook used up its time limit of {self.limits.timeout:g} s{cell}"
            return f"the notebook did not finish{cell} within {self.limits.cell_timeout:g} s"
        return f"the notebook's process ended unexpectedly{cell}: {reply.get('crashed')}"

    @property
    def _output_limit(self) -> int:
        return self.limits.max_output_kb * 1024 + 100

    @property
    def _max_bytes(self) -> int:
        return int(self.limits.max_reply_mb * 1024 * 1024)

    def _limits_dict(self) -> dict:
        """The limits as the worker gets them: `timeout` is what is left of the current budget, `whole` of all."""
        whole = self.whole - (time.monotonic() - self.started)
        return {**self.limits.__dict__, "timeout": max(self._remaining()[0], 1.0), "whole": max(whole, 1.0)}

    def _remaining(self) -> tuple[float, str]:
        """Seconds left in the current budget (the notebook's, or the current part's), and what it is."""
        if self.part is None:
            budget, started, what = self.limits.timeout, self.started, "the notebook"
        else:
            budget, started, what = self.limits.part_timeout, self.part_started[self.part], f"the part {self.part}"
        return budget - (time.monotonic() - started), f"{what} used up its time limit of {budget:g} s"

    # -- calls -----------------------------------------------------------------------------------

    def call(self, name: str, *args: Any, timeout: float | None = None, isolation: bool | None = None,
             **kwargs: Any) -> Any:
        """Call the student's `name` with plain-data copies of the arguments; return plain data.
        `isolation` (default: the current part's) makes the other graded functions the reference's."""
        # run with the student's own helpers where the part isolates, a hang may be theirs: not held against `name`
        blame = not (self.isolating and isolation is False)
        return self._call(name, args, kwargs, timeout, self._standing_in(name, isolation),
                          call_text(name, *args, **kwargs), blame)

    def _call(self, name: str, args: tuple, kwargs: dict, timeout: float | None, isolate: list[str], what: str,
              blame: bool = True) -> Any:
        if name in self.timed_out:
            raise WorkerTimeout(f"{self.timed_out[name]}; it is not called again")
        message = protocol.call_request(name, args, kwargs, isolate, sorted(self.timed_out))
        return self._request(message, timeout, what=what, blame=blame)

    def _standing_in(self, name: str, isolation: bool | None) -> list[str]:
        """The graded functions `name` depends on, which stand in for the reference while it is called."""
        isolating = self.isolating if isolation is None else isolation
        return list(self.stand_ins.get(name, ())) if isolating and self.reference is not None else []

    def call_keeping_inputs(self, name: str, *args: Any) -> tuple[Any, tuple]:
        """(value, arguments as the call left them) of the student's name(*args), to see what it changes in place."""
        self.exec(KEEPING_INPUTS_SOURCE)
        value = self._call(KEEPING_INPUTS, (name, *args), {}, None, self._standing_in(name, None),
                           call_text(name, *args))
        if not (isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], tuple)
                and len(value[1]) == len(args)):
            raise Mismatch(f"{call_text(name, *args)} could not be checked for changed arguments")
        return value

    def exec(self, source: str, timeout: float | None = None) -> None:
        """Run trusted, public code (e.g. a provided cell of the master) in the student's namespace."""
        self._request({"op": protocol.Op.EXEC, "source": source}, timeout, what="the provided code")

    def _request(self, message: dict, timeout: float | None, what: str, blame: bool = True) -> Any:
        """Send a call or exec and read its value; a call that runs out of time marks its function as hung
        (not called again) when `blame`."""
        name = message.get("name", "")
        remaining, used_up = self._remaining()
        if remaining <= 0:
            raise WorkerTimeout(used_up)
        if not self.alive:
            self._restart()
            remaining, used_up = self._remaining()
        if self.forked != self.part:  # equal names: each test of a part makes its own string
            self._start_part(remaining)
        limit = min(timeout or self.limits.call_timeout, remaining)
        reply = self._exchange({**message, "timeout": limit}, limit)
        if reply.get("ok"):
            self.used = [n for n in reply.get("used", []) if n in message.get("isolate", [])]
            return decode_value(reply.get("value"), what)
        if "oversized" in reply:
            raise NotPlainData(f"{what} returned {reply['oversized']}")
        if reply.get("timeout"):
            if "whole" in reply:  # the zygote killed the part's process, or everything when the time is up
                self.forked = NO_PART
                self.alive = self.alive and not reply["whole"]
            text = f"{what} did not return within {limit:g} s (an endless loop?)"
            if name and blame:
                self.timed_out[name] = text
            raise WorkerTimeout(text)
        if reply.get("missing"):
            raise MissingFunction(missing_message(name, reply.get("defined", []), self.execution))
        if "crashed" in reply:
            self.forked = NO_PART
            self.alive = self.alive and reply.get("part") is True  # a part's process: the notebook's stays
            raise WorkerCrashed(f"the notebook's process ended while running {what}: {reply['crashed']}")
        raise student_error(what, reply.get("error") or error_fields(None))

    def _start_part(self, remaining: float) -> None:
        """The current part's calls go to a process of their own, forked from the state the notebook left:
        nothing an earlier part did, in memory or in files, is seen by this one (worker/parts.py)."""
        reply = self.worker.request({"op": protocol.Op.PART}, min(PART_SECONDS, max(remaining, 1.0)))
        if not reply.get("ok"):
            self.alive = False
            raise WorkerCrashed(f"the tests could not be started: {reply.get('crashed') or 'no answer'}")
        self.forked = self.part

    def _exchange(self, message: dict, limit: float) -> dict:
        """Send a request; answer its stand-ins' questions within its time and size (references.Call) till its reply."""
        call = references.Call(message, time.monotonic() + limit)
        reply = self.worker.request(message, limit, self._max_bytes)
        while reply.get("event") == protocol.Event.REFERENCE:
            answer = references.answer(reply, call, self.reference)
            reply = self.worker.request(answer, call.remaining(), self._max_bytes)
        return call.outcome(reply)

    def _restart(self) -> None:
        if self.restarts >= self.MAX_RESTARTS:
            raise WorkerCrashed("the notebook could not be run again after an earlier crash or timeout")
        self.restarts += 1
        if self.run_notebook().status != "ok":
            raise WorkerCrashed(self.execution.message)

    def close(self) -> None:
        if self.worker.request({"op": protocol.Op.END}, END_SECONDS).get("restart"):
            self.worker.stop()  # it could not clean up after this submission: the next one gets a new worker
        self.alive = False

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, *args, **kwargs)


def longest(limits: Limits, parts: int, display: bool = False) -> float:
    """The longest a submission's grading can take when it uses up every budget it has: its notebook run
    (again after each restart, each on a worker that may have to start first), every part's calls, the
    end of the submission and, with `display`, the run of its own that shows its outputs."""
    notebook = (1 + StudentSession.MAX_RESTARTS) * (limits.timeout + START_TIMEOUT)
    return notebook * (2 if display else 1) + parts * limits.part_timeout + END_SECONDS


class Calls:
    """`student.isolated` / `student.own`: the student's functions called with or without isolation."""

    def __init__(self, session: StudentSession, isolation: bool):
        self._session, self._isolation = session, isolation

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self._session.call(name, *args, isolation=self._isolation, **kwargs)

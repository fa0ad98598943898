"""One submission in the worker, its functions called: the `student` fixture of the
hidden tests.

`StudentSession` runs on a `Worker` (worker_process.py), its notebook run by NotebookRun
(notebook_run.py). Every answer is decoded strictly; every failure becomes one of our
exceptions with a message written for the student."""

from __future__ import annotations

import time
from typing import Any

from ..course.config import Limits
from ..errors import NotPlainData, WorkerCrashed, WorkerTimeout
from ..mismatch import Mismatch, call_text
from . import protocol, references
from .notebook_run import NO_PART, NotebookRun
from .outcomes import MissingFunction, decode_value, missing_message, student_error
from .worker_process import Worker, error_fields

PART_SECONDS = 10.0  # for the worker to start a part's process (worker/parts.py)
KEEPING_INPUTS = "autograder_call_keeping_inputs"
# Public helper run in the student's namespace: it calls one of the notebook's functions
# and sends back its value and the arguments as the call left them. It holds nothing
# secret; the grader compares.
KEEPING_INPUTS_SOURCE = f"""
def {KEEPING_INPUTS}(name, *args):
    result = globals()[name](*args)
    return result, args
"""


class StudentSession(NotebookRun):
    """One submission running in the worker; the hidden tests call its functions through
    it.

    The notebook's run, its time budgets and restarts are NotebookRun's
    (notebook_run.py). A function that ran out of time is not called again, directly or
    from another function. Isolation: while a part that isolates is tested, calling one
    graded function makes those it depends on (`stand_ins`, suite/dependencies.py)
    stand-ins for the reference (`references.py`); `student.own.f(...)` and
    `student.isolated.f(...)` choose explicitly. Outputs: each cell's outcome holds what
    Jupyter would show (`CellOutcome.outputs`); with `display` the worker also renders
    values and figures (for a run of its own: `Grader._outputs`)."""

    def __init__(
        self,
        worker: Worker,
        cells: list[dict],
        limits: Limits,
        stand_ins: dict | None = None,
        reference: Any = None,
        parts: int = 1,
        display: bool = False,
    ):
        super().__init__(worker, cells, limits, parts, display)
        # function name -> message; later calls fail fast
        self.timed_out: dict[str, str] = {}
        self.stand_ins = dict(stand_ins or {})  # graded function -> its stand-ins
        self.reference = reference
        # the current part's tests isolate each function (begin_part)
        self.isolating = False
        # the stand-ins the last call asked (what its value depended on)
        self.used: list[str] = []

    def begin_part(self, part: str, isolating: bool = False) -> None:
        """The tests of `part` run next, each function on its own when `isolating`."""
        super().begin_part(part)
        self.isolating = isolating

    @property
    def isolated(self) -> Calls:
        return Calls(self, True)

    @property
    def own(self) -> Calls:
        return Calls(self, False)

    # -- calls -------------------------------------------------------------------------

    def call(
        self,
        name: str,
        *args: Any,
        timeout: float | None = None,
        isolation: bool | None = None,
        **kwargs: Any,
    ) -> Any:
        """Call the student's `name` with plain-data copies of the arguments; return
        plain data. `isolation` (default: the current part's) makes the other graded
        functions the reference's."""
        # run with the student's own helpers where the part isolates, a hang may be
        # theirs: not held against `name`
        blame = not (self.isolating and isolation is False)
        return self._call(
            name,
            args,
            kwargs,
            timeout,
            self._standing_in(name, isolation),
            call_text(name, *args, **kwargs),
            blame,
        )

    def _call(
        self,
        name: str,
        args: tuple,
        kwargs: dict,
        timeout: float | None,
        isolate: list[str],
        what: str,
        blame: bool = True,
    ) -> Any:
        if name in self.timed_out:
            raise WorkerTimeout(f"{self.timed_out[name]}; it is not called again")
        message = protocol.call_request(
            name, args, kwargs, isolate, sorted(self.timed_out)
        )
        return self._request(message, timeout, what=what, blame=blame)

    def _standing_in(self, name: str, isolation: bool | None) -> list[str]:
        """The graded functions `name` depends on, which stand in for the reference
        while it is called."""
        isolating = self.isolating if isolation is None else isolation
        return (
            list(self.stand_ins.get(name, ()))
            if isolating and self.reference is not None
            else []
        )

    def call_keeping_inputs(self, name: str, *args: Any) -> tuple[Any, tuple]:
        """(value, arguments as the call left them) of the student's name(*args), to see
        what it changes in place."""
        self.exec(KEEPING_INPUTS_SOURCE)
        value = self._call(
            KEEPING_INPUTS,
            (name, *args),
            {},
            None,
            self._standing_in(name, None),
            call_text(name, *args),
        )
        if not (
            isinstance(value, tuple)
            and len(value) == 2
            and isinstance(value[1], tuple)
            and len(value[1]) == len(args)
        ):
            raise Mismatch(
                f"{call_text(name, *args)} could not be checked for changed arguments"
            )
        return value

    def exec(self, source: str, timeout: float | None = None) -> None:
        """Run trusted, public code (e.g. a provided cell of the master) in the
        student's namespace."""
        self._request(
            {"op": protocol.Op.EXEC, "source": source},
            timeout,
            what="the provided code",
        )

    def _request(
        self, message: dict, timeout: float | None, what: str, blame: bool = True
    ) -> Any:
        """Send a call or exec and read its value; a call that runs out of time marks
        its function as hung (not called again) when `blame`."""
        name = message.get("name", "")
        remaining, used_up = self._remaining()
        if remaining <= 0:
            raise WorkerTimeout(used_up)
        if not self.alive:
            self._restart()
            remaining, used_up = self._remaining()
        # equal names: each test of a part makes its own string
        if self.forked != self.part:
            self._start_part(remaining)
        limit = min(timeout or self.limits.call_timeout, remaining)
        reply = self._exchange({**message, "timeout": limit}, limit)
        if reply.get("ok"):
            self.used = [
                n for n in reply.get("used", []) if n in message.get("isolate", [])
            ]
            return decode_value(reply.get("value"), what)
        if "oversized" in reply:
            raise NotPlainData(f"{what} returned {reply['oversized']}")
        if reply.get("timeout"):
            # the zygote killed the part's process, or everything when the time is up
            if "whole" in reply:
                self.forked = NO_PART
                self.alive = self.alive and not reply["whole"]
            text = f"{what} did not return within {limit:g} s (an endless loop?)"
            if name and blame:
                self.timed_out[name] = text
            raise WorkerTimeout(text)
        if reply.get("missing"):
            raise MissingFunction(
                missing_message(name, reply.get("defined", []), self.execution)
            )
        if "crashed" in reply:
            self.forked = NO_PART
            # a part's process: the notebook's stays
            self.alive = self.alive and reply.get("part") is True
            raise WorkerCrashed(
                f"the notebook's process ended while running {what}: {reply['crashed']}"
            )
        raise student_error(what, reply.get("error") or error_fields(None))

    def _start_part(self, remaining: float) -> None:
        """The current part's calls go to a process of their own, forked from the state
        the notebook left: nothing an earlier part did, in memory or in files, is seen
        by this one (worker/parts.py)."""
        reply = self.worker.request(
            {"op": protocol.Op.PART}, min(PART_SECONDS, max(remaining, 1.0))
        )
        if not reply.get("ok"):
            self.alive = False
            raise WorkerCrashed(
                f"the tests could not be started: {reply.get('crashed') or 'no answer'}"
            )
        self.forked = self.part

    def _exchange(self, message: dict, limit: float) -> dict:
        """Send a request; answer its stand-ins' questions within its time and size
        (references.Call) till its reply."""
        call = references.Call(message, time.monotonic() + limit)
        reply = self.worker.request(message, limit, self._max_bytes)
        while reply.get("event") == protocol.Event.REFERENCE:
            answer = references.answer(reply, call, self.reference)
            reply = self.worker.request(answer, call.remaining(), self._max_bytes)
        return call.outcome(reply)

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, *args, **kwargs)


class Calls:
    """`student.isolated` / `student.own`: the student's functions called with or
    without isolation."""

    def __init__(self, session: StudentSession, isolation: bool):
        self._session, self._isolation = session, isolation

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self._session.call(
            name, *args, isolation=self._isolation, **kwargs
        )

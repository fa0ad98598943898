"""A submission's notebook in the worker: its cells run, its time budgets, its restarts,
its end.

`NotebookRun` is the base of `StudentSession` (session.py), which calls the notebook's
functions. Time: the cells have `limits.timeout`; the calls of each part's tests have
`limits.part_timeout` of their own (`begin_part`), so a hang in one part costs no other.
A cell that hangs for good is skipped on a restart; a notebook that crashed or ran out
of time is run again, at most MAX_RESTARTS times."""

from __future__ import annotations

import time

from .. import names
from ..course.config import Limits
from ..errors import WorkerCrashed
from . import protocol
from .cell_outputs import CellOutputs, cell_outcomes
from .outcomes import Execution
from .worker_process import START_TIMEOUT, Worker

END_SECONDS = 10.0  # for the worker to clean up after a submission
NO_PART = object()  # no part's process is running


class NotebookRun:
    """One submission's notebook running in `worker`, with every budget it has."""

    MAX_RESTARTS = 2

    def __init__(
        self,
        worker: Worker,
        cells: list[dict],
        limits: Limits,
        parts: int = 1,
        display: bool = False,
    ):
        self.worker, self.limits = worker, limits
        # results and figures cost the worker time: only when asked
        self.display = display
        self.shown = CellOutputs()  # what the notebook's outputs may still hold
        self.cells = cells  # [{"number", "source", "skip"}]
        self.started = time.monotonic()
        self.execution = Execution()
        self.restarts = 0
        self.alive = False
        self.part: str | None = None
        self.part_started: dict[str, float] = {}
        # the part whose process the calls go to (worker/parts.py)
        self.forked: object = NO_PART
        # every budget: the worker's own last resort
        self.whole = limits.timeout + parts * limits.part_timeout

    def begin_part(self, part: str) -> None:
        """The tests of `part` run next: its own time budget starts at its first one."""
        self.part = part
        self.part_started.setdefault(part, time.monotonic())

    def run_notebook(self) -> Execution:
        """Execute every cell; a cell that hangs for good is skipped on a restart."""
        skipped: set[int] = set()
        while True:
            cells = [
                dict(c, skip=c["skip"] or c["number"] in skipped) for c in self.cells
            ]
            start: dict = {
                "op": protocol.Op.START,
                "cells": cells,
                "limits": self._limits_dict(),
            }
            if self.display:
                start["display"] = True
            reply = self.worker.request(start, self.limits.timeout, self._max_bytes)
            if reply.get("ok"):
                self.alive, self.forked = True, NO_PART
                self.shown = CellOutputs()
                self.execution.cells = cell_outcomes(
                    reply.get("cells"), cells, self._output_limit, self.shown
                )
                for number in skipped:
                    self._mark(
                        number,
                        f"cell {number} did not finish within "
                        f"{self.limits.cell_timeout:g} s and was skipped",
                    )
                return self.execution
            self.alive = False
            cell = reply.get("cell")
            hung = (
                reply.get("timeout")
                and not reply.get("whole")
                and isinstance(cell, int)
            )
            if hung and cell and self.restarts < self.MAX_RESTARTS:
                skipped.add(cell)
                self.restarts += 1
                continue
            self.execution.status = "timeout" if reply.get("timeout") else "crashed"
            self.execution.message = self._failure(reply)
            return self.execution

    def _mark(self, number: int, error: str) -> None:
        for cell in self.execution.cells:
            if cell.number == number:
                cell.status, cell.error = "timeout", error

    def _failure(self, reply: dict) -> str:
        if "setup" in reply:
            return f"the notebook could not be started: {names.text(reply['setup'])}"
        if "oversized" in reply:
            return f"the notebook's cells sent back {reply['oversized']}; print less"
        cell = f" in cell {reply['cell']}" if isinstance(reply.get("cell"), int) else ""
        if reply.get("timeout"):
            if reply.get("whole"):
                limit = self.limits.timeout
                return f"the notebook used up its time limit of {limit:g} s{cell}"
            limit = self.limits.cell_timeout
            return f"the notebook did not finish{cell} within {limit:g} s"
        return (
            f"the notebook's process ended unexpectedly{cell}: {reply.get('crashed')}"
        )

    @property
    def _output_limit(self) -> int:
        return self.limits.max_output_kb * 1024 + 100

    @property
    def _max_bytes(self) -> int:
        return int(self.limits.max_reply_mb * 1024 * 1024)

    def _limits_dict(self) -> dict:
        """The limits as the worker gets them: `timeout` is what is left of the current
        budget, `whole` of all."""
        whole = self.whole - (time.monotonic() - self.started)
        timeout = max(self._remaining()[0], 1.0)
        return {**self.limits.__dict__, "timeout": timeout, "whole": max(whole, 1.0)}

    def _remaining(self) -> tuple[float, str]:
        """Seconds left in the current budget (the notebook's, or the current part's),
        and what it is."""
        if self.part is None:
            budget, started, what = self.limits.timeout, self.started, "the notebook"
        else:
            budget, started = self.limits.part_timeout, self.part_started[self.part]
            what = f"the part {self.part}"
        used_up = f"{what} used up its time limit of {budget:g} s"
        return budget - (time.monotonic() - started), used_up

    def _restart(self) -> None:
        if self.restarts >= self.MAX_RESTARTS:
            raise WorkerCrashed(
                "the notebook could not be run again after an earlier crash or timeout"
            )
        self.restarts += 1
        if self.run_notebook().status != "ok":
            raise WorkerCrashed(self.execution.message)

    def close(self) -> None:
        if self.worker.request({"op": protocol.Op.END}, END_SECONDS).get("restart"):
            # it could not clean up after this submission: the next gets a new worker
            self.worker.stop()
        self.alive = False


def longest(limits: Limits, parts: int, display: bool = False) -> float:
    """The longest a submission's grading can take when it uses up every budget it has:
    its notebook run (again after each restart, each on a worker that may have to start
    first), every part's calls, the end of the submission and, with `display`, the run
    of its own that shows its outputs."""
    notebook = (1 + NotebookRun.MAX_RESTARTS) * (limits.timeout + START_TIMEOUT)
    return notebook * (2 if display else 1) + parts * limits.part_timeout + END_SECONDS

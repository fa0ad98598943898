"""The forked child that runs one student's notebook (cells.py) and then answers calls
with plain data.

Everything here runs next to student code, so nothing here is trusted by the grader: it
only ever receives values through `protocol.decode` and makes every judgement itself.
"""

from __future__ import annotations

import gc
import os
from typing import Any

from .. import framing, protocol
from ..protocol import Op
from . import display
from .cells import NotebookRun, SoftTimeout, describe
from .standins import StandIns


class Child(NotebookRun):
    """The notebook's process, then a part's: after the cells, it answers the
    grader's calls."""

    def __init__(self, rfd: int, wfd: int, start: dict):
        super().__init__(rfd, wfd, start)
        self.stand_ins = StandIns(rfd, wfd, self.max_reply)
        # this process serves one part's calls (forked from the notebook's)
        self.in_part = False
        self.folder = os.getcwd()

    # -- calls -------------------------------------------------------------------------

    def serve(self) -> None:
        while True:
            try:
                request = framing.read_frame(self.rfd)
            except (EOFError, framing.ProtocolError):
                return
            op = request.get("op")
            # the grader's answer to a reference question of a call that timed out
            if op is None:
                continue
            if op == Op.END:
                framing.write_frame(self.wfd, {"ok": True})
                return
            if op == Op.FORK and not self.in_part:
                self._fork()
                continue
            reply = framing.frame(self._answer(op, request))
            # the grader would refuse it: say so instead of sending it
            if len(reply) > self.max_reply:
                reply = framing.frame(
                    {
                        "ok": False,
                        "oversized": f"{len(reply) / 2**20:.1f} MB of data, more than "
                        f"the {self.max_reply / 2**20:g} MB a reply may hold",
                    }
                )
            framing.write_bytes(self.wfd, reply)

    def _fork(self) -> None:
        """A process for the next part's calls, from the state the notebook left
        (worker/parts.py); this one says which and is stopped until the part after it.
        The processes the zygote killed are collected first: until then they count
        against the submission's process limit."""
        _collect_ended()
        # the notebook's objects: no collection in the part's process touches (and
        # copies) their pages
        gc.freeze()
        pid = os.fork()
        if pid == 0:
            self.in_part = True
            try:
                # put back as the notebook left it, wherever a part took the old one
                os.chdir(self.folder)
            except OSError:
                pass
            return
        framing.write_frame(self.wfd, {"ok": True, "forked": pid})

    def _answer(self, op: str, request: dict) -> dict:
        timeout = float(request.get("timeout") or self.limits["call_timeout"])
        try:
            if op == Op.CALL:
                value = self._with_timeout(timeout, self._call, request)
                return {
                    "ok": True,
                    "value": protocol.encode(value),
                    "used": sorted(self.stand_ins.used),
                }
            if op == Op.EXEC:
                self._with_timeout(
                    timeout, self._run_source, request["source"], "<provided>"
                )
                return {"ok": True}
            return {
                "ok": False,
                "error": {
                    "type": "ProtocolError",
                    "message": f"unknown op {op!r}",
                    "where": "",
                },
            }
        except SoftTimeout:
            return {"ok": False, "timeout": True}
        except _Missing as missing:
            return {"ok": False, "missing": missing.args[0], "defined": missing.args[1]}
        except BaseException as error:
            return {"ok": False, "error": describe(error)}
        finally:
            self.output.take()

    def _call(self, request: dict) -> Any:
        name = request["name"]
        function = self.namespace.get(name)
        if function is None:
            raise _Missing(
                name,
                sorted(
                    k
                    for k, v in self.namespace.items()
                    if callable(v) and not k.startswith("_")
                )[:40],
            )
        if not callable(function):
            raise TypeError(f"'{name}' is a {type(function).__name__}, not a function")
        args = protocol.decode(request.get("args", []))
        kwargs = protocol.decode(request.get("kwargs", {"__tuple__": []}))
        with self.stand_ins.installed(self.namespace, request):
            return function(*args, **dict(kwargs))


def _collect_ended() -> None:
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                return
        except ChildProcessError:
            return


class _Missing(Exception):
    pass


def main(rfd: int, wfd: int, start: dict) -> None:
    """Entry point in the forked process: run the notebook, report, then serve calls."""
    child = Child(rfd, wfd, start)
    cells = child.run_notebook(start["cells"])
    framing.write_frame(wfd, {"ok": True, "cells": display.fit(cells, child.max_reply)})
    child.serve()
    os._exit(0)

"""The forked child that runs one student's notebook and then answers calls with plain data.

Everything here runs next to student code, so nothing here is trusted by the grader: it only ever
receives values through `protocol.decode` and makes every judgement itself.
"""

from __future__ import annotations

import gc
import io
import linecache
import os
import signal
import sys
import time
import traceback
import types
from typing import Any

from .. import protocol
from ..protocol import Event, Op
from . import display
from .shell import GradingShell, to_python
from .standins import StandIns

CELL_FILE = "<cell {number}>"


class SoftTimeout(BaseException):
    """Raised inside student code when its time is up (like Jupyter's interrupt)."""


class Child:
    def __init__(self, rfd: int, wfd: int, start: dict):
        self.rfd, self.wfd = rfd, wfd
        self.limits = start["limits"]
        self.module = types.ModuleType("__main__")
        self.namespace = self.module.__dict__
        self.output = display.BoundedText(int(self.limits["max_output_kb"]) * 1024)
        self.namespace["get_ipython"] = lambda: self.shell
        self.shell = GradingShell(self.namespace, self._run_nested)
        self.current = "<cell>"
        self.max_reply = int(float(self.limits["max_reply_mb"]) * 1024 * 1024)
        self.stand_ins = StandIns(rfd, wfd, self.max_reply)
        self.display = start.get("display") is True  # results and figures too: they cost time
        self.figures = display.Figures()
        self.in_part = False  # this process serves one part's calls (forked from the notebook's)
        self.folder = os.getcwd()

    # -- notebook --------------------------------------------------------------------------------

    def run_notebook(self, cells: list[dict]) -> list[dict]:
        sys.modules["__main__"] = self.module
        return [self._run_cell(cell) for cell in cells]

    def _run_cell(self, cell: dict) -> dict:
        number = cell["number"]
        outcome = {"number": number, "status": "ok"}
        if cell.get("skip"):
            outcome.update(status="skipped", outputs=[])
            return outcome
        protocol.write_frame(self.wfd, {"event": Event.CELL, "number": number})  # the zygote's deadline per cell
        self.current = CELL_FILE.format(number=number)
        seconds = float(self.limits["cell_timeout"])
        deadline = time.monotonic() + seconds
        value, result, error, images = None, None, None, []
        try:
            value = self._with_timeout(seconds, self._run_source, cell["source"], self.current, self.display)
        except SoftTimeout as stop:
            outcome.update(status="timeout", error=f"cell {number} did not finish within {seconds:g} s")
            error = display.error_output("TimeoutError", outcome["error"], stop.__traceback__)
        except BaseException as raised:  # SystemExit and KeyboardInterrupt too: the next cell still runs
            outcome.update(status="error", error=describe(raised))
            error = _error_output(raised, outcome["error"])
        finally:
            if self.display:
                result = self._shown_value(value, deadline)
                images = self._render_figures(deadline)
            self._close_figures()
        outcome["output"] = self.output.take()
        outcome["outputs"] = display.outputs(outcome["output"], result, images, error)
        return outcome

    def _run_source(self, source: str, filename: str, shown: bool = False) -> Any:
        """Run code in the notebook's namespace. `shown` (a cell, with display on): its last expression is
        evaluated apart, as Jupyter does, and its value returned."""
        python = to_python(source)
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        code = compile(python, filename, "exec", dont_inherit=True)  # a SyntaxError is the same either way
        if not shown:
            exec(code, self.namespace)
            return None
        body, last = display.split_last_expression(python, filename)
        exec(body, self.namespace)
        return None if last is None else eval(last, self.namespace)

    def _shown_value(self, value: Any, deadline: float) -> str | None:
        """The value's repr as Out[n], in what is left of the cell's time; a repr that raises or hangs is
        a note, never the cell's error: what a cell shows must not change how it ran."""
        left = deadline - time.monotonic()
        if value is None:
            return None
        if left <= 0:
            return "[the value was not shown: the cell's time ran out]"
        try:
            return self._with_timeout(left, display.result_text, value, output=display.BoundedText(0))
        except SoftTimeout:
            return "[the value was not shown: showing it took longer than the cell's time]"
        except BaseException as error:
            return f"[the value was not shown: its repr raised {type(error).__name__}]"

    def _render_figures(self, deadline: float) -> list[dict]:
        """The open figures as images, drawn in what is left of the cell's time (none after a timeout);
        nothing they do (raise, hang, print) reaches the cell's outcome."""
        images: list[dict] = []
        pyplot = sys.modules.get("matplotlib.pyplot")
        left = deadline - time.monotonic()
        if pyplot is None or left <= 0:
            return images
        try:
            self._with_timeout(left, self.figures.render, pyplot, images, output=display.BoundedText(0))
        except SoftTimeout:
            images.append(display.stream("[the other figures were not kept: the cell's time ran out]"))
        except BaseException as error:
            images.append(display.stream(f"[the figures were not kept: drawing them raised {type(error).__name__}]"))
        return images

    def _run_nested(self, source: str) -> None:
        """Code inside a magic (`%time expr`, `%%capture`) runs as part of the current cell."""
        exec(compile(to_python(source), self.current, "exec", dont_inherit=True), self.namespace)

    @staticmethod
    def _close_figures() -> None:
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None:
            try:
                pyplot.close("all")  # as the inline backend does after each cell
            except Exception:
                pass

    # -- calls -----------------------------------------------------------------------------------

    def serve(self) -> None:
        while True:
            try:
                request = protocol.read_frame(self.rfd)
            except (EOFError, protocol.ProtocolError):
                return
            op = request.get("op")
            if op is None:  # the grader's answer to a reference question of a call that timed out
                continue
            if op == Op.END:
                protocol.write_frame(self.wfd, {"ok": True})
                return
            if op == Op.FORK and not self.in_part:
                self._fork()
                continue
            reply = protocol.frame(self._answer(op, request))
            if len(reply) > self.max_reply:  # the grader would refuse it: say so instead of sending it
                reply = protocol.frame({"ok": False, "oversized": f"{len(reply) / 2**20:.1f} MB of data, more than "
                                        f"the {self.max_reply / 2**20:g} MB a reply may hold"})
            protocol.write_bytes(self.wfd, reply)

    def _fork(self) -> None:
        """A process for the next part's calls, from the state the notebook left (worker/parts.py); this one
        says which and is stopped until the part after it. The processes the zygote killed are collected first:
        until then they count against the submission's process limit."""
        _collect_ended()
        gc.freeze()  # the notebook's objects: no collection in the part's process touches (and copies) their pages
        pid = os.fork()
        if pid == 0:
            self.in_part = True
            try:
                os.chdir(self.folder)  # put back as the notebook left it, wherever a part took the old one
            except OSError:
                pass
            return
        protocol.write_frame(self.wfd, {"ok": True, "forked": pid})

    def _answer(self, op: str, request: dict) -> dict:
        timeout = float(request.get("timeout") or self.limits["call_timeout"])
        try:
            if op == Op.CALL:
                value = self._with_timeout(timeout, self._call, request)
                return {"ok": True, "value": protocol.encode(value), "used": sorted(self.stand_ins.used)}
            if op == Op.EXEC:
                self._with_timeout(timeout, self._run_source, request["source"], "<provided>")
                return {"ok": True}
            return {"ok": False, "error": {"type": "ProtocolError", "message": f"unknown op {op!r}", "where": ""}}
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
            raise _Missing(name, sorted(k for k, v in self.namespace.items() if callable(v) and not k.startswith("_"))[:40])
        if not callable(function):
            raise TypeError(f"'{name}' is a {type(function).__name__}, not a function")
        args = protocol.decode(request.get("args", []))
        kwargs = protocol.decode(request.get("kwargs", {"__tuple__": []}))
        with self.stand_ins.installed(self.namespace, request):
            return function(*args, **dict(kwargs))

    # -- shared ----------------------------------------------------------------------------------

    def _with_timeout(self, seconds: float, function, *args, output: io.TextIOBase | None = None):
        def expire(signum, frame):
            raise SoftTimeout()

        previous_out, previous_err = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = self.output if output is None else output
        signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            return function(*args)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            sys.stdout, sys.stderr = previous_out, previous_err


def _collect_ended() -> None:
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                return
        except ChildProcessError:
            return


class _Missing(Exception):
    pass


def describe(error: BaseException) -> dict:
    """Type, message and the student's own line where the error was raised."""
    try:
        message = str(error)[:500]
    except BaseException:  # a student's exception whose __str__ raises
        message = ""
    if isinstance(error, SyntaxError):
        where = f"{error.filename}, line {error.lineno}: {str(error.text or '')[:300].strip()}"
        return {"type": "SyntaxError", "message": str(error.msg or message)[:500], "where": _tidy(where)}
    where = ""
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename.startswith("<cell") or frame.filename == "<provided>":
            where = f"{frame.filename}, line {frame.lineno}, in {frame.name}: {(frame.line or '').strip()}"
    return {"type": str(type(error).__name__)[:100], "message": message, "where": _tidy(where)}


def _error_output(error: BaseException, described: dict) -> dict:
    """The error output of a cell, from what `describe` already read of the error (its str runs once)."""
    if isinstance(error, SyntaxError):
        return display.syntax_error_output(error, described["message"])
    return display.error_output(described["type"], described["message"], error.__traceback__)


def _tidy(where: str) -> str:
    # "<provided>" first: the ">," replacement would otherwise leave "<provided, line 1"
    return where.replace("<provided>", "provided code").replace("<cell ", "cell ").replace(">,", ",")[:300]


def main(rfd: int, wfd: int, start: dict) -> None:
    """Entry point in the forked process: run the notebook, report, then serve calls."""
    child = Child(rfd, wfd, start)
    cells = child.run_notebook(start["cells"])
    protocol.write_frame(wfd, {"ok": True, "cells": display.fit(cells, child.max_reply)})
    child.serve()
    os._exit(0)

"""Running the notebook's cells in the forked child, like Restart & Run All: each cell
under its own time (SoftTimeout, like Jupyter's interrupt), its output bounded, what it
shows as plain data (display.py), and a student's exception as type, message and
where."""

from __future__ import annotations

import io
import linecache
import signal
import sys
import time
import traceback
import types
from typing import Any

from .. import framing
from ..protocol import Event
from . import display
from .shell import GradingShell, to_python

CELL_FILE = "<cell {number}>"


class SoftTimeout(BaseException):
    """Raised inside student code when its time is up (like Jupyter's interrupt)."""


class NotebookRun:
    """The student's namespace and the running of its cells."""

    def __init__(self, rfd: int, wfd: int, start: dict):
        self.rfd, self.wfd = rfd, wfd
        self.limits = start["limits"]
        self.module = types.ModuleType("__main__")
        self.namespace = self.module.__dict__
        self.output = display.BoundedText(int(self.limits["max_output_kb"]) * 1024)
        self.shell: GradingShell  # made next, with `get_ipython` already in place
        self.namespace["get_ipython"] = lambda: self.shell
        self.shell = GradingShell(self.namespace, self._run_nested)
        self.current = "<cell>"
        self.max_reply = int(float(self.limits["max_reply_mb"]) * 1024 * 1024)
        # results and figures too: they cost time
        self.display = start.get("display") is True
        self.figures = display.Figures()

    def run_notebook(self, cells: list[dict]) -> list[dict]:
        sys.modules["__main__"] = self.module
        return [self._run_cell(cell) for cell in cells]

    def _run_cell(self, cell: dict) -> dict:
        number = cell["number"]
        outcome = {"number": number, "status": "ok"}
        if cell.get("skip"):
            outcome.update(status="skipped", outputs=[])
            return outcome
        # the zygote's deadline per cell
        framing.write_frame(self.wfd, {"event": Event.CELL, "number": number})
        self.current = CELL_FILE.format(number=number)
        seconds = float(self.limits["cell_timeout"])
        deadline = time.monotonic() + seconds
        value, result, error, images = None, None, None, []
        try:
            value = self._with_timeout(
                seconds, self._run_source, cell["source"], self.current, self.display
            )
        except SoftTimeout as stop:
            outcome.update(
                status="timeout",
                error=f"cell {number} did not finish within {seconds:g} s",
            )
            error = display.error_output(
                "TimeoutError", outcome["error"], stop.__traceback__
            )
        # SystemExit and KeyboardInterrupt too: the next cell still runs
        except BaseException as raised:
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
        """Run code in the notebook's namespace. `shown` (a cell, with display on): its
        last expression is evaluated apart, as Jupyter does, and its value returned."""
        python = to_python(source)
        linecache.cache[filename] = (
            len(source),
            None,
            source.splitlines(True),
            filename,
        )
        # a SyntaxError is the same either way
        code = compile(python, filename, "exec", dont_inherit=True)
        if not shown:
            exec(code, self.namespace)
            return None
        body, last = display.split_last_expression(python, filename)
        exec(body, self.namespace)
        return None if last is None else eval(last, self.namespace)

    def _shown_value(self, value: Any, deadline: float) -> str | None:
        """The value's repr as Out[n], in what is left of the cell's time; a repr that
        raises or hangs is a note, never the cell's error: what a cell shows must not
        change how it ran."""
        left = deadline - time.monotonic()
        if value is None:
            return None
        if left <= 0:
            return "[the value was not shown: the cell's time ran out]"
        try:
            return self._with_timeout(
                left, display.result_text, value, output=display.BoundedText(0)
            )
        except SoftTimeout:
            return (
                "[the value was not shown: showing it took longer than the cell's time]"
            )
        except BaseException as error:
            return f"[the value was not shown: its repr raised {type(error).__name__}]"

    def _render_figures(self, deadline: float) -> list[dict]:
        """The open figures as images, drawn in what is left of the cell's time (none
        after a timeout); nothing they do (raise, hang, print) reaches the cell's
        outcome."""
        images: list[dict] = []
        pyplot = sys.modules.get("matplotlib.pyplot")
        left = deadline - time.monotonic()
        if pyplot is None or left <= 0:
            return images
        try:
            self._with_timeout(
                left, self.figures.render, pyplot, images, output=display.BoundedText(0)
            )
        except SoftTimeout:
            images.append(
                display.stream(
                    "[the other figures were not kept: the cell's time ran out]"
                )
            )
        except BaseException as error:
            images.append(
                display.stream(
                    "[the figures were not kept: drawing them raised "
                    f"{type(error).__name__}]"
                )
            )
        return images

    def _run_nested(self, source: str) -> None:
        """Code inside a magic (`%time expr`, `%%capture`) runs as part of the current
        cell."""
        exec(
            compile(to_python(source), self.current, "exec", dont_inherit=True),
            self.namespace,
        )

    @staticmethod
    def _close_figures() -> None:
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None:
            try:
                pyplot.close("all")  # as the inline backend does after each cell
            except Exception:
                pass

    def _with_timeout(
        self, seconds: float, function, *args, output: io.TextIOBase | None = None
    ):
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


def describe(error: BaseException) -> dict:
    """Type, message and the student's own line where the error was raised."""
    try:
        message = str(error)[:500]
    except BaseException:  # a student's exception whose __str__ raises
        message = ""
    if isinstance(error, SyntaxError):
        where = (
            f"{error.filename}, line {error.lineno}: "
            f"{str(error.text or '')[:300].strip()}"
        )
        return {
            "type": "SyntaxError",
            "message": str(error.msg or message)[:500],
            "where": _tidy(where),
        }
    where = ""
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename.startswith("<cell") or frame.filename == "<provided>":
            where = (
                f"{frame.filename}, line {frame.lineno}, in {frame.name}: "
                f"{(frame.line or '').strip()}"
            )
    return {
        "type": str(type(error).__name__)[:100],
        "message": message,
        "where": _tidy(where),
    }


def _error_output(error: BaseException, described: dict) -> dict:
    """The error output of a cell, from what `describe` already read of the error (its
    str runs once)."""
    if isinstance(error, SyntaxError):
        return display.syntax_error_output(error, described["message"])
    return display.error_output(
        described["type"], described["message"], error.__traceback__
    )


def _tidy(where: str) -> str:
    # "<provided>" first: the ">," replacement would otherwise leave "<provided, line 1"
    return (
        where.replace("<provided>", "provided code")
        .replace("<cell ", "cell ")
        .replace(">,", ",")[:300]
    )

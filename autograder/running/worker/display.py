"""What a cell shows in Jupyter, worked out next to the student's code: the repr of its
last expression, its open figures as PNG, its error as a traceback of the student's own
frames.

Everything is plain data (`{"type": "stream" | "result" | "image" | "error", ...}`) that
the grader checks again and turns into nbformat outputs itself
(cell_outputs.CellOutputs): nothing here is trusted. Whatever runs student code (a
repr, a figure's draw callbacks) runs under the cell's time limit, held by the caller.
"""

from __future__ import annotations

import ast
import base64
import io
import linecache
import tokenize
import types
from typing import Any

from ... import names
from .. import framing

RESULT_CHARS = 10_000  # characters of a result's repr kept, as Out[n]
FIGURES_PER_CELL = 4
FIGURES_PER_NOTEBOOK = 20
FIGURE_BYTES = 1024 * 1024  # PNG bytes of one figure
FIGURE_CHARS = 8 * 1024 * 1024  # base64 characters of all the figures of a notebook
# the student's frames shown, first and last halves of a deeper stack
TRACEBACK_FRAMES = 30
LINE_CHARS = 300
# as the inline backend
PNG_OPTIONS = {"format": "png", "dpi": 72, "bbox_inches": "tight"}
STUDENT_FILES = ("<cell ", "<provided>")


# characters of output kept for the whole notebook (each cell keeps at most its limit)
TOTAL_OUTPUT = 1_000_000


class BoundedText(io.TextIOBase):
    """A stdout/stderr replacement that keeps the first `limit` characters of each cell,
    and at most TOTAL_OUTPUT for the whole notebook, and counts the rest."""

    def __init__(self, limit: int):
        self.limit, self.size, self.dropped = limit, 0, 0
        self.parts: list[str] = []
        self.budget = TOTAL_OUTPUT

    def writable(self) -> bool:
        return True

    def write(self, text: Any) -> int:
        text = str(text)
        room = min(self.limit - self.size, self.budget)
        if room > 0:
            self.parts.append(text[:room])
            self.size += min(room, len(text))
            self.budget -= min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def take(self) -> str:
        text = "".join(self.parts)
        if self.dropped:
            text += f"\n[... {self.dropped} more characters of output dropped]"
        self.parts, self.size, self.dropped = [], 0, 0
        return text


def split_last_expression(
    python: str, filename: str
) -> tuple[types.CodeType, types.CodeType | None]:
    """The cell as code for all but its last statement, and that statement's expression
    to evaluate (None when the cell does not end with an expression, or ends with `;` as
    Jupyter's quiet mark)."""
    tree = ast.parse(python, filename)
    if not tree.body or not isinstance(tree.body[-1], ast.Expr) or _ends_quiet(python):
        return compile(tree, filename, "exec", dont_inherit=True), None
    body = ast.Module(body=tree.body[:-1], type_ignores=[])
    last = ast.Expression(body=tree.body[-1].value)
    return (
        compile(body, filename, "exec", dont_inherit=True),
        compile(last, filename, "eval", dont_inherit=True),
    )


def _ends_quiet(python: str) -> bool:
    """Whether the last token of the source, comments aside, is `;` (IPython's rule)."""
    ignored = {
        tokenize.NEWLINE,
        tokenize.NL,
        tokenize.COMMENT,
        tokenize.ENDMARKER,
        tokenize.INDENT,
        tokenize.DEDENT,
    }
    last = None
    try:
        for token in tokenize.generate_tokens(io.StringIO(python).readline):
            if token.type not in ignored:
                last = token
    except (tokenize.TokenError, SyntaxError):
        return False
    return last is not None and last.string == ";"


def result_text(value: Any) -> str:
    """repr(value) as Out[n] shows it, capped (student code: the caller holds the time
    limit)."""
    # an exact str, whatever subclass the student's __repr__ returned
    text = str.__str__(repr(value))
    if len(text) > RESULT_CHARS:
        text = text[:RESULT_CHARS] + f"... [{len(text) - RESULT_CHARS} more characters]"
    return text


def outputs(
    text: str, result: str | None, images: list[dict], error: dict | None
) -> list[dict]:
    """A cell's outputs in order: what it printed, its result, its figures, its
    error."""
    shown = [stream(text)] if text else []
    if result is not None:
        shown.append({"type": "result", "text": result})
    return shown + images + ([error] if error else [])


def stream(text: str) -> dict:
    return {"type": "stream", "text": text}


class Figures:
    """The open matplotlib figures of each cell as PNG images, within the caps per cell
    and per notebook."""

    def __init__(self) -> None:
        self.kept = 0  # figures kept in this notebook
        self.chars = 0  # their base64 characters

    def render(self, pyplot: Any, into: list[dict]) -> None:
        """Append an image per open figure, or a note for one that is not kept. Draw
        callbacks are student code: the caller holds the time limit, and what was
        appended before it ran out stays."""
        numbers = list(pyplot.get_fignums())
        room = max(0, min(FIGURES_PER_CELL, FIGURES_PER_NOTEBOOK - self.kept))
        for number in numbers[:room]:
            try:
                image = self._png(pyplot.figure(number))
            # a figure that cannot be drawn is left out, the cell is not
            except Exception as error:
                image = stream(
                    f"[a figure was not kept: drawing it raised {type(error).__name__}]"
                )
            if image is not None:
                into.append(image)
        if len(numbers) > room:
            into.append(stream(f"[{len(numbers) - room} more figures not kept]"))

    def _png(self, figure: Any) -> dict | None:
        # an empty figure shows no image (IPython's rule)
        if not figure.axes and not figure.lines:
            return None
        buffer = io.BytesIO()
        figure.savefig(buffer, **PNG_OPTIONS)
        data = buffer.getvalue()
        if len(data) > FIGURE_BYTES:
            return stream(
                f"[a figure was not kept: {len(data) / 2**20:.1f} MB of PNG, more than "
                f"{FIGURE_BYTES / 2**20:g} MB]"
            )
        png = base64.b64encode(data).decode("ascii")
        if self.chars + len(png) > FIGURE_CHARS:
            return stream(
                "[a figure was not kept: the notebook's figures already hold all they "
                "may]"
            )
        self.kept, self.chars = self.kept + 1, self.chars + len(png)
        return {"type": "image", "png": png}


def error_output(ename: str, evalue: str, trace: types.TracebackType | None) -> dict:
    """An error as Jupyter shows it, with the student's own frames only (cells and
    provided code)."""
    ename, evalue = _line(ename, 100), str(evalue)[: names.MAX_TEXT]
    frames = [
        (tb.tb_frame.f_code, tb.tb_lineno)
        for tb in _walk(trace)
        if tb.tb_frame.f_code.co_filename.startswith(STUDENT_FILES)
    ]
    lines = [_line(f"{ename:<41} Traceback (most recent call last)")]
    half = TRACEBACK_FRAMES // 2
    shown = (
        frames
        if len(frames) <= TRACEBACK_FRAMES
        else [*frames[:half], None, *frames[-half:]]
    )
    for frame in shown:
        if frame is None:
            lines.append(f"[... {len(frames) - 2 * half} more frames]")
            continue
        code, line = frame
        lines.append(
            _line(f"{_place(code.co_filename)}, line {line}, in {code.co_name}")
        )
        source = linecache.getline(code.co_filename, line).strip()
        if source:
            lines.append(_line(f"    {source}"))
    lines.append(_line(f"{ename}: {evalue}" if evalue else ename))
    return {"type": "error", "ename": ename, "evalue": evalue, "traceback": lines}


def syntax_error_output(error: SyntaxError, message: str) -> dict:
    """A SyntaxError has no frame of the student's: where it is, its line, its message
    (no header, as IPython)."""
    lines = []
    filename = str(error.filename or "")
    if filename.startswith(STUDENT_FILES):
        lines.append(_line(f"{_place(filename)}, line {error.lineno}"))
        if error.text:
            lines.append(_line(f"    {str(error.text).strip()}"))
    lines.append(_line(f"SyntaxError: {message}"))
    return {
        "type": "error",
        "ename": "SyntaxError",
        "evalue": message,
        "traceback": lines,
    }


def _walk(trace: types.TracebackType | None):
    while trace is not None:
        yield trace
        trace = trace.tb_next


def _place(filename: str) -> str:
    """`<cell 3>` -> `Cell 3`, `<provided>` -> `Provided code`."""
    return (
        "Provided code"
        if filename == "<provided>"
        else filename.strip("<>").capitalize()
    )


def _line(text: str, limit: int = LINE_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def fit(cells: list[dict], max_bytes: int) -> list[dict]:
    """The cells' outcomes within what a reply may hold (bytes and tokens, as
    framing.read_frame counts them): the figures are dropped first, then every output;
    the grading fields stay as they are."""
    if _fits(cells, max_bytes):
        return cells
    for cell in cells:
        outputs = cell.get("outputs", [])
        kept = [o for o in outputs if o.get("type") != "image"]
        if len(kept) < len(outputs):
            kept.append(
                stream(
                    "[the figures were not kept: the notebook's reply would be too "
                    "large]"
                )
            )
        cell["outputs"] = kept
    if _fits(cells, max_bytes):
        return cells
    for cell in cells:
        cell["outputs"] = []
    return cells


def _fits(cells: list[dict], max_bytes: int) -> bool:
    data = framing.frame({"ok": True, "cells": cells})
    tokens = (
        data.count(b",") + data.count(b"[") + framing.OBJECT_WEIGHT * data.count(b"{")
    )
    return len(data) <= max_bytes and tokens <= framing.MAX_TOKENS

"""The grader's handle on a worker process: start it, send a request, read its reply within a deadline.

`Worker` owns the process (one per batch and job). Every reply is read within the request's
deadline and within its bounds (`protocol`), and through `clean_reply`: each field the grader reads, of
its expected type, every text capped. A worker that misses a deadline or breaks the protocol is
killed; the next request starts a new one.
"""

from __future__ import annotations

import base64
import binascii
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from typing import Any

from .. import names
from ..errors import WorkerCrashed
from . import protocol
from .launch import Launch, start_worker
from .sandbox import forget_probe

MARGIN = 5.0  # seconds the grader waits beyond the worker's own deadlines before killing it
START_TIMEOUT = 60.0
READY_BYTES = 4096  # the worker's first frame says it is ready, nothing more


class Worker:
    """One worker process (zygote); restarted transparently if it dies."""

    def __init__(self, launch: Launch, process: subprocess.Popen | None = None):
        """`process`: one already started with `launch.start_worker(launch)`, its "ready" not read yet."""
        self.launch = launch
        self.process = process
        self.starting = process is not None  # spawned, its "ready" not read yet

    def spawn(self) -> Worker:
        """Start the worker process without waiting for it to be ready: its preload (NumPy, pandas,
        Matplotlib: about a second) overlaps whatever the grader does next. `ensure_started` waits."""
        if self.running:
            return self
        self.stop()  # a worker that died: close its pipes before starting the next
        self.process = start_worker(self.launch)
        self.starting = True
        return self

    def ensure_started(self) -> None:
        if self.running and not self.starting:
            return
        if not self.running:
            self.spawn()
        self.starting = False
        try:
            reply = protocol.read_frame(self.process.stdout.fileno(), time.monotonic() + START_TIMEOUT,
                                        max_bytes=READY_BYTES)
        except (EOFError, OSError, protocol.ProtocolError):  # it exited, hung or printed something else
            reply = {}
        if not reply.get("ready"):
            self.stop()
            forget_probe()  # the sandbox may have broken since it was last seen to work
            raise WorkerCrashed("the worker did not start; run `autograder doctor` to see why")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

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
                protocol.write_frame(self.process.stdin.fileno(), {"op": protocol.Op.QUIT}, time.monotonic() + 1)
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
        self.process, self.starting = None, False

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


TEXT_LIMITS = {"type": 100, "message": names.MAX_TEXT, "where": 300}
MAX_NAMES = 40  # names listed when a function is missing


def clean_reply(reply: dict) -> dict:
    """The fields of a worker's reply that the grader reads (`protocol.REPLY_FIELDS`, and a stand-in's
    question's `QUESTION_FIELDS`), as bounded plain values: the child wrote them, so each has the kind its
    field says (or is dropped) and every text is capped (`names.text`)."""
    clean: dict[str, Any] = {"ok": reply.get("ok") is True}
    fields = dict(protocol.REPLY_FIELDS)
    if reply.get("event") == protocol.Event.REFERENCE:  # a stand-in's question, answered by references.py
        clean.update(event=protocol.Event.REFERENCE, name="", id=0)
        fields.update(protocol.QUESTION_FIELDS)
    for key, kind in fields.items():
        if key in reply and key != "ok":
            value = _KINDS[kind](reply[key])
            if value is not None:
                clean[key] = value
    return clean


def _names(value: Any) -> list[str] | None:
    return [names.text(n, 100) for n in value[:MAX_NAMES] if isinstance(n, str)] if isinstance(value, list) else None


_KINDS = {  # how a field of each kind of protocol.REPLY_FIELDS is read; None drops it
    "flag": bool,
    "text": lambda value: names.text(value) or "no reason given",
    "name": lambda value: names.text(value, 100),
    "count": lambda value: value if type(value) is int else None,
    "names": _names,
    "error": lambda value: error_fields(value),
    "data": lambda value: value,  # decoded strictly by its reader
}


def error_fields(error: Any) -> dict[str, str]:
    """An error the worker described, as {type, message, where}, each capped."""
    if not isinstance(error, dict):
        return {"type": "", "message": names.text(error), "where": ""}
    return {key: names.text(error.get(key), limit) for key, limit in TEXT_LIMITS.items()}


def cell_outcomes(raw: Any, sent: list[dict], output_limit: int,
                  shown: CellOutputs | None = None) -> list[CellOutcome]:
    """The outcome of each cell that was sent, at most once each, in the order reported; its outputs
    within what `shown` (the notebook's) may still hold."""
    shown = CellOutputs() if shown is None else shown
    numbers = {cell["number"] for cell in sent}
    outcomes = []
    for item in raw if isinstance(raw, list) else []:
        number = item.get("number") if isinstance(item, dict) else None
        if type(number) is not int or number not in numbers:
            continue
        numbers.discard(number)
        status = item.get("status") if item.get("status") in CELL_STATUSES else "error"
        error = item.get("error")
        error = error_fields(error) if isinstance(error, dict) else (names.text(error) or None)
        outcomes.append(CellOutcome(number, status, error, names.text(item.get("output"), output_limit),
                                    shown.outputs(item.get("outputs"), output_limit)))
    return outcomes


CELL_STATUSES = ("ok", "error", "timeout", "skipped")


@dataclass
class CellOutcome:
    number: int
    status: str  # ok | error | timeout | skipped
    error: Any = None
    output: str = ""
    outputs: list[dict] = field(default_factory=list)  # nbformat v4 outputs, built here (CellOutputs)


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_OUTPUTS = 16  # outputs read per cell (the worker sends at most ~10: text, result, 4 figures, notes, error)
MAX_RESULT = 10_000  # characters of a result's repr
MAX_IMAGES = 20  # figures per notebook, at most 4 per cell
MAX_CELL_IMAGES = 4
MAX_IMAGE_BYTES = 1024 * 1024  # PNG bytes of one figure
MAX_IMAGE_CHARS_EACH = 4 * ((MAX_IMAGE_BYTES + 2) // 3)  # its base64 characters
MAX_IMAGE_CHARS = 8 * 1024 * 1024  # base64 characters of all the figures of a notebook
MAX_OUTPUT_CHARS = 4_000_000  # characters of text in all the outputs of a notebook
MAX_TRACEBACK = 64  # lines of a traceback: a header, 30 frames of two lines, a note, the error
ERROR_LIMITS = {"ename": 100, "evalue": names.MAX_TEXT}
LINE_LIMIT = 300


class CellOutputs:
    """The outputs of a notebook's cells as nbformat v4 dicts, built here from the worker's plain data
    (worker/display.py) read as hostile: each of its type or dropped, every text capped, PNGs checked,
    and the whole notebook's outputs bounded (figures in number and bytes, text in characters)."""

    def __init__(self) -> None:
        self.images, self.image_chars, self.chars = MAX_IMAGES, MAX_IMAGE_CHARS, MAX_OUTPUT_CHARS

    def outputs(self, raw: Any, output_limit: int) -> list[dict]:
        kept: list[dict] = []
        for item in raw[:MAX_OUTPUTS] if isinstance(raw, list) else []:
            kind = item.get("type") if isinstance(item, dict) else None
            if kind == "image":
                in_cell = sum(output["output_type"] == "display_data" for output in kept)
                output = self._image(item.get("png")) if in_cell < MAX_CELL_IMAGES else None
            else:
                output = self._text_output(kind, item, output_limit)
            if output is not None:
                kept.append(output)
        return kept

    def _text_output(self, kind: Any, item: Any, output_limit: int) -> dict | None:
        if kind in ("stream", "result") and isinstance(item.get("text"), str) and item["text"]:
            text = names.text(item["text"], output_limit if kind == "stream" else MAX_RESULT)
            if not self._spend(len(text)):
                return None
            if kind == "stream":
                return {"output_type": "stream", "name": "stdout", "text": text}
            return {"output_type": "execute_result", "execution_count": None, "data": {"text/plain": text},
                    "metadata": {}}
        if kind == "error" and isinstance(item.get("traceback"), list) and all(
                isinstance(item.get(key), str) for key in ERROR_LIMITS):
            fields = {key: names.text(item[key], limit) for key, limit in ERROR_LIMITS.items()}
            lines = [names.text(line, LINE_LIMIT) for line in item["traceback"][:MAX_TRACEBACK]
                     if isinstance(line, str)]
            if not self._spend(sum(map(len, [*fields.values(), *lines]))):
                return None
            return {"output_type": "error", **fields, "traceback": lines}
        return None

    def _image(self, png: Any) -> dict | None:
        """A figure, only if `png` is strict base64 of a PNG within the caps."""
        if not isinstance(png, str) or self.images <= 0 or len(png) > min(self.image_chars, MAX_IMAGE_CHARS_EACH):
            return None
        try:
            data = base64.b64decode(png, validate=True)
        except (ValueError, binascii.Error):  # not ASCII, not the base64 alphabet, bad padding
            return None
        if not data.startswith(PNG_SIGNATURE) or len(data) > MAX_IMAGE_BYTES or base64.b64encode(data) != png.encode():
            return None
        self.images, self.image_chars = self.images - 1, self.image_chars - len(png)
        return {"output_type": "display_data", "data": {"image/png": png, "text/plain": "<Figure>"}, "metadata": {}}

    def _spend(self, chars: int) -> bool:
        """Whether the notebook's outputs can still hold `chars` more characters (they are then counted)."""
        if chars > self.chars:
            return False
        self.chars -= chars
        return True

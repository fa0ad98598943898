"""The grader's handle on a worker process: start it, send a request, read its reply within a deadline.

`Worker` owns the process (one per batch and job). Every reply is read within the request's
deadline and within its bounds (`protocol`), and through `clean_reply`: each field the grader reads, of
its expected type, every text capped. A worker that misses a deadline or breaks the protocol is
killed; the next request starts a new one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from typing import Any

from . import protocol
from .errors import WorkerCrashed
from .sandbox import Launch, with_files

MARGIN = 5.0  # seconds the grader waits beyond the worker's own deadlines before killing it
START_TIMEOUT = 60.0
READY_BYTES = 4096  # the worker's first frame says it is ready, nothing more


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
    if isinstance(reply.get("used"), list):
        clean["used"] = [protocol.text(n, 100) for n in reply["used"][:MAX_NAMES] if isinstance(n, str)]
    if reply.get("event") == "reference":  # a stand-in's question (worker/standins.py), answered by references.py
        clean.update(event="reference", name=protocol.text(reply.get("name"), 100),
                     id=reply["id"] if type(reply.get("id")) is int else 0)
    for key in ("value", "cells", "args", "kwargs"):  # decoded strictly by their readers
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

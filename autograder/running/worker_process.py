"""The grader's handle on a worker process: start it, send a request, read its reply
within a deadline.

`Worker` owns the process (one per batch and job). Every reply is read within the
request's deadline and within its bounds (`protocol`), and through `clean_reply`: each
field the grader reads, of its expected type, every text capped. A worker that misses a
deadline or breaks the protocol is killed; the next request starts a new one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from typing import IO, Any

from .. import names
from ..errors import WorkerCrashed
from . import framing, protocol
from .launch import Launch, start_worker
from .sandbox import forget_probe

# seconds the grader waits beyond the worker's own deadlines before killing it
MARGIN = 5.0
START_TIMEOUT = 60.0
READY_BYTES = 4096  # the worker's first frame says it is ready, nothing more


class Worker:
    """One worker process (zygote); restarted transparently if it dies."""

    def __init__(self, launch: Launch, process: subprocess.Popen[bytes] | None = None):
        """`process`: one already started with `launch.start_worker(launch)`, its
        "ready" not read yet."""
        self.launch = launch
        self.process = process
        self.starting = process is not None  # spawned, its "ready" not read yet

    def spawn(self) -> Worker:
        """Start the worker process without waiting for it to be ready: its preload
        (NumPy, pandas, Matplotlib: about a second) overlaps whatever the grader does
        next. `ensure_started` waits."""
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
            reply = framing.read_frame(
                self._pipes()[1].fileno(),
                time.monotonic() + START_TIMEOUT,
                max_bytes=READY_BYTES,
            )
        # it exited, hung or printed something else
        except (EOFError, OSError, framing.ProtocolError):
            reply = {}
        if not reply.get("ready"):
            self.stop()
            forget_probe()  # the sandbox may have broken since it was last seen to work
            raise WorkerCrashed(
                "the worker did not start; run `autograder doctor` to see why"
            )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _pipes(self) -> tuple[IO[bytes], IO[bytes]]:
        """The worker's stdin and stdout (both pipes); OSError once it is stopped."""
        process = self.process
        if process is None or process.stdin is None or process.stdout is None:
            raise OSError("the worker process is not running")
        return process.stdin, process.stdout

    def request(
        self, message: dict, timeout: float, max_bytes: int = framing.MAX_FRAME
    ) -> dict:
        """Send one request and read its reply, both within `timeout` + MARGIN seconds.
        A worker that misses the deadline (even in the middle of a frame), or breaks the
        protocol, is killed (the next request starts a new one); a reply over
        `max_bytes` or framing.MAX_TOKENS is dropped unparsed."""
        self.ensure_started()
        deadline = time.monotonic() + timeout + MARGIN
        try:
            framing.write_frame(self._pipes()[0].fileno(), message, deadline)
            return clean_reply(
                framing.read_frame(
                    self._pipes()[1].fileno(),
                    deadline,
                    max_bytes,
                    framing.MAX_TOKENS,
                )
            )
        except framing.FrameTooLarge as error:
            self._skip(error.unread, deadline)
            return {"ok": False, "oversized": str(error)}
        except (OSError, EOFError, framing.ProtocolError):
            self.stop()
            return {
                "ok": False,
                "crashed": "the worker process stopped answering and was restarted",
            }

    def _skip(self, size: int, deadline: float) -> None:
        """Read past the rest of a refused frame, so the worker can answer the next
        request."""
        try:
            framing.discard(self._pipes()[1].fileno(), size, deadline)
        except (OSError, EOFError, framing.ProtocolError):
            self.stop()

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                framing.write_frame(
                    self._pipes()[0].fileno(),
                    {"op": protocol.Op.QUIT},
                    time.monotonic() + 1,
                )
                self.process.wait(timeout=2)
            except (OSError, framing.ProtocolError, subprocess.TimeoutExpired):
                pass
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            try:
                if stream is not None:
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
    """The fields of a worker's reply that the grader reads (`protocol.REPLY_FIELDS`,
    and a stand-in's question's `QUESTION_FIELDS`), as bounded plain values: the child
    wrote them, so each has the kind its field says (or is dropped) and every text is
    capped (`names.text`)."""
    clean: dict[str, Any] = {"ok": reply.get("ok") is True}
    fields = dict(protocol.REPLY_FIELDS)
    # a stand-in's question, answered by references.py
    if reply.get("event") == protocol.Event.REFERENCE:
        clean.update(event=protocol.Event.REFERENCE, name="", id=0)
        fields.update(protocol.QUESTION_FIELDS)
    for key, kind in fields.items():
        if key in reply and key != "ok":
            value = _KINDS[kind](reply[key])
            if value is not None:
                clean[key] = value
    return clean


def _names(value: Any) -> list[str] | None:
    return (
        [names.text(n, 100) for n in value[:MAX_NAMES] if isinstance(n, str)]
        if isinstance(value, list)
        else None
    )


# how a field of each kind of protocol.REPLY_FIELDS is read; None drops it
_KINDS: dict[str, Callable[[Any], Any]] = {
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
    return {
        key: names.text(error.get(key), limit) for key, limit in TEXT_LIMITS.items()
    }

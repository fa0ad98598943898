"""Relaying the grader's requests to a submission's child under hard deadlines: its
reply, a stand-in's question passed to the grader and its answer back, a hang (the
child, or the part's process, killed past its time) or a crash, and the files a
submission makes in a shared /tmp watched meanwhile."""

from __future__ import annotations

import os
import select
import socket
import time

from .. import framing
from ..protocol import Event
from . import processes, scratch
from .parts import Parts

GRACE = 2.0  # seconds a child gets beyond its soft timeout before it is killed
# seconds between two looks at the files a submission made in a shared /tmp
WATCH = 0.25
# seconds a child whose pipe closed gets to end by itself, so its exit status can be
# told
ENDING = 0.5
TMP = "/tmp"


class Relay:
    """The zygote's side of one submission's child (its state is the Zygote's)."""

    child_pid: int | None
    to_child: int
    from_child: int
    to_child_read: int
    parts: Parts | None
    folder_socket: socket.socket | None
    deadline: float
    cells_deadline: float
    max_reply: int
    watch: tuple[int, int] | None
    control_in: int
    control_out: int

    def relay(self, request: dict, timeout: float) -> dict:
        if self.child_pid is None:
            return {
                "ok": False,
                "crashed": "no running notebook (it crashed or timed out before)",
            }
        if self.parts is None or self.parts.pid is None:
            return {
                "ok": False,
                "crashed": (
                    "no process for these tests (it crashed or timed out before)"
                ),
                "part": True,
            }
        try:
            framing.write_frame(
                self.to_child, request, time.monotonic() + timeout + GRACE
            )
        except framing.FrameTimeout:  # it stopped reading: as if it did not return
            return self._timed_out(None, self.deadline)
        except (OSError, framing.ProtocolError):
            return self._crashed()
        return self._await(timeout + GRACE)

    def _await(self, timeout: float, cells: bool = False) -> dict:
        """The child's answer, or a timeout/crash verdict. Cell events extend the
        deadline per cell. A frame that starts must be whole by the same deadline; one
        over the reply limit is dropped."""
        last_cell = None
        limit = time.monotonic() + timeout
        end = self.cells_deadline if cells else self.deadline
        while True:
            deadline = min(limit, end)
            try:
                if not self._wait_for_child(deadline):
                    return self._timed_out(last_cell, end)
            except EOFError:
                return self._crashed(cell=last_cell)
            excess = self.watch and scratch.over_limit(TMP, *self.watch)
            if excess:
                self._kill_running()
                return {"ok": False, "crashed": excess, "cell": last_cell}
            try:
                message = framing.read_frame(
                    self.from_child, deadline, self.max_reply, framing.MAX_TOKENS
                )
            except framing.FrameTooLarge as error:
                if error.unread:
                    try:
                        framing.discard(self.from_child, error.unread, deadline)
                    except (EOFError, OSError, framing.ProtocolError):
                        self._kill_running()
                return {"ok": False, "oversized": str(error)}
            except framing.FrameTimeout:  # it stopped in the middle of a frame
                return self._timed_out(last_cell, end)
            except (EOFError, framing.ProtocolError, OSError):
                return self._crashed(cell=last_cell)
            if cells and message.get("event") == Event.CELL:
                last_cell = (
                    message.get("number")
                    if type(message.get("number")) is int
                    else None
                )
                limit = time.monotonic() + timeout
                continue
            # a stand-in asks for the reference's answer
            if message.get("event") == Event.REFERENCE:
                if cells or not self._ask_grader(message, deadline):
                    return self._crashed()
                continue
            return message

    def _ask_grader(self, question: dict, deadline: float) -> bool:
        """Relay a stand-in's question to the grader and its answer back, by the call's
        deadline."""
        try:
            framing.write_frame(self.control_out, question, deadline)
            answer = framing.read_frame(self.control_in, deadline)
            framing.write_frame(self.to_child, answer, deadline)
        except (OSError, EOFError, framing.ProtocolError):
            return False
        return True

    def _wait_for_child(self, deadline: float) -> bool:
        """Wait until the child sends something (True) or the deadline passes (False);
        in a shared /tmp, look at what the submission has written there every WATCH
        seconds meanwhile. A part's process that ends counts as sending (its end of
        file: the notebook's process holds the pipe too)."""
        running = self._part_running()
        watched = [
            self.from_child,
            *([running.ended] if running and running.ended is not None else []),
        ]
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            ready, _, _ = select.select(
                watched, [], [], min(remaining, WATCH) if self.watch else remaining
            )
            if self.from_child in ready:
                return True
            if ready:
                raise EOFError("the part's process ended")
            if self.watch and scratch.over_limit(TMP, *self.watch):
                return True  # _await sees it and stops the child

    def _part_running(self) -> Parts | None:
        return (
            self.parts
            if self.parts is not None and self.parts.pid is not None
            else None
        )

    def _timed_out(self, cell: int | None, end: float) -> dict:
        """Stop what did not answer in time: the part's process, or everything once the
        submission's time is up."""
        whole = time.monotonic() >= end
        self._kill_running(everything=whole)
        return {"ok": False, "timeout": True, "cell": cell, "whole": whole}

    def _kill_running(self, everything: bool = False) -> None:
        running = self._part_running()
        if running is not None and not everything:
            running.end()
        else:
            self.kill_child()

    def _crashed(self, cell=None) -> dict:
        running = self._part_running()
        if running is not None:  # its process ended: say how, then sweep what it left
            status = running.status()
            running.end()
            return {"ok": False, "crashed": status, "cell": cell, "part": True}
        # its pipe closed: it is ending; say how, not that we killed it
        status = self.kill_child(grace=ENDING)
        return {"ok": False, "crashed": status, "cell": cell}

    def kill_child(self, grace: float = 0.0) -> str:
        """Kill the child (after `grace` seconds to end by itself) and everything it
        started; describe how the child ended."""
        status = (
            "it was already gone"
            if self.child_pid is None
            else processes.end_child(self.child_pid, grace)
        )
        self.child_pid = None
        processes.kill_descendants()
        if self.parts is not None:
            self.parts.close()
            self.parts = None
        if self.folder_socket is not None:
            self.folder_socket.close()
            self.folder_socket = None
        for fd in (self.to_child, self.from_child, self.to_child_read):
            if fd >= 0:
                os.close(fd)
        self.to_child = self.from_child = self.to_child_read = -1
        return status

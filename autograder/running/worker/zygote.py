"""The worker's long-lived parent: imports numpy, pandas and matplotlib once, forks one child per
submission and relays the grader's requests to it under hard deadlines.

It never runs student code itself. After each submission it kills every process the submission
left behind (it is their subreaper) and deletes the scratch folder.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import socket
import sys
import tempfile
import time

from .. import protocol
from ..protocol import Event, Op
from . import processes, scratch
from .parts import PartFailed, Parts, submission_folder
from .preload import preload
from .processes import BROKEN_WORKER

GRACE = 2.0  # seconds a child gets beyond its soft timeout before it is killed
REPLY_SECONDS = 60.0  # the grader reads every reply at once; one it does not take in this long ends the worker
WATCH = 0.25  # seconds between two looks at the files a submission made in a shared /tmp
ENDING = 0.5  # seconds a child whose pipe closed gets to end by itself, so its exit status can be told
TMP = "/tmp"
PR_SET_CHILD_SUBREAPER = 36
PR_SET_DUMPABLE = 4


class Zygote:
    def __init__(self, release_dir: str, control_in: int, control_out: int, own_tmp: bool = False,
                 fresh_tmp: bool = True):
        self.release_dir = release_dir
        self.fresh_tmp = fresh_tmp  # try a new tmpfs per submission (worker/scratch.py)
        self.control_in, self.control_out = control_in, control_out
        self.own_tmp = own_tmp  # the sandbox gave this worker a /tmp of its own: emptied between submissions
        self.child_pid: int | None = None
        self.to_child = self.from_child = -1
        self.to_child_read = -1  # the zygote's own copy of the child's end: what a dead part left unread is dropped
        self.parts: Parts | None = None  # the processes of the parts, once the notebook has run
        self.folder_socket: socket.socket | None = None
        self.caps = (0, 0)  # (bytes, files) the submission's folders may hold
        self.scratch: str | None = None
        self.deadline = 0.0  # the whole submission's hard deadline (the notebook's time and every part's)
        self.cells_deadline = 0.0  # the hard deadline of its cells (the notebook's time)
        self.max_reply = protocol.MAX_FRAME
        self.watch: tuple[int, int] | None = None  # (bytes, files) caps on a shared /tmp, checked in _await
        self.broken = ""  # why this worker must be replaced before the next submission
        self.state = processes.own_state()  # what every child inherits: checked after each submission

    def serve(self) -> None:
        processes.prctl(PR_SET_CHILD_SUBREAPER, 1)
        processes.prctl(PR_SET_DUMPABLE, 0)  # children run as the same user: keep them out of /proc/<zygote>
        if self.own_tmp:
            scratch.empty(TMP)  # what the imports left there (caches) is no submission's to see
        self._reply({"ok": True, "ready": True, "pid": os.getpid()})
        while not self.broken:
            try:
                request = protocol.read_frame(self.control_in)
            except (EOFError, protocol.ProtocolError):
                break
            op = request.get("op")
            if op is None:  # the grader's answer to a stand-in's question the child no longer waits for
                continue
            if op == Op.QUIT:
                break
            if op == Op.START:
                reply = self.start(request)
            elif op == Op.END:
                self.finish()
                reply = {"ok": True, **({"restart": self.broken} if self.broken else {})}
            elif op == Op.PART:
                reply = self.part()
            elif op in (Op.CALL, Op.EXEC):
                reply = self.relay(request, float(request.get("timeout") or 10))
            else:
                reply = {"ok": False, "error": {"type": "ProtocolError", "message": f"unknown op {op!r}", "where": ""}}
            self._reply(reply)
        self.finish()

    def _reply(self, message: dict) -> None:
        protocol.write_frame(self.control_out, message, time.monotonic() + REPLY_SECONDS)

    # -- one submission --------------------------------------------------------------------------

    def start(self, request: dict) -> dict:
        self.finish()
        limits = request["limits"]
        self.deadline = time.monotonic() + float(limits["whole"])  # the notebook's and every part's time
        self.cells_deadline = min(time.monotonic() + float(limits["timeout"]), self.deadline)  # the cells' own
        self.max_reply = int(float(limits["max_reply_mb"]) * 1024 * 1024)
        self.caps = (int(float(limits["scratch_mb"]) * 1024 * 1024), int(limits["scratch_files"]))
        self.watch = self.caps if self.own_tmp else None
        try:
            self.scratch = tempfile.mkdtemp(prefix="submission-")  # used when the child gets no /tmp of its own
        except OSError as error:
            self._clean_tmp()
            return {"ok": False, "setup": f"no folder could be made for the submission ({error.strerror})"}
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()
        self.folder_socket, report = socket.socketpair()  # the child sends its own /tmp's descriptor on it
        pid = os.fork()
        if pid == 0:  # the child: drop every trusted descriptor, then become the student's process
            try:
                os.close(self.to_child)
                os.close(self.from_child)
                processes.enter_child(self.release_dir, self.scratch, limits, keep=(to_child_r, from_child_w),
                                      reply=from_child_w, fresh_tmp=self.fresh_tmp, report=report.fileno())
                from . import child

                child.main(to_child_r, from_child_w, request)
            finally:
                os._exit(BROKEN_WORKER)
        self.to_child_read = to_child_r
        os.close(from_child_w)
        report.close()
        self.child_pid = pid
        return self._await(float(limits["cell_timeout"]) + GRACE, cells=True)

    def part(self) -> dict:
        """A process of its own for the next part's calls, from the state the notebook left (parts.py)."""
        if self.child_pid is None:
            return {"ok": False, "crashed": "no running notebook (it crashed or timed out before)"}
        try:
            if self.parts is None:
                folder = submission_folder(self.folder_socket, TMP if self.own_tmp else str(self.scratch))
                self.folder_socket = None
                self.parts = Parts(self.child_pid, folder, self.caps)
            self.parts.begin(self.to_child, self.to_child_read, self.from_child)
        except PartFailed as error:
            self.kill_child()
            return {"ok": False, "crashed": str(error)}
        except OSError as error:
            self.kill_child()
            return {"ok": False, "crashed": f"the next tests could not be started ({error.strerror or error})"}
        except Exception as error:  # whatever the submission left, the worker itself goes on
            self.kill_child()
            return {"ok": False, "crashed": f"the next tests could not be started ({type(error).__name__})"}
        return {"ok": True}

    def relay(self, request: dict, timeout: float) -> dict:
        if self.child_pid is None:
            return {"ok": False, "crashed": "no running notebook (it crashed or timed out before)"}
        if self.parts is None or self.parts.pid is None:
            return {"ok": False, "crashed": "no process for these tests (it crashed or timed out before)", "part": True}
        try:
            protocol.write_frame(self.to_child, request, time.monotonic() + timeout + GRACE)
        except protocol.FrameTimeout:  # it stopped reading: as if it did not return
            return self._timed_out(None, self.deadline)
        except (OSError, protocol.ProtocolError):
            return self._crashed()
        return self._await(timeout + GRACE)

    def _await(self, timeout: float, cells: bool = False) -> dict:
        """The child's answer, or a timeout/crash verdict. Cell events extend the deadline per cell.
        A frame that starts must be whole by the same deadline; one over the reply limit is dropped."""
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
                message = protocol.read_frame(self.from_child, deadline, self.max_reply, protocol.MAX_TOKENS)
            except protocol.FrameTooLarge as error:
                if error.unread:
                    try:
                        protocol.discard(self.from_child, error.unread, deadline)
                    except (EOFError, OSError, protocol.ProtocolError):
                        self._kill_running()
                return {"ok": False, "oversized": str(error)}
            except protocol.FrameTimeout:  # it stopped in the middle of a frame
                return self._timed_out(last_cell, end)
            except (EOFError, protocol.ProtocolError, OSError):
                return self._crashed(cell=last_cell)
            if cells and message.get("event") == Event.CELL:
                last_cell = message.get("number") if type(message.get("number")) is int else None
                limit = time.monotonic() + timeout
                continue
            if message.get("event") == Event.REFERENCE:  # a stand-in asks for the reference's answer
                if cells or not self._ask_grader(message, deadline):
                    return self._crashed()
                continue
            return message

    def _ask_grader(self, question: dict, deadline: float) -> bool:
        """Relay a stand-in's question to the grader and its answer back, by the call's deadline."""
        try:
            protocol.write_frame(self.control_out, question, deadline)
            answer = protocol.read_frame(self.control_in, deadline)
            protocol.write_frame(self.to_child, answer, deadline)
        except (OSError, EOFError, protocol.ProtocolError):
            return False
        return True

    def _wait_for_child(self, deadline: float) -> bool:
        """Wait until the child sends something (True) or the deadline passes (False); in a shared
        /tmp, look at what the submission has written there every WATCH seconds meanwhile. A part's
        process that ends counts as sending (its end of file: the notebook's process holds the pipe too)."""
        running = self._part_running()
        watched = [self.from_child, *([running.ended] if running and running.ended is not None else [])]
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            ready, _, _ = select.select(watched, [], [], min(remaining, WATCH) if self.watch else remaining)
            if self.from_child in ready:
                return True
            if ready:
                raise EOFError("the part's process ended")
            if self.watch and scratch.over_limit(TMP, *self.watch):
                return True  # _await sees it and stops the child

    def _part_running(self) -> Parts | None:
        return self.parts if self.parts is not None and self.parts.pid is not None else None

    def _timed_out(self, cell: int | None, end: float) -> dict:
        """Stop what did not answer in time: the part's process, or everything once the submission's time is up."""
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
        status = self.kill_child(grace=ENDING)  # its pipe closed: it is ending; say how, not that we killed it
        return {"ok": False, "crashed": status, "cell": cell}

    def kill_child(self, grace: float = 0.0) -> str:
        """Kill the child (after `grace` seconds to end by itself) and everything it started; describe how
        the child ended."""
        status = "it was already gone" if self.child_pid is None else processes.end_child(self.child_pid, grace)
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

    def finish(self) -> None:
        if self.child_pid is not None:
            try:
                protocol.write_frame(self.to_child, {"op": Op.END}, time.monotonic() + 0.5)
                select.select([self.from_child], [], [], 0.5)
            except (OSError, protocol.ProtocolError):
                pass
            self.kill_child()
        if self.scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None
            self._clean_tmp()
        if self.own_tmp and scratch.remove_ipc():  # in the sandbox's IPC namespace: a submission without its own
            self.broken = "System V objects a submission made could not be removed"
        if processes.own_state() != self.state:  # a submission lowered a limit or the priority of this process
            self.broken = "its resource limits or scheduling were changed by a submission"

    def _clean_tmp(self) -> None:
        """A /tmp of this worker's own is emptied after each submission and must then be empty:
        if something is left, this worker is replaced before the next submission."""
        if self.own_tmp:
            left = scratch.empty(TMP)
            if left:
                self.broken = f"/tmp could not be emptied ({len(left)} entries left)"


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    release_dir, own_tmp, fresh_tmp = argv[0], "--own-tmp" in argv[1:], "--shared-tmp" not in argv[1:]
    # The protocol owns the original stdin/stdout; anything else printing goes to stderr.
    control_in, control_out = os.dup(0), os.dup(1)
    os.dup2(2, 1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the grader's to handle
    preload()
    Zygote(release_dir, control_in, control_out, own_tmp, fresh_tmp).serve()
    os._exit(0)  # its submissions are finished and swept: tearing down NumPy, pandas and Matplotlib takes 0.1 s

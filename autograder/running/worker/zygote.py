"""The worker's long-lived parent: imports numpy, pandas and matplotlib once, forks one
child per submission and relays the grader's requests to it under hard deadlines.

It never runs student code itself. After each submission it kills every process the
submission left behind (it is their subreaper) and deletes the scratch folder.
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

from .. import framing
from ..protocol import Op
from . import processes, scratch
from .parts import PartFailed, Parts, submission_folder
from .preload import preload
from .processes import BROKEN_WORKER
from .relay import GRACE, TMP, Relay

# the grader reads every reply at once; one it does not take in this long ends the
# worker
REPLY_SECONDS = 60.0
PR_SET_CHILD_SUBREAPER = 36
PR_SET_DUMPABLE = 4


class Zygote(Relay):
    def __init__(
        self,
        release_dir: str,
        control_in: int,
        control_out: int,
        own_tmp: bool = False,
        fresh_tmp: bool = True,
    ):
        self.release_dir = release_dir
        self.fresh_tmp = fresh_tmp  # try a new tmpfs per submission (worker/scratch.py)
        self.control_in, self.control_out = control_in, control_out
        # the sandbox gave this worker a /tmp of its own: emptied between submissions
        self.own_tmp = own_tmp
        self.child_pid: int | None = None
        self.to_child = self.from_child = -1
        # the zygote's own copy of the child's end: what a dead part left unread is
        # dropped
        self.to_child_read = -1
        # the processes of the parts, once the notebook has run
        self.parts: Parts | None = None
        self.folder_socket: socket.socket | None = None
        self.caps = (0, 0)  # (bytes, files) the submission's folders may hold
        self.scratch: str | None = None
        # the whole submission's hard deadline (the notebook's time and every part's)
        self.deadline = 0.0
        # the hard deadline of its cells (the notebook's time)
        self.cells_deadline = 0.0
        self.max_reply = framing.MAX_FRAME
        # (bytes, files) caps on a shared /tmp, checked in _await
        self.watch: tuple[int, int] | None = None
        self.broken = ""  # why this worker must be replaced before the next submission
        # what every child inherits: checked after each submission
        self.state = processes.own_state()

    def serve(self) -> None:
        processes.prctl(PR_SET_CHILD_SUBREAPER, 1)
        # children run as the same user: keep them out of /proc/<zygote>
        processes.prctl(PR_SET_DUMPABLE, 0)
        if self.own_tmp:
            # what the imports left there (caches) is no submission's to see
            scratch.empty(TMP)
        self._reply({"ok": True, "ready": True, "pid": os.getpid()})
        while not self.broken:
            try:
                request = framing.read_frame(self.control_in)
            except (EOFError, framing.ProtocolError):
                break
            op = request.get("op")
            # the grader's answer to a stand-in's question the child no longer waits for
            if op is None:
                continue
            if op == Op.QUIT:
                break
            if op == Op.START:
                reply = self.start(request)
            elif op == Op.END:
                self.finish()
                reply = {
                    "ok": True,
                    **({"restart": self.broken} if self.broken else {}),
                }
            elif op == Op.PART:
                reply = self.part()
            elif op in (Op.CALL, Op.EXEC):
                reply = self.relay(request, float(request.get("timeout") or 10))
            else:
                reply = {
                    "ok": False,
                    "error": {
                        "type": "ProtocolError",
                        "message": f"unknown op {op!r}",
                        "where": "",
                    },
                }
            self._reply(reply)
        self.finish()

    def _reply(self, message: dict) -> None:
        framing.write_frame(self.control_out, message, time.monotonic() + REPLY_SECONDS)

    # -- one submission ----------------------------------------------------------------

    def start(self, request: dict) -> dict:
        self.finish()
        limits = request["limits"]
        # the notebook's and every part's time
        self.deadline = time.monotonic() + float(limits["whole"])
        # the cells' own
        self.cells_deadline = min(
            time.monotonic() + float(limits["timeout"]), self.deadline
        )
        self.max_reply = int(float(limits["max_reply_mb"]) * 1024 * 1024)
        self.caps = (
            int(float(limits["scratch_mb"]) * 1024 * 1024),
            int(limits["scratch_files"]),
        )
        self.watch = self.caps if self.own_tmp else None
        try:
            # used when the child gets no /tmp of its own
            self.scratch = tempfile.mkdtemp(prefix="submission-")
        except OSError as error:
            self._clean_tmp()
            return {
                "ok": False,
                "setup": (
                    f"no folder could be made for the submission ({error.strerror})"
                ),
            }
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()
        # the child sends its own /tmp's descriptor on it
        self.folder_socket, report = socket.socketpair()
        pid = os.fork()
        # the child: drop every trusted descriptor, then become the student's process
        if pid == 0:
            try:
                os.close(self.to_child)
                os.close(self.from_child)
                processes.enter_child(
                    self.release_dir,
                    self.scratch,
                    limits,
                    keep=(to_child_r, from_child_w),
                    reply=from_child_w,
                    fresh_tmp=self.fresh_tmp,
                    report=report.fileno(),
                )
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
        """A process of its own for the next part's calls, from the state the notebook
        left (parts.py)."""
        if self.child_pid is None:
            return {
                "ok": False,
                "crashed": "no running notebook (it crashed or timed out before)",
            }
        try:
            if self.parts is None:
                folder = submission_folder(
                    self.folder_socket, TMP if self.own_tmp else str(self.scratch)
                )
                self.folder_socket = None
                self.parts = Parts(self.child_pid, folder, self.caps)
            self.parts.begin(self.to_child, self.to_child_read, self.from_child)
        except PartFailed as error:
            self.kill_child()
            return {"ok": False, "crashed": str(error)}
        except OSError as error:
            self.kill_child()
            return {
                "ok": False,
                "crashed": (
                    f"the next tests could not be started ({error.strerror or error})"
                ),
            }
        # whatever the submission left, the worker itself goes on
        except Exception as error:
            self.kill_child()
            return {
                "ok": False,
                "crashed": (
                    f"the next tests could not be started ({type(error).__name__})"
                ),
            }
        return {"ok": True}

    def finish(self) -> None:
        if self.child_pid is not None:
            try:
                framing.write_frame(
                    self.to_child, {"op": Op.END}, time.monotonic() + 0.5
                )
                select.select([self.from_child], [], [], 0.5)
            except (OSError, framing.ProtocolError):
                pass
            self.kill_child()
        if self.scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None
            self._clean_tmp()
        # in the sandbox's IPC namespace: a submission without its own
        if self.own_tmp and scratch.remove_ipc():
            self.broken = "System V objects a submission made could not be removed"
        # a submission lowered a limit or the priority of this process
        if processes.own_state() != self.state:
            self.broken = (
                "its resource limits or scheduling were changed by a submission"
            )

    def _clean_tmp(self) -> None:
        """A /tmp of this worker's own is emptied after each submission and must then be
        empty: if something is left, this worker is replaced before the next
        submission."""
        if self.own_tmp:
            left = scratch.empty(TMP)
            if left:
                self.broken = f"/tmp could not be emptied ({len(left)} entries left)"


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    release_dir, own_tmp, fresh_tmp = (
        argv[0],
        "--own-tmp" in argv[1:],
        "--shared-tmp" not in argv[1:],
    )
    # The protocol owns the original stdin/stdout; anything else printing goes to
    # stderr.
    control_in, control_out = os.dup(0), os.dup(1)
    os.dup2(2, 1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the grader's to handle
    preload()
    Zygote(release_dir, control_in, control_out, own_tmp, fresh_tmp).serve()
    # its submissions are finished and swept: tearing down NumPy, pandas and Matplotlib
    # takes 0.1 s
    os._exit(0)

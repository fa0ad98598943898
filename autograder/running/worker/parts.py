"""Each part of the hidden suite starts from the state the notebook left: a process of
its own, forked from the notebook's, with the submission's files put back as the
notebook left them.

Once the notebook has run, its process (the one that ran the cells) only ever forks: for
each part the zygote (`Parts.begin`) stops it (SIGSTOP, which no code can refuse), kills
every other process of the submission (the previous part's, and whatever they started),
puts the submission's folder back (`snapshot.py`, taken the first time), lets the
notebook's process run just long enough to fork the part's process, and stops it again.
So while a part runs, nothing that could remember it runs: the notebook's process and
its threads are stopped, the part's memory goes with its process, and its files are
undone before the next part. The grader talks to the part's process over the
submission's pipes; a part whose process hangs or dies costs that part's calls, and the
next call gets a new process from the same notebook state (no run of the notebook
again).
"""

from __future__ import annotations

import os
import select
import signal
import socket
import time

from .. import framing, protocol
from . import processes, snapshot

FORK_SECONDS = 5.0  # for the notebook's process to fork a part's


class PartFailed(Exception):
    """No process could be made for the part; the message says why, for the student."""


class Parts:
    """The part processes of one submission: `child` is the zygote's child (the
    notebook's process, or in namespaces the one that waits for it), `folder` a
    descriptor of the submission's files."""

    def __init__(self, child: int, folder: int, caps: tuple[int, int]):
        self.child, self.folder, self.caps = child, folder, caps
        self.notebook = _notebook_process(child)
        self.saved: snapshot.Entry | None = None
        self.pid: int | None = None  # the current part's process
        # a descriptor that is readable once it has ended (pidfd)
        self.ended: int | None = None
        # the notebook's threads' switches when it was last stopped
        self.quiet: dict[str, int] | None = None

    def begin(self, to_child: int, to_child_read: int, from_child: int) -> None:
        """A new process for the next part (or the same part again), from the notebook's
        state. What ran last is killed before the notebook's process is stopped (a part
        that keeps waking it cannot outlast the stop), again after (what it started
        meanwhile), and it must not have run since it was stopped."""
        self.end()
        self._stop(self.notebook)
        self.end()
        if self.quiet is not None and _switches(self.notebook) != self.quiet:
            raise PartFailed(
                "the notebook's process ran while the tests did (a signal or a tracer "
                "woke it), so "
                "its state may hold what a part left; the notebook runs again"
            )
        _drain(to_child_read)
        _drain(from_child)
        try:
            if self.saved is None:
                self.saved = snapshot.take(self.folder, *self.caps)
            else:
                snapshot.restore(self.folder, self.saved)
        except snapshot.TooLarge:
            raise PartFailed(
                f"the notebook left more than {self.caps[0] / 2**20:g} MB or "
                f"{self.caps[1]} files in its folders"
            ) from None
        except RecursionError:
            raise PartFailed(
                "the notebook left folders nested too deep to put back"
            ) from None
        except OSError as error:
            raise PartFailed(
                "the notebook's files could not be put back "
                f"({error.strerror or error})"
            ) from None
        os.kill(self.notebook, signal.SIGCONT)
        reply = self._fork(to_child, from_child)
        self._stop(self.notebook)
        self.quiet = _switches(self.notebook)
        self.pid = _part_process(self.notebook, reply.get("forked"))
        # anything else it started
        processes.kill_descendants(keep=(self.child, self.notebook, self.pid))
        _drain(from_child)  # whatever the notebook's process wrote after its answer
        self.ended = os.pidfd_open(self.pid)

    def _fork(self, to_child: int, from_child: int) -> dict:
        deadline = time.monotonic() + FORK_SECONDS
        try:
            framing.write_frame(to_child, {"op": protocol.Op.FORK}, deadline)
            reply = framing.read_frame(from_child, deadline, 4096)
        except (OSError, EOFError, framing.ProtocolError):
            reply = {}
        if reply.get("ok") is not True or type(reply.get("forked")) is not int:
            raise PartFailed(
                "the notebook's process did not start a process for the next tests"
            )
        return reply

    def _stop(self, pid: int) -> None:
        try:
            os.kill(pid, signal.SIGSTOP)
        except ProcessLookupError:
            raise PartFailed("the notebook's process is gone") from None
        for _ in range(5000):  # stopped, as /proc/PID/stat says ("T"), within a second
            # not "t": a tracer's stop, which it can end
            if _state(pid) in (b"T", b"Z", b"X", None):
                return
            time.sleep(0.0002)
        raise PartFailed("the notebook's process could not be stopped")

    def status(self) -> str:
        """How the current part's process ended, when the kernel says (it does not
        always show the exit code of a process of another user namespace)."""
        code = processes.ended_status(self.pid) if self.pid else None
        if not code:
            return (
                "it ended unexpectedly; did the code call os._exit(), or crash Python?"
            )
        return processes.describe_status(code)

    def end(self) -> None:
        """Kill the current part's process and everything it started (the notebook's
        process stays)."""
        processes.kill_descendants(keep=(self.child, self.notebook))
        self.pid = None
        if self.ended is not None:
            os.close(self.ended)
            self.ended = None

    def close(self) -> None:
        self.end()
        os.close(self.folder)


def submission_folder(sent: socket.socket | None, fallback: str) -> int:
    """A descriptor of the submission's files: its own /tmp, which its first process
    sent on `sent` before any student code ran (worker/scratch.py), else `fallback` (the
    worker's /tmp when it is the worker's own, or the submission's folder there). Closes
    `sent`."""
    descriptors: list[int] = []
    if sent is not None:
        sent.setblocking(False)
        try:
            descriptors = socket.recv_fds(sent, 16, 1)[1]
        except OSError:  # nothing was sent: no namespaces for this submission
            pass
        sent.close()
    if descriptors:
        return descriptors[0]
    return os.open(fallback, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)


def _notebook_process(child: int) -> int:
    """The process that ran the cells: process 1 of the submission's PID namespace (the
    child's only child, or the zygote's own once a submission killed the child), else
    the zygote's child itself."""
    for pid in processes.descendants(os.getpid()):
        if processes.inner_pid(pid) == 1:
            return pid
    return child


def _part_process(notebook: int, forked: object) -> int:
    """The notebook's child whose own PID is `forked` (the number its PID namespace
    gives it, as the notebook's process said: anything)."""
    for pid in processes.children(notebook):
        if processes.inner_pid(pid) == forked:
            return pid
    raise PartFailed("the process for the next tests ended before they started")


def _switches(pid: int) -> dict[str, int]:
    """Each thread of `pid` -> how often it has been switched to and from: the same
    later means none ran."""
    found: dict[str, int] = {}
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for thread in threads:
        try:
            with open(f"/proc/{pid}/task/{thread}/status", "rb") as status:
                found[thread] = sum(
                    int(line.split()[1]) for line in status if b"ctxt_switches:" in line
                )
        except (OSError, ValueError, IndexError):
            found[thread] = -1
    return found


def _state(pid: int) -> bytes | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def _drain(fd: int, most: int = 1 << 26) -> None:
    """Read and drop what is waiting in a pipe (a frame a dead part left half sent or
    half read), at most `most` bytes: a process that keeps writing gets its own frames
    read as its answers."""
    while most > 0 and select.select([fd], [], [], 0)[0]:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return
        most -= len(chunk)

"""The reference process: where the reference answers the stand-ins' questions, out of
the grader's memory.

A question's arguments were chosen by a submission, and no static count can say what
every reference builds from them, so the reference runs in a process of its own
(`referee_process.py`) under a memory limit, and the grader waits for each answer only
until its deadline. One per grader process, started on the first question (`start`),
kept warm between submissions; one that runs past a deadline, runs out of memory or ends
is stopped, that question gets an error, and the next question starts a new one. It is
stopped with the grader: at exit, by the end of its pipe, and by the kernel when the
grader is killed. Plain data both ways (protocol.py), never pickle.
"""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
import threading
import time
from typing import IO

from . import framing
from .launch import package_dir

MODULE = "autograder.running.referee_process"
START_SECONDS = 30.0  # for a new reference process to import NumPy and say it is ready
READY_BYTES = 4096
# an answer frame's bytes per number it may hold (a float's JSON, a complex's .npy) ...
BYTES_PER_NUMBER = 64
# ... and brackets and commas (an object it cannot send weighs framing.OBJECT_WEIGHT)
TOKENS_PER_NUMBER = 16
FRAME_SLACK = 65536  # ... beyond those, for the frame itself and an error's text


class Referee:
    """The grader's handle on its reference process."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.loaded: set[str] = set()  # the reference modules it has imported
        # a process forked from the grader does not share its reference process
        self.owner = os.getpid()
        self.lock = threading.Lock()  # one question at a time

    def start(self, path: str, deadline: float) -> bool:
        """Make sure the process is running, ready and has imported the reference at
        `path`, by `deadline` (a new process's start and a module's import are not a
        question's time)."""
        with self.lock:
            if not self.running:
                self._stop()
                self.process = subprocess.Popen(
                    [sys.executable, "-P", "-m", MODULE, str(os.getpid())],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    env=_environment(),
                    start_new_session=True,
                    close_fds=True,
                )
                self.loaded = set()
                if not self._read(min(deadline, time.monotonic() + START_SECONDS)).get(
                    "ready"
                ):
                    self._stop()
                    return False
            if path not in self.loaded:
                try:
                    framing.write_frame(
                        self._pipes()[0].fileno(),
                        {"path": path, "load": True},
                        deadline,
                    )
                except (OSError, framing.ProtocolError):
                    self._stop()
                    return False
                if not self._read(deadline):
                    self._stop()
                    return False
                # or it could not be imported: each question says why
                self.loaded.add(path)
            return True

    def _read(self, deadline: float) -> dict:
        """A short frame (ready, loaded) by `deadline`, or {} when none came."""
        try:
            return framing.read_frame(self._pipes()[1].fileno(), deadline, READY_BYTES)
        except (EOFError, OSError, framing.ProtocolError):
            return {}

    @property
    def running(self) -> bool:
        return (
            self.process is not None
            and self.owner == os.getpid()
            and self.process.poll() is None
        )

    def ask(self, question: dict, seconds: float) -> dict:
        """The process's answer to `question` ({"path", "name", "args", "kwargs",
        "budget", "memory_mb"}): {"value"} or {"error"}, with "refused" when a bound
        stopped it. Past `seconds` from now, a process that ran out of memory, or one
        that ended, is stopped and the answer says so."""
        with self.lock:
            if not self.running:
                return {
                    "error": "the reference's process is not running",
                    "refused": True,
                }
            try:
                reply = self._exchange(
                    {**question, "seconds": seconds},
                    time.monotonic() + max(seconds, 0.0),
                )
            except framing.FrameTimeout:
                self._stop()
                return {
                    "error": (
                        f"it did not answer within {seconds:.2g} s on these arguments"
                    ),
                    "refused": True,
                }
            except framing.FrameTooLarge:
                self._stop()
                return {
                    "error": (
                        f"its answer was larger than the {question['budget']:,} "
                        "numbers this test allows"
                    ),
                    "refused": True,
                }
            except (EOFError, OSError, framing.ProtocolError):
                self._stop()
                return {
                    "error": (
                        "its process ended while answering (out of memory?); the next "
                        "question starts a new one"
                    ),
                    "refused": True,
                }
            # a process that ran out of memory is not trusted with the next question
            if reply.get("memory"):
                self._stop()
        return _clean(reply)

    def _pipes(self) -> tuple[IO[bytes], IO[bytes]]:
        """The reference process's stdin and stdout; OSError once it is stopped."""
        process = self.process
        if process is None or process.stdin is None or process.stdout is None:
            raise OSError("the reference process is not running")
        return process.stdin, process.stdout

    def _exchange(self, question: dict, deadline: float) -> dict:
        """Send a question, read its answer: both by `deadline`, the answer within the
        question's budget."""
        budget = int(question["budget"])
        framing.write_frame(self._pipes()[0].fileno(), question, deadline)
        return framing.read_frame(
            self._pipes()[1].fileno(),
            deadline,
            FRAME_SLACK + BYTES_PER_NUMBER * budget,
            FRAME_SLACK + TOKENS_PER_NUMBER * budget,
        )

    def stop(self) -> None:
        with self.lock:
            self._stop()

    def _stop(self) -> None:
        process, self.process = self.process, None
        if process is None or self.owner != os.getpid():
            self.owner = os.getpid()
            return
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        process.wait()
        for stream in (process.stdin, process.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass


def _clean(reply: dict) -> dict:
    if "value" in reply:
        return {"value": reply["value"]}
    return {
        "error": str(reply.get("error", "no answer"))[:1000],
        "refused": reply.get("refused") is True,
    }


def _environment() -> dict[str, str]:
    """The grader's environment, single-threaded maths (threads would each reserve
    address space under the limit) and this very package first on the path."""
    env = {
        **os.environ,
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(package_dir().parent), os.environ.get("PYTHONPATH")])
    )
    return env


REFEREE = Referee()  # this grader process's reference process
atexit.register(REFEREE.stop)

"""The reference process itself (`referee.py` starts it): answers questions with the
reference, within limits.

Started as `python -P -m autograder.running.referee_process GRADER_PID`. It reads
`{"path", "name", "args", "kwargs", "budget", "memory_mb", "seconds"}` frames, imports
the reference module by path (again when its file changes, as
`suite/runner.load_reference` does), and answers with `{"value"}` or `{"error"}`. Each
run of the reference may add `memory_mb` to the process's address space (RLIMIT_AS: past
it, allocations fail with MemoryError) and use `seconds` of CPU (RLIMIT_CPU: a backstop
for when the grader, which stops it at the deadline, is gone); an answer holding more
than `budget` numbers is refused before it is encoded. Trusted code on a submission's
plain data: the arguments are decoded strictly (protocol.py), never unpickled.
"""

from __future__ import annotations

import ctypes
import importlib.util
import math
import os
import resource
import signal
import sys
from types import ModuleType
from typing import Any

from . import framing, protocol
from .references import MAX_ERROR, count, too_large

PR_SET_PDEATHSIG = 1

# path -> (its stat when imported, the module)
_modules: dict[str, tuple[tuple, ModuleType]] = {}


def answer(question: dict) -> dict:
    """The reference's answer to one question, as plain data; to {"path", "load": true},
    whether the module at `path` is imported (before a first question, whose time is
    then the reference's own)."""
    if question.get("load"):
        try:
            _module(str(question["path"]))
        # a reference that does not import: every question will say why
        except Exception as error:
            return {"error": f"{type(error).__name__}: {error}"[:MAX_ERROR]}
        return {"loaded": True}
    budget = int(question.get("budget", 0))
    try:
        function = getattr(_module(str(question["path"])), str(question["name"]))
        args, kwargs = (
            protocol.decode(question["args"]),
            protocol.decode(question["kwargs"]),
        )
        if not isinstance(args, list) or not isinstance(kwargs, tuple):
            raise framing.ProtocolError("arguments in the wrong form")
        refused = too_large(args, kwargs, budget)
        if refused:
            return {"error": refused, "refused": True}
        with _limits(
            float(question.get("seconds", 1.0)), int(question.get("memory_mb", 0))
        ):
            value = function(*args, **dict(kwargs))
            numbers = count(value)
            if numbers > budget:
                return {
                    "error": (
                        f"its answer would hold {numbers:,} numbers, more than the "
                        f"{budget:,} this test allows; pass values of the size your "
                        "function was given"
                    ),
                    "refused": True,
                }
            return {"value": protocol.encode(value)}
    except MemoryError:
        return {
            "error": (
                f"it ran out of its memory ({question.get('memory_mb')} MB) on these "
                "arguments"
            ),
            "refused": True,
            "memory": True,
        }
    # the reference on arguments it was not written for: the student's problem
    except Exception as error:
        return {"error": f"{type(error).__name__}: {error}"[:MAX_ERROR]}


class _limits:
    """RLIMIT_AS and RLIMIT_CPU for one run of the reference: what it may add to the
    process, from now."""

    def __init__(self, seconds: float, memory_mb: int):
        self.seconds, self.memory = seconds, memory_mb * 1024 * 1024
        self.saved = {
            which: resource.getrlimit(which)
            for which in (resource.RLIMIT_AS, resource.RLIMIT_CPU)
        }

    def __enter__(self) -> None:
        if self.memory:
            _soft(resource.RLIMIT_AS, _address_space() + self.memory)
        used = resource.getrusage(resource.RUSAGE_SELF)
        _soft(
            resource.RLIMIT_CPU,
            math.ceil(used.ru_utime + used.ru_stime + self.seconds) + 1,
        )

    def __exit__(self, *exc: Any) -> None:
        for which, limits in self.saved.items():
            resource.setrlimit(which, limits)


def _soft(which: int, value: int) -> None:
    """Lower the soft limit to `value` (never above the hard limit the grader was
    started with)."""
    _, hard = resource.getrlimit(which)
    resource.setrlimit(
        which, (value if hard == resource.RLIM_INFINITY else min(value, hard), hard)
    )


def _address_space() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


def _module(path: str) -> ModuleType:
    """The reference module at `path`, imported by path; again when the file changed."""
    stat = os.stat(path)
    key = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
    known = _modules.get(path)
    if known is not None and known[0] == key:
        return known[1]
    spec = importlib.util.spec_from_file_location(
        f"_autograder_reference_{len(_modules)}", path
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"the reference {path} cannot be imported")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    _modules[path] = (key, module)
    return module


def serve(grader: int) -> None:
    """Answer questions on stdin until it closes; die with the grader."""
    _die_with(grader)
    control_in, control_out = os.dup(0), os.dup(1)
    # the protocol owns the original stdout; a reference's prints go to stderr
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the grader's to handle
    import numpy  # noqa: F401  what every reference imports, before the first question's time starts

    framing.write_frame(control_out, {"ready": True})
    while True:
        try:
            question = framing.read_frame(control_in)
        except (EOFError, framing.ProtocolError):
            return
        reply = answer(question)
        try:
            framing.write_frame(control_out, reply)
        except OSError:
            return


def _die_with(grader: int) -> None:
    """A reference process left behind by a killed grader would hold its memory until
    its question ends."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(
            PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0
        )
    except (OSError, AttributeError):
        pass
    if os.getppid() != grader:  # the grader was gone before the line above took effect
        os._exit(1)


if __name__ == "__main__":
    serve(int(sys.argv[1]))
    sys.stdout.flush()
    os._exit(0)

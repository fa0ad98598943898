"""The processes of one submission: how the forked child is made ready before any
student code runs (its own session, namespaces, folder and limits), how to tell how it
ended, and the sweep of every process it left behind. Used by the zygote (zygote.py),
which never runs student code itself.
"""

from __future__ import annotations

import ctypes
import os
import resource
import select
import signal
import sys
import tempfile
import time

from .. import framing
from . import scratch

# exit code of a child whose own worker code failed (the notebook broke Python itself)
BROKEN_WORKER = 70
PR_SET_DUMPABLE = 4


def enter_child(
    release_dir: str,
    fallback: str,
    limits: dict,
    keep: tuple[int, ...],
    reply: int,
    fresh_tmp: bool,
    report: int | None = None,
) -> None:
    """Runs in the forked child before any student code: its own session, files and
    limits."""
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # stray writes to the real stdout/stderr go nowhere
        os.dup2(devnull, fd)
    kept = sorted({*keep, *(() if report is None else (report,))})
    for low, high in zip([2, *kept], [*kept, 1024]):
        os.closerange(low + 1, high)
    try:
        folder, _ = scratch.enter(release_dir, fallback, limits, fresh_tmp, report)
    except scratch.SetupFailed as error:
        framing.write_frame(reply, {"ok": False, "setup": str(error)})
        os._exit(0)
    finally:
        if report is not None:
            os.close(report)  # said (or not) before any student code runs
    os.chdir(folder)
    # as Jupyter does: the notebook's folder, the submission's own
    sys.path.insert(0, folder)
    os.environ["HOME"] = folder
    os.environ["TMPDIR"] = scratch.PRIVATE_TMP if folder == scratch.WORKDIR else folder
    # the zygote's choice of temporary folder is not this submission's
    tempfile.tempdir = None
    # siblings of the same user cannot read this process's memory
    prctl(PR_SET_DUMPABLE, 0)
    megabyte = 1024 * 1024
    address_space = _current_address_space() + int(limits["memory_mb"]) * megabyte
    _limit(resource.RLIMIT_AS, address_space)
    _limit(resource.RLIMIT_CPU, int(float(limits["whole"])) + 5)
    _limit(resource.RLIMIT_FSIZE, int(limits["max_file_mb"]) * megabyte)
    _limit(resource.RLIMIT_CORE, 0)
    if os.geteuid() != 0:  # the kernel ignores RLIMIT_NPROC for root
        _limit(resource.RLIMIT_NPROC, int(limits["max_processes"]))


def wait_for(pid: int, seconds: float) -> int | None:
    """The wait status of child `pid` if it ends within `seconds`, else None (it is
    still running)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            done, code = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return None
        if done or time.monotonic() >= deadline:
            return code if done else None
        time.sleep(0.005)


def end_child(pid: int, grace: float) -> str:
    """Kill child `pid` (after `grace` seconds to end by itself) and say how it
    ended."""
    code = wait_for(pid, grace)
    if code is None:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            code = os.waitpid(pid, 0)[1]
        except ChildProcessError:
            pass
    return "it was already gone" if code is None else describe_status(code)


def own_state() -> tuple:
    """This process's resource limits, priority, CPUs and scheduling policy: what a
    child inherits and a process of the same user can change from outside (prlimit,
    setpriority, sched_setaffinity)."""
    limits = tuple(
        resource.getrlimit(getattr(resource, name))
        for name in sorted(dir(resource))
        if name.startswith("RLIMIT_")
    )
    return (
        limits,
        os.getpriority(os.PRIO_PROCESS, 0),
        tuple(sorted(os.sched_getaffinity(0))),
        os.sched_getscheduler(0),
    )


def _limit(which: int, value: int) -> None:
    _, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    try:
        resource.setrlimit(which, (value, value))
    except (ValueError, OSError):
        pass


def _current_address_space() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def kill_descendants(keep: tuple[int, ...] = ()) -> None:
    """SIGKILL every process below this one (orphans were re-parented here) but those in
    `keep`, until none is left; the processes below a kept one go too. Each is waited
    for through a pidfd (it has ended, whoever its parent is), so that one more look at
    the table is enough."""
    me = os.getpid()
    for _ in range(50):
        doomed = [pid for pid in descendants(me) if pid not in keep]
        if not doomed:
            break
        ending = []
        for pid in doomed:
            try:
                ending.append(os.pidfd_open(pid))
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _reap()
        _wait_ended(ending, time.monotonic() + 1.0)
    _reap()


def _wait_ended(pidfds: list[int], deadline: float) -> None:
    """Wait until every process of `pidfds` has ended (or the deadline), then close the
    descriptors."""
    waiting = list(pidfds)
    while waiting and time.monotonic() < deadline:
        ended, _, _ = select.select(
            waiting, [], [], max(deadline - time.monotonic(), 0.0)
        )
        waiting = [fd for fd in waiting if fd not in ended]
    for fd in pidfds:
        os.close(fd)


def children(parent: int) -> list[int]:
    """The live processes whose parent is `parent`."""
    return [pid for pid, (ppid, _) in _table().items() if ppid == parent]


def _table() -> dict[int, tuple[int, bytes]]:
    """pid -> (parent pid, state) of every process this one can see that has not ended
    (zombies are left out: they run nothing, and one whose parent is stopped stays until
    that parent runs again)."""
    table: dict[int, tuple[int, bytes]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
            if fields[0] not in (b"Z", b"X"):
                table[int(entry)] = (int(fields[1]), fields[0])
        except (OSError, IndexError, ValueError):
            continue
    return table


def descendants(root: int) -> list[int]:
    table = _table()
    found, frontier = [], [root]
    while frontier:
        parent = frontier.pop()
        kids = [pid for pid, (ppid, _) in table.items() if ppid == parent]
        found.extend(kids)
        frontier.extend(kids)
    return found


def inner_pid(pid: int) -> int | None:
    """`pid` as the process's own PID namespace numbers it (the last NSpid of its
    status), None if it is gone."""
    try:
        with open(f"/proc/{pid}/status", "rb") as handle:
            for line in handle:
                if line.startswith(b"NSpid:"):
                    return int(line.split()[-1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def ended_status(pid: int) -> int | None:
    """The wait status of process `pid` that has ended and whose parent has not
    collected it yet (a zombie: its /proc/PID/stat shows its exit code to a process of
    the same user), else None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        return int(fields[49]) if fields[0] in (b"Z", b"X") else None
    except (OSError, IndexError, ValueError):
        return None


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def describe_status(code: int) -> str:
    if os.WIFSIGNALED(code):
        number = os.WTERMSIG(code)
        name = (
            signal.Signals(number).name
            if number in signal.Signals._value2member_map_
            else str(number)
        )
        return f"killed by signal {name}"
    if os.WEXITSTATUS(code) == BROKEN_WORKER:
        return (
            "the grading code around it stopped working; did the notebook replace a "
            "Python built-in or a numpy function, or delete a module?"
        )
    return f"exited with code {os.WEXITSTATUS(code)}; did the code call os._exit()?"


def prctl(option: int, value: int) -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass

"""Each submission's own world: a fresh /tmp capped in bytes and in files, and processes
of its own, all gone with the submission.

The forked child calls `enter` before any student code runs. Where the kernel allows it
(it does inside the sandbox, as root or not), the child enters a user, mount and PID
namespace of its own and mounts a new tmpfs on /tmp, with `size` and `nr_inodes` from
the limits: nothing an earlier submission wrote can be there, nothing this one writes
can outlive it (the tmpfs goes with the last process in the namespace, and the worker
kills them all), and the kernel enforces both caps. In its PID namespace the submission
sees no other process: it cannot signal, re-limit (prlimit), re-schedule or re-nice its
worker, whose settings every later submission inherits. `enter` forks once (the first
process of a PID namespace is the next child) and returns in that process; the one that
called it waits for it and ends as it ends. The submission's process then forbids
further user namespaces (so the code cannot mount an uncapped tmpfs of its own) and
drops every capability. Where namespaces are refused, the child works in the folder its
zygote made for it; the zygote deletes it afterwards and, when the sandbox gives the
worker a /tmp of its own, empties and checks that /tmp between submissions (see
zygote.py).

Either way the release files are copied into the working folder by the child, so a
submission that cannot be set up (a full disk) fails alone, with a message.
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import signal
import socket
import sys

from . import snapshot

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
MS_NOSUID, MS_NODEV = 0x2, 0x4
PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38
CAPABILITY_VERSION_3 = 0x20080522
PRIVATE_TMP = "/tmp"
# the notebook's folder (its working directory, HOME and first sys.path entry)
WORKDIR = "/tmp/work"


class SetupFailed(Exception):
    """The submission's folder could not be made; the message says why, for the
    result."""


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def enter(
    release_dir: str,
    fallback: str,
    limits: dict,
    fresh_tmp: bool = True,
    report: int | None = None,
) -> tuple[str, bool]:
    """Make the submission's working folder and copy the release into it: (folder,
    private /tmp?). `fresh_tmp=False` (the worker's --shared-tmp) never tries
    namespaces. `report`: a Unix socket to send a descriptor of the new /tmp on, before
    any student code runs (the zygote restores the submission's files through it,
    worker/parts.py)."""
    size, files = (
        int(float(limits["scratch_mb"]) * 1024 * 1024),
        int(limits["scratch_files"]),
    )
    # held open: a course under /tmp stays readable once a new tmpfs hides the old /tmp
    try:
        release = os.open(release_dir, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as error:
        raise SetupFailed(
            f"the assignment's files could not be read ({error.strerror or error}); "
            "run `autograder doctor`"
        ) from None
    try:
        private = (
            fresh_tmp and not _python_in_tmp() and _private_tmp(size, files, report)
        )
        folder = WORKDIR if private else fallback
        try:
            os.makedirs(folder, exist_ok=True)
            copy_release(f"/proc/self/fd/{release}", folder)
        except OSError as error:
            raise SetupFailed(_setup_failure(error)) from None
    finally:
        os.close(release)
    return folder, private


def _setup_failure(error: OSError) -> str:
    text = f"the submission's folder could not be set up ({error.strerror or error})"
    if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return text + "; if the assignment's files are large, raise [limits] scratch_mb"
    return text + "; run `autograder doctor`"


def _python_in_tmp() -> bool:
    """Python or a folder it imports from lies under /tmp (a clone or a venv there,
    without the sandbox, which shows them elsewhere): a new tmpfs on /tmp would hide
    them from the student's imports."""
    folders = [
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        *(p for p in sys.path if p),
    ]
    return any(
        os.path.realpath(f) == PRIVATE_TMP
        or os.path.realpath(f).startswith(PRIVATE_TMP + "/")
        for f in folders
    )


def _private_tmp(size: int, files: int, report: int | None = None) -> bool:
    """A new tmpfs on /tmp in namespaces of this process's own, returning in the first
    process of its PID namespace; False (nothing changed, no fork) when refused."""
    libc = ctypes.CDLL(None, use_errno=True)
    uid, gid = os.getuid(), os.getgid()
    # /proc/self/*_map are root's while the process is not dumpable (the zygote's
    # setting, inherited); the caller makes it undumpable again before student code runs
    libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC) != 0:
        return False
    try:
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
        options = f"size={size},nr_inodes={files},mode=1777".encode()
        mounted = (
            libc.mount(
                b"tmpfs", PRIVATE_TMP.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, options
            )
            == 0
        )
        if mounted:
            # no user namespace below this one: the code cannot mount an uncapped tmpfs
            # itself
            try:
                _write("/proc/sys/user/max_user_namespaces", "0")
            except OSError:
                pass
            if report is not None:
                _send_folder(report, PRIVATE_TMP)
    except OSError:
        mounted = False
    # the PID namespace is made: only a new process can be in it
    _become_first_process(libc)
    _drop_capabilities(libc)  # whatever happened above, student code gets none
    return mounted


def _send_folder(report: int, path: str) -> None:
    folder = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        socket.send_fds(socket.socket(fileno=os.dup(report)), [b"tmp"], [folder])
    finally:
        os.close(folder)


def _become_first_process(libc) -> None:
    """Fork: the child, process 1 of the new PID namespace, returns; this process waits
    and ends as it ends. It runs no student code and is not dumpable: no process of the
    submission can read or write its memory."""
    pid = os.fork()
    if pid == 0:
        return
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    _drop_capabilities(libc)
    # the submission's process holds the pipes; their ends close with it
    for fd in range(3, 1024):
        try:
            os.close(fd)
        except OSError:
            pass
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):  # end the same way, so the zygote can tell what happened
        signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
        os.kill(os.getpid(), os.WTERMSIG(status))
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


def _drop_capabilities(libc) -> None:
    """No capability left (in the new user namespace the process had all of them), none
    to regain."""
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    header, data = _CapHeader(CAPABILITY_VERSION_3, 0), (_CapData * 2)()
    if libc.capset(ctypes.byref(header), data) != 0:
        raise SetupFailed("the submission's process could not give up its privileges")


def _write(path: str, text: str) -> None:
    with open(path, "w") as handle:
        handle.write(text)


def copy_release(source: str, target: str) -> None:
    """The release folder's files (not the notebook: the student's arrives as cells)."""
    for entry in os.listdir(source):
        path = os.path.join(source, entry)
        if os.path.isdir(path):
            shutil.copytree(path, os.path.join(target, entry))
        elif not entry.endswith(".ipynb"):
            shutil.copy(path, target)


# /proc/sysvipc/<table>: its remover
IPC_TABLES = {"shm": "shmctl", "msg": "msgctl", "sem": "semctl"}
IPC_RMID = 0


def remove_ipc() -> int:
    """Remove the System V shared memory, queues and semaphores this process may remove
    (those a submission made, where it had no IPC namespace of its own): they would
    outlive it, for the next one to read. How many are left."""
    libc = ctypes.CDLL(None, use_errno=True)
    left = 0
    for table, remover in IPC_TABLES.items():
        try:
            with open(f"/proc/sysvipc/{table}") as listing:
                rows = listing.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) > 1 and fields[1].isdigit():
                args = (
                    (int(fields[1]), 0, IPC_RMID, None)
                    if table == "sem"
                    else (int(fields[1]), IPC_RMID, None)
                )
                left += getattr(libc, remover)(*args) != 0
    return left


def empty(folder: str) -> list[str]:
    """Delete everything inside `folder` (making read-only folders writable first,
    however deep they go, never through a link); what is left."""
    try:
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return []
    try:
        for entry in os.listdir(descriptor):
            try:
                snapshot.remove(descriptor, entry)
            except OSError:
                pass
        return os.listdir(descriptor)
    except OSError:
        return []
    finally:
        os.close(descriptor)


def over_limit(folder: str, max_bytes: int, max_files: int) -> str:
    """What the filesystem holding `folder` (a tmpfs) holds beyond the caps, or ''."""
    try:
        stats = os.statvfs(folder)
    except OSError:
        return ""
    if (stats.f_blocks - stats.f_bfree) * stats.f_frsize > max_bytes:
        return f"it wrote more than {max_bytes / 1024 / 1024:g} MB to /tmp"
    if stats.f_files - stats.f_ffree > max_files:
        return f"it made more than {max_files} files and folders in /tmp"
    return ""

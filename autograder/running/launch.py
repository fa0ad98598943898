"""How the worker process is started: its command line, its environment and the files handed to it.

The worker always runs as a separate process with resource limits set by the zygote. With bubblewrap
(`bwrap_launch`) it also runs in fresh mount, PID, IPC, UTS and network namespaces, as an
unprivileged user, seeing only the Python installation, the autograder package and the released
assignment, read-only. Whether the sandbox works here, and so which launch is used, is `sandbox.py`'s
to say. See `docs/SECURITY.md`.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .. import settings
from .pythonview import SHOWN_SYSTEM_DIRS, python_view

FRESH_TMP_VARIABLE = settings.FRESH_TMP  # off: no namespaces per submission (a folder in the shared /tmp)

WORKER_UID = WORKER_GID = 65534  # "nobody": the worker's ids in a user namespace (a grader that is not root)

# As root, the worker's uid is this plus the grader process's PID (below 2**22): a uid of its own per
# grader, owning nothing on the host, so that RLIMIT_NPROC (counted per uid) is per job.
JOB_UID_BASE = 1_900_000_000

SCRATCH_BYTES = 1024 * 1024 * 1024  # size of the worker's private /tmp

# Where things appear inside the sandbox: neutral names, no grader paths.
INSIDE_PACKAGE = "/opt/autograder"

INSIDE_ASSIGNMENT = "/assignment"

INSIDE_FONTS = "/opt/fonts"  # Matplotlib's font list, made in a sandbox once (`probe`), for each worker to start with

# -P: nothing writable (the working folder) goes on sys.path; each submission's child puts its own first.
WORKER_MODULE = f"{__package__}.worker"  # the untrusted side, a package beside this module
WORKER_ARGS = ("-P", "-m", WORKER_MODULE)

SYSTEM_DIRS = SHOWN_SYSTEM_DIRS

SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/localtime", "/etc/nsswitch.conf",
                "/etc/passwd", "/etc/group", "/etc/mime.types")

SYSTEM_FOLDERS_IN_ETC = ("/etc/ld.so.conf.d", "/etc/fonts", "/etc/alternatives")

PROTECTIONS = ["separate process", "time limits", "memory limit", "process sweep"]

SANDBOX_PROTECTIONS = ["read-only view of Python, the autograder and the assignment only",
                       "private /tmp", "no network", "own PID/IPC/UTS namespaces",
                       "unprivileged user (process limit applies; as root, a uid of its own per grader process)",
                       "killed with the grader"]



@dataclass(frozen=True)
class Launch:
    """A worker command: run it through `with_files`, which hands bwrap the `files` written for the sandbox."""

    argv: list[str]
    env: dict[str, str]
    protections: list[str] = field(default_factory=list)  # what is on
    missing: list[str] = field(default_factory=list)  # what is off, and why
    files: dict[str, bytes] = field(default_factory=dict)  # sandbox path -> content, read-only inside



@contextlib.contextmanager
def with_files(argv: list[str], files: dict[str, bytes]) -> Iterator[tuple[list[str], tuple[int, ...]]]:
    """A bwrap `argv` as it is run: its options (and each of `files`, a read-only file of the sandbox)
    read by bwrap from descriptors (`--args`, `--ro-bind-data`), so that bwrap's command line, which the
    sandbox can read as /proc/1/cmdline, names no host path; and those descriptors, for
    `subprocess.Popen(argv, pass_fds=...)`, closed on exit (the child has its copies). Other commands
    are run as they are."""
    if "--" not in argv:  # not bwrap: a plain launch
        yield list(argv), ()
        return
    fds: list[int] = []
    try:
        end = argv.index("--")  # bwrap's options end at its first `--`
        options = argv[1:end]
        for path, content in files.items():
            fds.append(_memory_file(content))
            options += ["--perms", "0444", "--ro-bind-data", str(fds[-1]), path]
        fds.append(_memory_file(b"".join(option.encode() + b"\0" for option in options)))
        yield [argv[0], "--args", str(fds[-1]), *argv[end:]], tuple(fds)
    finally:
        for fd in fds:
            os.close(fd)



def start_worker(launch: Launch) -> subprocess.Popen:
    """Start the worker process of `launch` (pipes for the protocol; its "ready" is `Worker`'s to read)."""
    with with_files(launch.argv, launch.files) as (argv, fds):  # fds: files written for the sandbox
        return subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                env=launch.env, start_new_session=True, close_fds=True, pass_fds=fds)



def _memory_file(content: bytes) -> int:
    fd = os.memfd_create("autograder-sandbox")  # close-on-exec: pass_fds hands it to bwrap only
    os.write(fd, content)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd



def worker_env(home: str = "/tmp") -> dict[str, str]:
    """A small, clean environment: nothing in it names the grader."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "USER": "student",  # getpass.getuser() without a passwd entry for the worker's uid
        "LOGNAME": "student",
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        **{k: v for k, v in os.environ.items() if k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")},
    }



def plain_launch(release_dir: Path, reason: str = "no sandbox in use") -> Launch:
    """The worker as a plain child process with resource limits only."""
    argv = [sys.executable, *WORKER_ARGS, str(release_dir), *_tmp_args()]
    env = worker_env()
    env["PYTHONPATH"] = str(package_dir().parent)
    return Launch(
        argv=argv,
        env=env,
        protections=list(PROTECTIONS),
        missing=[f"filesystem, network and user isolation ({reason})"],
    )



def bwrap_launch(release_dir: Path, bwrap: str, files: dict[str, bytes] | None = None) -> Launch:
    """The worker inside bubblewrap, as an unprivileged user; `files` are handed to it as well (`with_files`)."""
    python = python_view()
    mounts = [*python.mounts, ("--ro-bind", str(package_dir()), f"{INSIDE_PACKAGE}/autograder"),
              ("--ro-bind", str(Path(release_dir).resolve()), INSIDE_ASSIGNMENT)]
    argv = [bwrap, "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session",
            *_system_mounts(), *_mount_args(mounts),
            "--proc", "/proc", "--dev", "/dev",
            "--perms", "1777", *_tmpfs_size(bwrap), "--tmpfs", "/tmp",
            "--chdir", "/", *_user_args(),
            python.interpreter, *WORKER_ARGS, INSIDE_ASSIGNMENT, "--own-tmp", *_tmp_args()]
    env = worker_env()
    env["PYTHONPATH"] = INSIDE_PACKAGE
    return Launch(argv=argv, env=env, protections=PROTECTIONS + SANDBOX_PROTECTIONS, missing=[],
                  files={**python.files, **(files or {})})



def _tmp_args() -> list[str]:
    return [] if settings.fresh_tmp() else ["--shared-tmp"]



def worker_uid() -> int:
    """The uid the worker runs as in the sandbox: as root, one of its own per grader process (a fork
    bomb in one `--jobs` job cannot use up another's process budget); else 65534 in a user namespace."""
    return JOB_UID_BASE + os.getpid() if os.geteuid() == 0 else WORKER_UID



@functools.cache
def bwrap_help(bwrap: str) -> str:
    try:
        return subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""



def _tmpfs_size(bwrap: str) -> list[str]:
    """Cap the private /tmp where bwrap can (0.7+); older ones give an uncapped tmpfs."""
    return ["--size", str(SCRATCH_BYTES)] if "--size" in bwrap_help(bwrap) else []



def package_dir() -> Path:
    """The folder of the whole autograder package, which the sandbox shows read-only."""
    return Path(sys.modules[__name__.partition(".")[0]].__file__).resolve().parent



def _system_mounts() -> list[str]:
    args: list[str] = []
    for folder in SYSTEM_DIRS:
        path = Path(folder)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), folder]
        elif path.is_dir():
            args += ["--ro-bind", folder, folder]
    args += ["--perms", "0755", "--dir", "/etc"]
    for item in SYSTEM_FILES + SYSTEM_FOLDERS_IN_ETC:
        if os.path.exists(item):
            args += ["--ro-bind", item, item]
    return args



def _mount_args(mounts: list[tuple[str, str, str]]) -> list[str]:
    """Read-only binds and links, each missing parent made world-readable (bwrap makes them 0700 as root)."""
    args: list[str] = []
    made = {"/", "/etc", "/usr", "/tmp"}
    for option, source, target in mounts:
        for parent in reversed(Path(target).parents):
            if str(parent) not in made:
                made.add(str(parent))
                args += ["--perms", "0755", "--dir", str(parent)]
        args += [option, source, target]
    return args



def _user_args() -> list[str]:
    """Become the unprivileged worker user: via a user namespace, or, as root, by dropping root."""
    if os.geteuid() != 0:
        return ["--unshare-user", "--uid", str(WORKER_UID), "--gid", str(WORKER_GID), "--"]
    # Root's uid maps to root in a user namespace, where RLIMIT_NPROC is ignored: drop for real.
    return ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--",
            shutil.which("setpriv") or "setpriv", "--reuid", str(worker_uid()), "--regid", str(WORKER_GID),
            "--clear-groups", "--"]

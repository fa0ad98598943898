"""The worker inside bubblewrap: fresh mount, PID, IPC, UTS and network namespaces, an
unprivileged user, and a read-only view of the Python installation, the autograder
package and the released assignment only, under neutral names; the command line names no
host path (launch.with_files)."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

from .launch import PROTECTIONS, WORKER_ARGS, Launch, package_dir, tmp_args, worker_env
from .pythonview import SHOWN_SYSTEM_DIRS, python_view

# "nobody": the worker's ids in a user namespace (a grader that is not root)
WORKER_UID = WORKER_GID = 65534

# As root, the worker's uid is this plus the grader process's PID (below 2**22): a uid
# of its own per grader, owning nothing on the host, so that RLIMIT_NPROC (counted per
# uid) is per job.
JOB_UID_BASE = 1_900_000_000

SCRATCH_BYTES = 1024 * 1024 * 1024  # size of the worker's private /tmp

# Where things appear inside the sandbox: neutral names, no grader paths.
INSIDE_PACKAGE = "/opt/autograder"

INSIDE_ASSIGNMENT = "/assignment"

# Matplotlib's font list, made in a sandbox once (`probe`), for each worker to start
# with
INSIDE_FONTS = "/opt/fonts"

SYSTEM_DIRS = SHOWN_SYSTEM_DIRS

SYSTEM_FILES = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/localtime",
    "/etc/nsswitch.conf",
    "/etc/passwd",
    "/etc/group",
    "/etc/mime.types",
)

SYSTEM_FOLDERS_IN_ETC = ("/etc/ld.so.conf.d", "/etc/fonts", "/etc/alternatives")

SANDBOX_PROTECTIONS = [
    "read-only view of Python, the autograder and the assignment only",
    "private /tmp",
    "no network",
    "own PID/IPC/UTS namespaces",
    "unprivileged user (process limit applies; as root, a uid of its own per grader "
    "process)",
    "killed with the grader",
]


def bwrap_launch(
    release_dir: Path, bwrap: str, files: dict[str, bytes] | None = None
) -> Launch:
    """The worker inside bubblewrap, as an unprivileged user; `files` are handed to it
    as well (`with_files`)."""
    python = python_view()
    mounts = [
        *python.mounts,
        ("--ro-bind", str(package_dir()), f"{INSIDE_PACKAGE}/autograder"),
        ("--ro-bind", str(Path(release_dir).resolve()), INSIDE_ASSIGNMENT),
    ]
    argv = [
        bwrap,
        "--unshare-ipc",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--die-with-parent",
        "--new-session",
        *_system_mounts(),
        *_mount_args(mounts),
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--perms",
        "1777",
        *_tmpfs_size(bwrap),
        "--tmpfs",
        "/tmp",
        "--chdir",
        "/",
        *_user_args(),
        python.interpreter,
        *WORKER_ARGS,
        INSIDE_ASSIGNMENT,
        "--own-tmp",
        *tmp_args(),
    ]
    env = worker_env()
    env["PYTHONPATH"] = INSIDE_PACKAGE
    return Launch(
        argv=argv,
        env=env,
        protections=PROTECTIONS + SANDBOX_PROTECTIONS,
        missing=[],
        files={**python.files, **(files or {})},
    )


def worker_uid() -> int:
    """The uid the worker runs as in the sandbox: as root, one of its own per grader
    process (a fork bomb in one `--jobs` job cannot use up another's process budget);
    else 65534 in a user namespace."""
    return JOB_UID_BASE + os.getpid() if os.geteuid() == 0 else WORKER_UID


@functools.cache
def bwrap_help(bwrap: str) -> str:
    try:
        return subprocess.run(
            [bwrap, "--help"], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""


def _tmpfs_size(bwrap: str) -> list[str]:
    """Cap the private /tmp where bwrap can (0.7+); older ones give an uncapped
    tmpfs."""
    return ["--size", str(SCRATCH_BYTES)] if "--size" in bwrap_help(bwrap) else []


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
    """Read-only binds and links, each missing parent made world-readable (bwrap makes
    them 0700 as root)."""
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
    """Become the unprivileged worker user: via a user namespace, or, as root, by
    dropping root."""
    if os.geteuid() != 0:
        return [
            "--unshare-user",
            "--uid",
            str(WORKER_UID),
            "--gid",
            str(WORKER_GID),
            "--",
        ]
    # Root's uid maps to root in a user namespace, where RLIMIT_NPROC is ignored: drop
    # for real.
    return [
        "--cap-add",
        "CAP_SETUID",
        "--cap-add",
        "CAP_SETGID",
        "--",
        shutil.which("setpriv") or "setpriv",
        "--reuid",
        str(worker_uid()),
        "--regid",
        str(WORKER_GID),
        "--clear-groups",
        "--",
    ]

"""How the worker process is started: its command line, its environment and the files
handed to it.

The worker always runs as a separate process with resource limits set by the zygote.
With bubblewrap (`bwrap.py`) it also runs in fresh mount, PID, IPC, UTS and network
namespaces, as an unprivileged user, seeing only the Python installation, the autograder
package and the released assignment, read-only. Whether the sandbox works here, and so
which launch is used, is `sandbox.py`'s to say. See `docs/SECURITY.md`.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .. import settings

# off: no namespaces per submission (a folder in the shared /tmp)
FRESH_TMP_VARIABLE = settings.FRESH_TMP

# -P: nothing writable (the working folder) goes on sys.path; each submission's child
# puts its own first.
# the untrusted side, a package beside this module
WORKER_MODULE = f"{__package__}.worker"
WORKER_ARGS = ("-P", "-m", WORKER_MODULE)

PROTECTIONS = ["separate process", "time limits", "memory limit", "process sweep"]


@dataclass(frozen=True)
class Launch:
    """A worker command: run it through `with_files`, which hands bwrap the `files`
    written for the sandbox."""

    argv: list[str]
    env: dict[str, str]
    protections: list[str] = field(default_factory=list)  # what is on
    missing: list[str] = field(default_factory=list)  # what is off, and why
    # sandbox path -> content, read-only inside
    files: dict[str, bytes] = field(default_factory=dict)


@contextlib.contextmanager
def with_files(
    argv: list[str], files: dict[str, bytes]
) -> Iterator[tuple[list[str], tuple[int, ...]]]:
    """A bwrap `argv` as it is run: its options (and each of `files`, a read-only file
    of the sandbox) read by bwrap from descriptors (`--args`, `--ro-bind-data`), so that
    bwrap's command line, which the sandbox can read as /proc/1/cmdline, names no host
    path; and those descriptors, for `subprocess.Popen(argv, pass_fds=...)`, closed on
    exit (the child has its copies). Other commands are run as they are."""
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
        fds.append(
            _memory_file(b"".join(option.encode() + b"\0" for option in options))
        )
        yield [argv[0], "--args", str(fds[-1]), *argv[end:]], tuple(fds)
    finally:
        for fd in fds:
            os.close(fd)


def start_worker(launch: Launch) -> subprocess.Popen:
    """Start the worker process of `launch` (pipes for the protocol; its "ready" is
    `Worker`'s to read)."""
    # fds: files written for the sandbox
    with with_files(launch.argv, launch.files) as (argv, fds):
        return subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=launch.env,
            start_new_session=True,
            close_fds=True,
            pass_fds=fds,
        )


def _memory_file(content: bytes) -> int:
    # close-on-exec: pass_fds hands it to bwrap only
    fd = os.memfd_create("autograder-sandbox")
    os.write(fd, content)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def worker_env(home: str = "/tmp") -> dict[str, str]:
    """A small, clean environment: nothing in it names the grader."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        # getpass.getuser() without a passwd entry for the worker's uid
        "USER": "student",
        "LOGNAME": "student",
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        **{
            k: v
            for k, v in os.environ.items()
            if k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
        },
    }


def plain_launch(release_dir: Path, reason: str = "no sandbox in use") -> Launch:
    """The worker as a plain child process with resource limits only."""
    argv = [sys.executable, *WORKER_ARGS, str(release_dir), *tmp_args()]
    env = worker_env()
    env["PYTHONPATH"] = str(package_dir().parent)
    return Launch(
        argv=argv,
        env=env,
        protections=list(PROTECTIONS),
        missing=[f"filesystem, network and user isolation ({reason})"],
    )


def tmp_args() -> list[str]:
    return [] if settings.fresh_tmp() else ["--shared-tmp"]


def package_dir() -> Path:
    """The folder of the whole autograder package, which the sandbox shows read-only."""
    return Path(__file__).resolve().parents[1]  # autograder/running/launch.py

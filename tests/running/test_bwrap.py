"""The worker's bubblewrap command line: only what it needs, read-only, in namespaces of
its own, and as root a uid of its own per grader process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from autograder.running import bwrap

REPO = Path(__file__).resolve().parents[2]


def test_sandbox_binds_only_what_the_worker_needs(tmp_path):
    launch = bwrap.bwrap_launch(tmp_path, "/usr/bin/bwrap")
    argv = launch.argv
    sources = {argv[i + 1] for i, arg in enumerate(argv) if arg == "--ro-bind"}
    assert str(REPO) not in sources and "/" not in sources and "/root" not in sources
    assert not any(arg in ("--bind", "--share-net", "--dev-bind") for arg in argv)
    for flag in ("--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent",
                 "--new-session"):
        assert flag in argv
    assert str(bwrap.worker_uid()) in argv
    assert not [v for v in launch.env.values() if str(REPO) in v]


def test_as_root_each_grader_process_gets_a_worker_uid_of_its_own():
    if os.geteuid() != 0:
        assert bwrap.worker_uid() == bwrap.WORKER_UID == 65534  # inside a user namespace
        return
    uids = set()
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", f"from {bwrap.__name__} import worker_uid; print(worker_uid())"],
                              capture_output=True, text=True, check=True, cwd=REPO)
        uids.add(int(done.stdout))
    assert len(uids) == 2 and all(uid > 65534 and uid != os.getuid() for uid in uids)

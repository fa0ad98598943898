"""How the worker is launched: modes, the fallback and its warning, what the sandbox binds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import cli, sandbox
from autograder.errors import UsageError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh_probe():
    sandbox.probe.cache_clear()
    yield
    sandbox.probe.cache_clear()


def test_off_is_a_plain_process_that_says_what_is_missing(monkeypatch, tmp_path):
    monkeypatch.setenv(sandbox.MODE_VARIABLE, "off")
    launch = sandbox.build_launch(tmp_path)
    assert launch.argv[0] == sys.executable
    assert "turned off by AUTOGRADER_SANDBOX=off" in launch.missing[0]


def test_unknown_mode_is_a_usage_error(monkeypatch, tmp_path):
    monkeypatch.setenv(sandbox.MODE_VARIABLE, "maybe")
    with pytest.raises(UsageError, match="off, bwrap, auto"):
        sandbox.build_launch(tmp_path)


def test_without_bwrap_auto_falls_back_and_bwrap_mode_refuses(monkeypatch, tmp_path, fresh_probe):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv(sandbox.MODE_VARIABLE, "auto")
    assert "bubblewrap is not installed" in sandbox.build_launch(tmp_path).missing[0]
    monkeypatch.setenv(sandbox.MODE_VARIABLE, "bwrap")
    with pytest.raises(UsageError, match="autograder doctor"):
        sandbox.build_launch(tmp_path)


def test_sandbox_binds_only_what_the_worker_needs(tmp_path):
    launch = sandbox.bwrap_launch(tmp_path, "/usr/bin/bwrap")
    argv = launch.argv
    sources = {argv[i + 1] for i, arg in enumerate(argv) if arg == "--ro-bind"}
    assert str(REPO) not in sources and "/" not in sources and "/root" not in sources
    assert not any(arg in ("--bind", "--share-net", "--dev-bind") for arg in argv)
    for flag in ("--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent",
                 "--new-session"):
        assert flag in argv
    assert str(sandbox.worker_uid()) in argv
    assert not [v for v in launch.env.values() if str(REPO) in v]


def test_doctor_reports_and_exits_0(capsys):
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "bubblewrap usable" in out and "worker: " in out


def test_grade_warns_when_not_sandboxed(monkeypatch, tmp_path, capsys):
    from toycourse import make_course

    course = make_course(tmp_path)
    notebook = course.released_with("student", "def square(x):\n    return x * x")
    monkeypatch.setenv(sandbox.MODE_VARIABLE, "off")
    assert cli.main(["--course", str(course.root), "grade", "toy", str(notebook)]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "NOT sandboxed" in line]
    assert len(warnings) == 1 and "autograder doctor" in warnings[0]


def test_as_root_each_grader_process_gets_a_worker_uid_of_its_own():
    if os.geteuid() != 0:
        assert sandbox.worker_uid() == sandbox.WORKER_UID == 65534  # inside a user namespace
        return
    uids = set()
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", "from autograder import sandbox; print(sandbox.worker_uid())"],
                              capture_output=True, text=True, check=True, cwd=REPO)
        uids.add(int(done.stdout))
    assert len(uids) == 2 and all(uid > 65534 and uid != os.getuid() for uid in uids)

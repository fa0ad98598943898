"""`autograder doctor`: what protections grading gets on this machine, and what is
missing."""

from __future__ import annotations

import os
import platform
import resource
import shutil
import subprocess
import sys
from dataclasses import dataclass, field

from .. import settings
from ..running import sandbox
from ..running.bwrap import WORKER_UID
from ..running.launch import package_dir


@dataclass
class Finding:
    name: str
    ok: bool
    detail: str


@dataclass
class Diagnosis:
    findings: list[Finding] = field(default_factory=list)
    launch_mode: str = "plain"
    missing: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        rows = [
            f"{'ok ' if f.ok else 'NO '} {f.name}: {f.detail}" for f in self.findings
        ]
        rows.append(f"worker: {self.launch_mode}")
        rows += [f"off: {item}" for item in self.missing]
        return rows


def diagnose() -> Diagnosis:
    diagnosis = Diagnosis()
    add = diagnosis.findings.append
    add(
        Finding(
            "python",
            sys.version_info >= (3, 11),
            f"{platform.python_version()} at {sys.executable}",
        )
    )
    add(Finding("kernel", True, platform.release()))
    bwrap = shutil.which("bwrap")
    add(
        Finding(
            "bubblewrap installed",
            bwrap is not None,
            _bwrap_version(bwrap) if bwrap else "not found",
        )
    )
    problem = sandbox.probe()
    add(
        Finding(
            "bubblewrap usable",
            problem is None,
            problem or "namespaces: mount, pid, ipc, uts, net",
        )
    )
    try:  # what grading will use here (AUTOGRADER_SANDBOX may turn it off)
        off = sandbox.build_launch(package_dir()).missing
    except Exception:  # a forced mode that cannot work: reported below
        off = []
    if off and problem is None:
        problem = "; ".join(off)
    root = os.geteuid() == 0
    how = (
        "a uid of its own per grader process, dropped to with setpriv (running as root)"
        if root
        else f"uid {WORKER_UID} through a user namespace"
    )
    add(
        Finding(
            "unprivileged worker user",
            problem is None,
            how if problem is None else "worker runs as this user",
        )
    )
    limit = (
        "RLIMIT_NPROC applies, per grader process"
        if root
        else "RLIMIT_NPROC applies; --jobs workers share this user's budget"
    )
    add(
        Finding(
            "process limit",
            problem is None or not root,
            limit
            if problem is None or not root
            else "ignored: the worker would run as root",
        )
    )
    try:
        launch = sandbox.build_launch(package_dir())
        fresh = sandbox.fresh_tmp(launch)
        add(
            Finding(
                "a fresh /tmp per submission",
                fresh is None,
                fresh
                or (
                    "a new tmpfs in namespaces of its own, capped in bytes and files, "
                    "gone after it"
                ),
            )
        )
    except Exception:  # a forced mode that cannot work: reported below
        pass
    for name, which in (
        ("address space", resource.RLIMIT_AS),
        ("processes", resource.RLIMIT_NPROC),
        ("open files", resource.RLIMIT_NOFILE),
    ):
        add(
            Finding(
                f"hard limit on {name}", True, _limit_text(resource.getrlimit(which)[1])
            )
        )
    try:
        mode = settings.sandbox_mode()
        launch = sandbox.build_launch(package_dir(), mode)
        diagnosis.launch_mode = (
            "bubblewrap sandbox" if not launch.missing else "plain process"
        ) + f" ({sandbox.MODE_VARIABLE}={mode})"
        diagnosis.missing = list(launch.missing)
    except Exception as error:  # a forced mode that cannot work is itself a finding
        diagnosis.launch_mode = f"cannot start ({error})"
    return diagnosis


def _bwrap_version(bwrap: str) -> str:
    try:
        done = subprocess.run(
            [bwrap, "--version"], capture_output=True, text=True, timeout=10
        )
        return f"{done.stdout.strip()} at {bwrap}"
    except (OSError, subprocess.TimeoutExpired):
        return bwrap


def _limit_text(value: int) -> str:
    return "unlimited" if value == resource.RLIM_INFINITY else str(value)

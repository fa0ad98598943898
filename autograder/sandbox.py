"""How the worker process is started: the command line, its environment and the protections it gets.

The worker always runs as a separate process with resource limits set by the zygote. This module
decides what wraps it (see `docs/SECURITY.md`).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Launch:
    """A ready-to-run worker command."""

    argv: list[str]
    env: dict[str, str]
    protections: list[str] = field(default_factory=list)  # what is on
    missing: list[str] = field(default_factory=list)  # what is off, and why


def worker_env(home: str = "/tmp") -> dict[str, str]:
    """A small, clean environment: nothing in it names the grader."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        **{k: v for k, v in os.environ.items() if k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")},
    }


def plain_launch(release_dir: Path) -> Launch:
    """The worker as a plain child process with resource limits only."""
    argv = [sys.executable, "-m", "autograder.worker", str(release_dir)]
    env = worker_env()
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    return Launch(
        argv=argv,
        env=env,
        protections=["separate process", "time limits", "memory limit", "process sweep"],
        missing=["filesystem and network isolation (no sandbox in use)"],
    )


def build_launch(release_dir: Path) -> Launch:
    return plain_launch(release_dir)

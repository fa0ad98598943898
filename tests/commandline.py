"""The `autograder` command run as users run it: a subprocess of its own, from a folder."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(sys.executable).parent / "autograder"


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


def start(*args: str, cwd: Path, script: bool = False) -> subprocess.Popen:
    command = [str(SCRIPT)] if script else [sys.executable, "-m", "autograder"]
    env = {k: v for k, v in os.environ.items() if k != "AUTOGRADER_COURSE"}
    env["COLUMNS"] = "200"  # rich wraps the table to the terminal width
    return subprocess.Popen([*command, *args], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finished(process: subprocess.Popen, timeout: float = 180) -> Done:
    stdout, stderr = process.communicate(timeout=timeout)
    return Done(process.returncode, stdout, stderr)

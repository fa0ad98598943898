"""A real filesystem that fills up, for the tests of what a full disk costs: a tmpfs of a few hundred KB mounted
on a folder of the test's own (root only, as CI runs; skipped elsewhere, saying why), and a file that fills it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

import pytest


@contextlib.contextmanager
def small_filesystem(folder: Path, kb: int = 256):
    """`folder` as the mount point of a tmpfs of `kb` KB for the block."""
    if os.geteuid() != 0:
        pytest.skip("a small filesystem is a tmpfs mounted for the test, which needs root (CI runs as root)")
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={kb}k,mode=0755", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs on {folder}: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "--lazy", str(folder)], check=False)


def fill(folder: Path, leave: int = 0) -> Path:
    """A file that takes every free byte of `folder`'s filesystem but `leave` (a tmpfs counts whole pages)."""
    stat = os.statvfs(folder)
    ballast = folder / "ballast"
    with open(ballast, "wb") as handle:
        handle.write(b"\0" * (stat.f_bavail * stat.f_frsize - leave))
    return ballast


def free_bytes(folder: Path) -> int:
    stat = os.statvfs(folder)
    return stat.f_bavail * stat.f_frsize

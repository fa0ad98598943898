"""Which processes a test may count as its own when test files run side by side (pytest-xdist).

A scan of /proc for leftovers must not count what another test process is running at the same
time: those processes descend from a sibling of this test process (another xdist worker).
Everything else counts, orphans above all (reparented to init once the command that started them
ended).
"""

from __future__ import annotations

import os
from pathlib import Path


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])  # the name may hold spaces and parentheses


def _siblings() -> set[int]:
    """The other test processes: the controller's children other than this one (none without
    xdist)."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return set()
    controller = os.getppid()
    found = set()
    for entry in filter(str.isdigit, os.listdir("/proc")):
        if int(entry) != os.getpid() and _parent(int(entry)) == controller:
            found.add(int(entry))
    return found


def not_another_tests(pids: list[int]) -> list[int]:
    """`pids` less those that descend from another test process running beside this one."""
    siblings = _siblings()
    kept = []
    for pid in pids:
        ancestor: int | None = pid
        while ancestor not in (None, 0, 1) and ancestor not in siblings:
            ancestor = _parent(ancestor)
        if ancestor not in siblings:
            kept.append(pid)
    return kept

"""Gradebook writers kept open between the gradings of a long-running grader (each of
the service's grading threads has its own), so that a grading neither opens nbgrader's
gradebook nor checks the master's record again.

A kept writer is lent again only while what it was made from is as it was (the
assignment's settings, its master notebook, nbgrader_config.py, the SQLite file itself:
a backup put in its place is another gradebook) and while the gradebook still answers
with the master's grade cells as they were (a dropped connection, or the assignment
recorded again with new cell ids, opens a new one, which records the master again). A
store that failed closes it; no transaction is left open between gradings.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from ..course.config import Assignment
from .gradebook import GradebookWriter, default_url


class KeptWriters:
    """One writer per assignment and database; not shared between threads."""

    def __init__(self) -> None:
        self._open: dict[tuple[str, str, str], tuple[tuple, GradebookWriter]] = {}

    @contextlib.contextmanager
    def lend(
        self, assignment: Assignment, url: str | None
    ) -> Iterator[GradebookWriter]:
        key = (str(assignment.root), assignment.name, url or "")
        made_from = (
            *_made_from(assignment),
            _database_file(url or default_url(assignment)),
        )
        kept = self._open.pop(key, None)
        if kept is not None and (kept[0] != made_from or not kept[1].still_current()):
            kept[1].close()
            kept = None
        writer = kept[1] if kept is not None else GradebookWriter(assignment, url)
        try:
            yield writer
        except BaseException:
            writer.close()
            raise
        if writer.failed:
            writer.close()
        else:
            writer.gradebook.db.rollback()  # no transaction stays open meanwhile
            self._open[key] = (made_from, writer)

    def close(self) -> None:
        for _, writer in self._open.values():
            writer.close()
        self._open.clear()


def _made_from(assignment: Assignment) -> tuple:
    files = (assignment.master_notebook, assignment.root / "nbgrader_config.py")
    stats: list[tuple[int, int, int] | None] = []
    for path in files:
        try:
            stat = path.stat()
            stats.append((stat.st_mtime_ns, stat.st_size, stat.st_ino))
        except OSError:
            stats.append(None)
    return (assignment, *stats)


def _database_file(url: str) -> tuple[int, int] | None:
    """The SQLite file's identity (None for another database)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    try:
        stat = Path(parsed.database).expanduser().stat()
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino)

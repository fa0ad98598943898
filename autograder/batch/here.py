"""The engine that grades in this process, and what every engine is (`Engine`).

`Here` keeps a Grader per assignment (and display) with its worker, warm between
calls; `autograder grade --jobs 1` grades with it, and so does each grader process
(`host.py`) for the submissions it is handed. The other engines are in engines.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..course.config import Assignment
from ..running.launch import Launch
from ..running.worker_process import Worker
from .tasks import Done, Task

if TYPE_CHECKING:
    from ..grade import Grader


class Engine:
    """Grades tasks; owns what it starts; `close` stops it."""

    def grade(
        self,
        assignment: Assignment,
        tasks: Sequence[Task],
        done: Done,
        display: bool = False,
    ) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Stop what the engine started (it may be used again: it starts anew)."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Here(Engine):
    """One Grader in this process per assignment (and display), kept with its worker.

    `launch` and `worker`: `assignment`'s sandbox and a worker already started for it
    (`Worker.spawn`), for its first Grader."""

    def __init__(
        self,
        assignment: Assignment | None = None,
        launch: Launch | None = None,
        worker: Worker | None = None,
    ):
        self.graders: dict[tuple[str, str, bool], Grader] = {}
        self.early: dict[tuple[str, str], tuple[Launch | None, Worker | None]] = {}
        if assignment is not None:
            self.prepare(str(assignment.root), assignment.name, launch, worker)

    def prepare(
        self, root: str, name: str, launch: Launch | None, worker: Worker | None
    ) -> None:
        """The sandbox and a started worker for the first Grader of assignment `name`
        of the course at `root`."""
        self.early[(root, name)] = (launch, worker)

    def grader(self, assignment: Assignment, display: bool = False) -> Grader:
        # imported here: with --jobs N or a cluster, this process only hands out work,
        # and pytest's and nbformat's 0.3 s of imports would only slow the start
        from ..grade import Grader

        key = (str(assignment.root), assignment.name, display)
        if key not in self.graders:
            launch, worker = self.early.pop(key[:2], (None, None))
            self.graders[key] = Grader(assignment, launch, display, worker)
        return self.graders[key]

    def grade(
        self,
        assignment: Assignment,
        tasks: Sequence[Task],
        done: Done,
        display: bool = False,
    ) -> None:
        if not tasks:
            return
        grader = self.grader(assignment, display)
        for task in tasks:
            done(task, grader.grade(task.student, task.notebook), True)

    def close(self) -> None:
        while self.graders:
            _, grader = self.graders.popitem()
            grader.close()
        while self.early:  # started, never used
            _, (_, worker) = self.early.popitem()
            if worker is not None:
                worker.stop()

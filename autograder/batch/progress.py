"""Progress of a batch: a rich progress bar (count, rate, ETA) on a terminal, one plain
line per result otherwise.

`BatchProgress` is the `on_result` callback of `run_batch`; use it as a context
manager.
"""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from ..outputs.terminal import say
from ..results import SubmissionResult


class RateColumn(ProgressColumn):
    """Submissions per minute, from rich's moving estimate."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(
            f"{speed * 60:.1f}/min" if speed else "-/min", style="progress.data.speed"
        )


class BatchProgress:
    """Shows how far a batch is; on a terminal only problems get a line of their own."""

    def __init__(
        self, total: int, console: Console | None = None, title: str = "grading"
    ):
        self.total, self.done = total, 0
        self.console = console or Console(stderr=True)
        self.bar: Progress | None = None
        if self.console.is_terminal:
            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                RateColumn(),
                TextColumn("elapsed"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=self.console,
                transient=False,
            )
            self.task = self.bar.add_task(title, total=total)

    def __enter__(self) -> BatchProgress:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()

    def plan(self, to_grade: int, kept: int) -> None:
        """Count `to_grade` submissions; say so when a resumed batch keeps `kept`
        finished ones."""
        self.total = to_grade
        if self.bar is not None:
            self.bar.update(self.task, total=to_grade)
        if kept:
            say(
                self.bar.console if self.bar else self.console,
                f"resuming: {kept} finished result(s) kept from the journal, "
                f"{to_grade} to grade",
            )

    def __call__(self, result: SubmissionResult) -> None:
        self.done += 1
        line = (
            f"[{self.done}/{self.total}] {result.student}: "
            f"{result.score:g}/{result.max_score:g} "
            f"{result.status} ({result.seconds:.1f} s)"
        )
        if self.bar is None:
            say(self.console, line)
            return
        if result.status != "graded":
            say(self.bar.console, f"{line}: {result.message}")
        self.bar.advance(self.task)

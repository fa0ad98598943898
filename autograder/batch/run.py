"""A whole class in one call: discover, skip what a journal already holds, grade the
rest on an engine (engines.py: this process, local grader processes, or a Dask
cluster), report in discovery order.

Every engine grades a submission with the same `Grader`, so the results are the same
whichever runs them (apart from `seconds`). One bad submission never stops the batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..course.config import Assignment
from ..course.discovery import discover
from ..errors import UsageError
from ..names import Found
from ..results import GradeReport, SubmissionResult
from .engines import Engine
from .resume import Journal, dependencies, journal_path
from .tasks import Task


@dataclass
class BatchRun:
    report: GradeReport
    graded: int  # submissions graded by this run
    resumed: int  # finished results taken from the journal
    journal: Path | None = None
    # students whose result the disk kept out of the journal
    unsaved: list[str] = field(default_factory=list)
    # the first write of the journal the disk refused
    journal_failure: OSError | None = None
    journaled: int = 0  # results the journal holds: those it kept and those added


def run_batch(
    assignment: Assignment,
    paths: Iterable[Path],
    engine: Engine,
    *,
    json_path: Path | None = None,
    resume: bool = False,
    on_result: Callable[[SubmissionResult], None] | None = None,
    on_plan: Callable[[int, int], None] | None = None,
    on_note: Callable[[str], None] | None = None,
    display: bool = False,
    found: list[Found] | None = None,
) -> BatchRun:
    """Grade every notebook under `paths` on `engine` (engines.py; the caller closes
    it). With `json_path`, each result is journaled as it finishes; `resume` keeps the
    journal's finished results and grades only the others. `on_plan(to_grade, kept)` is
    told once, before grading starts, how many will be graded and how many the journal
    holds; `on_note`, before it, what the journal left out (results graded with another
    suite, lines that are not results) and why. `display`: each result carries what its
    cells showed (`SubmissionResult.outputs`). `found`: the submissions under `paths`
    when the caller has already looked (`discovery.survey`)."""
    submissions = discover(assignment, paths) if found is None else found
    results: list[SubmissionResult | None] = [None] * len(submissions)
    journal = _journal(assignment, json_path, resume, on_note)

    def done(task: Task, result: SubmissionResult, graded: bool) -> None:
        # its id is not the one its name gives: say so where the student and the TA
        # look
        if task.note:
            result.notes.insert(0, task.note)
        results[task.index] = result
        # a result of a lost grader process is graded again on --resume
        if journal and graded:
            # one the disk refuses stays in `results`: said at the end
            journal.record(result, task.notebook)
        if on_result:
            on_result(result)

    try:
        tasks = _unfinished(submissions, journal, results)
        if on_plan:
            on_plan(len(tasks), len(submissions) - len(tasks))
        engine.grade(assignment, tasks, done, display)
    finally:
        if journal:
            journal.close()
    run = BatchRun(
        GradeReport(assignment.name, [r for r in results if r is not None]),
        graded=len(tasks),
        resumed=len(submissions) - len(tasks),
    )
    if journal:
        run.journal, run.unsaved, run.journal_failure = (
            journal.path,
            journal.unsaved,
            journal.failure,
        )
        run.journaled = run.resumed + journal.added
    return run


def _journal(
    assignment: Assignment,
    json_path: Path | None,
    resume: bool,
    on_note: Callable[[str], None] | None,
) -> Journal | None:
    """The batch's journal beside `json_path` (none without it), locked for this batch;
    with `resume`, what it holds of results graded as this batch grades; `on_note` is
    told what it left out, and why."""
    if json_path is None:
        if resume:
            raise UsageError(
                "--resume needs --json FILE: the journal of finished results is kept "
                "next to that file (FILE.partial.jsonl); run again with the same --json"
            )
        return None
    journal = Journal(
        journal_path(json_path),
        assignment.name,
        resume,
        assignment.limits.max_notebook_mb,
        dependencies(assignment),
    )
    if on_note:
        for note in journal.notes:
            on_note(note)
    return journal


def _unfinished(
    submissions: list[Found],
    journal: Journal | None,
    results: list[SubmissionResult | None],
) -> list[Task]:
    """Tasks for the submissions the journal does not hold; the results it holds go into
    `results`."""
    tasks = []
    for index, found in enumerate(submissions):
        finished = (
            journal.result_for(found.student, found.notebook) if journal else None
        )
        if finished is not None:
            results[index] = finished
        else:
            tasks.append(Task(index, found.student, found.notebook, found.note))
    return tasks

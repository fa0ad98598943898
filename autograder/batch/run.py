"""A whole class in one call: discover, skip what a journal already holds, grade the
rest on one of three engines (this process, `jobs` local grader processes, or a Dask
cluster), report in discovery order.

Every engine grades a submission with the same `Grader`, so the results are the same
whichever runs them (apart from `seconds`). One bad submission never stops the batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..course.config import Assignment
from ..course.discovery import discover
from ..errors import UsageError
from ..names import Found
from ..results import GradeReport, SubmissionResult
from ..running.launch import Launch
from ..running.worker_process import Worker
from .parallel import GraderProcess, check_jobs, grade_in_processes
from .resume import Journal, dependencies, journal_path
from .tasks import Done, Task


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
    *,
    jobs: int | None = None,
    scheduler: str | None = None,
    json_path: Path | None = None,
    resume: bool = False,
    on_result: Callable[[SubmissionResult], None] | None = None,
    on_plan: Callable[[int, int], None] | None = None,
    on_note: Callable[[str], None] | None = None,
    launch: Launch | None = None,
    display: bool = False,
    worker: Worker | None = None,
    processes: Sequence[GraderProcess] = (),
    found: list[Found] | None = None,
) -> BatchRun:
    """Grade every notebook under `paths`. With `json_path`, each result is journaled as
    it finishes; `resume` keeps the journal's finished results and grades only the
    others. `on_plan(to_grade, kept)` is told once, before grading starts, how many will
    be graded and how many the journal holds; `on_note`, before it, what the journal
    left out (results graded with another suite, lines that are not results) and why.
    `display`: each result carries what its cells showed (`SubmissionResult.outputs`).
    `worker`: one already started for this assignment, used when this process grades
    (one job); `processes`: grader processes already started for it
    (`parallel.start_processes`), used with more than one job and stopped at the end
    either way. `found`: the submissions under `paths` when the caller has already
    looked (`discovery.survey`)."""
    try:
        if scheduler and jobs is not None:
            raise UsageError(
                "--jobs does not apply with --scheduler: the cluster's workers grade "
                "in parallel"
            )
        jobs = 1 if scheduler else check_jobs(jobs)
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
            _grade(
                assignment,
                tasks,
                jobs,
                scheduler,
                done,
                launch,
                display,
                worker,
                processes,
            )
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
    finally:
        for process in processes:  # those the engine did not use (or already stopped)
            process.stop(kill=True)


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


def _grade(
    assignment: Assignment,
    tasks: list[Task],
    jobs: int,
    scheduler: str | None,
    done: Done,
    launch: Launch | None,
    display: bool = False,
    worker: Worker | None = None,
    processes: Sequence[GraderProcess] = (),
) -> None:
    """Hand the tasks to one engine: a Dask cluster, local grader processes, or this
    process."""
    if not tasks:
        return
    if scheduler:
        from .cluster import grade_on_cluster

        grade_on_cluster(assignment, tasks, scheduler, done, display=display)
    elif min(jobs, len(tasks)) > 1:
        grade_in_processes(
            assignment, tasks, jobs, done, display=display, started=processes
        )
    else:
        grade_here_in_order(assignment, tasks, done, launch, display, worker)


def grade_here_in_order(
    assignment: Assignment,
    tasks: list[Task],
    done: Done,
    launch: Launch | None,
    display: bool = False,
    worker: Worker | None = None,
) -> None:
    """The one-job engine: one Grader in this process (imported here: with --jobs N or a
    cluster, this process only hands out work, and pytest's and nbformat's 0.3 s of
    imports would only slow the start)."""
    from ..grade import Grader

    with Grader(assignment, launch, display=display, worker=worker) as grader:
        for task in tasks:
            done(task, grader.grade(task.student, task.notebook), True)

"""The grade verb: a `GradeRequest` graded on an engine, with everything it writes
written in order, and what to tell the user returned as data (`Graded`).

The order: each result is journaled as it finishes (with --json), then stored (gradebook
row, autograded/ copy, feedback page: `Publisher`) and shown; after the last, every
result not yet stored is, and then the JSON and CSV are written whole. The command line
(`commands.cmd_grade`) and the course service are thin users of this and of `start`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..batch import engines
from ..course.config import Assignment
from ..course.discovery import Survey, survey
from ..errors import ExitCode
from ..running.launch import Launch

if TYPE_CHECKING:
    from rich.console import Console

    from ..batch.run import BatchRun
    from ..outputs.kept_writers import KeptWriters


@dataclass
class GradeRequest:
    """What to grade, where, and what to write: `autograder grade`'s arguments."""

    assignment: Assignment
    paths: list[Path]
    jobs: int | None = None  # grader processes on this machine (default: the cores)
    scheduler: str | None = None  # a Dask scheduler's address instead
    tls_ca_file: Path | None = None  # with a tls:// scheduler (default: Dask's own)
    tls_cert: Path | None = None
    tls_key: Path | None = None
    json: Path | None = None
    csv: Path | None = None
    gradebook: str | None = None  # nbgrader's gradebook URL ("": the course's)
    feedback: Path | None = None  # a folder for each student's feedback page
    resume: bool = False  # keep the finished results of the journal beside `json`
    writers: KeptWriters | None = None  # gradebooks kept open between requests


@dataclass
class Graded:
    """What a grading did, and what to tell the user once its results are written."""

    run: BatchRun
    lines: list[str] = field(default_factory=list)  # where each thing was written
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # a results file the disk refused
    failed: bool = False  # a result could not be stored everywhere it belongs

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.FAILED if self.failed or self.errors else ExitCode.OK


def start(
    request: GradeRequest, launch: Launch
) -> tuple[engines.Engine, Survey | None]:
    """The engine for the request, its worker or grader processes started now (before
    the rest of the command's imports), and the survey of the submissions when it took
    one to decide how many processes are worth starting (else None)."""
    assignment = request.assignment
    if request.scheduler or request.resume:  # a cluster grades; or the journal decides
        engine = engines.start(
            assignment, request.jobs, request.scheduler, None, launch
        )
        return engine, None
    surveyed = survey(assignment, request.paths) if request.jobs != 1 else None
    count = len(surveyed.found) if surveyed else 1
    return engines.start(assignment, request.jobs, None, count, launch), surveyed


def grade(
    request: GradeRequest,
    engine: engines.Engine,
    err: Console,
    say: Callable[[str], None],
    surveyed: Survey | None = None,
) -> Graded:
    """Grade the request on `engine`, showing progress on `err`; `say` is told at once
    what the user should know as grading starts (a warning, what --resume left out)."""
    from ..batch.publish import Publisher
    from ..batch.result_files import kept_in, write_results
    from ..batch.run import run_batch
    from ..batch.trust import cluster_tls

    assignment = request.assignment
    cluster = cluster_tls(
        request.scheduler,
        request.tls_ca_file,
        request.tls_cert,
        request.tls_key,
        warn=lambda warning: say(f"warning: {warning}"),
    )
    # one look at the paths: the batch and what is shown of it agree
    if surveyed is None:
        surveyed = survey(assignment, request.paths)
    publish = Publisher(
        assignment,
        surveyed,
        err,
        gradebook=request.gradebook,
        feedback=request.feedback,
        kept=kept_in(request.json, request.csv),
        writers=request.writers,
    )
    with publish, cluster:
        for note in publish.renamed:
            say(f"warning: {note}")
        run = run_batch(
            assignment,
            request.paths,
            engine,
            json_path=request.json,
            resume=request.resume,
            on_result=publish,
            on_plan=publish.plan,
            on_note=lambda note: say(f"resuming: {note}"),
            display=publish.display,
            found=surveyed.found,
        )
        publish.catch_up(run.report)
    # every result is written before anything more is shown
    written = write_results(run, request.json, request.csv)
    graded = Graded(run, written.lines + publish.where(), failed=bool(publish.problems))
    if publish.display_error:
        graded.warnings.append(
            f"the progress display failed ({publish.display_error}); every result "
            "was kept"
        )
    graded.warnings += publish.warnings + publish.problems + written.warnings
    graded.errors += written.refused
    return graded

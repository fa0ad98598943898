"""What each verb of the `autograder` command does: a function per verb (`cmd_<verb>`,
given the parsed arguments) that calls the library and prints what it did; cli.py parses
the command line and turns errors into exit codes."""

from __future__ import annotations

import sys

from .course.config import find_course_root, load_assignment
from .errors import ExitCode

# Imported where used, not here: a command starts its worker, or its grader processes,
# first (`_early_start`), and every import before that is on the way of its result (rich
# alone takes 30 ms).


def _assignment(args):
    root = find_course_root(args.course) if args.course else find_course_root()
    return load_assignment(args.assignment, root)


def cmd_release(args) -> int:
    from .verbs.release import release

    target = release(_assignment(args))
    print(f"released to {target}")
    return ExitCode.OK


def cmd_grade(args) -> int:
    from .running.sandbox import build_launch

    assignment = _assignment(args)
    launch = build_launch(assignment.release_dir)
    worker, processes, surveyed = _early_start(args, assignment, launch)
    try:
        return _grade(args, assignment, launch, worker, processes, surveyed)
    finally:
        if worker is not None:
            worker.stop()  # the Grader stopped it, or nothing was left to grade
        for process in processes:
            # the batch stopped them, or it never ran (the gradebook could not be
            # opened, say)
            process.stop(kill=True)


def _early_start(args, assignment, launch):
    """What takes longest to start starts now, before anything else is imported, so that
    its start overlaps this process's: the worker when this process grades (one
    notebook, or --jobs 1; its preload is most of a second), else the grader processes
    (each starts its own worker). Returns the worker (or None), the grader processes,
    and the survey of the submissions when it took one to decide (else None)."""
    from .course.discovery import survey

    # a cluster grades; or the journal decides what is left
    if args.scheduler or args.resume:
        return None, [], None
    surveyed = None
    if args.jobs != 1:
        from .batch.parallel import check_jobs, start_processes

        surveyed = survey(assignment, args.paths)
        count = min(check_jobs(args.jobs), len(surveyed.found))
        if count > 1:
            return None, start_processes(assignment, count), surveyed
        if count == 0:
            return None, [], surveyed
    from .running.launch import start_worker
    from .running.worker_process import Worker

    return Worker(launch, start_worker(launch)), [], surveyed


def _grade(args, assignment, launch, worker, processes, surveyed) -> int:
    from rich.console import Console

    from .batch.publish import Publisher
    from .batch.result_files import kept_in, write_results
    from .batch.run import run_batch
    from .batch.trust import cluster_tls
    from .course.discovery import survey
    from .outputs.table import print_table
    from .outputs.terminal import say

    err = Console(stderr=True)
    if launch.missing:
        say(
            err,
            f"warning: student code is NOT sandboxed: {'; '.join(launch.missing)}. "
            "Run `autograder doctor` for details.",
        )
    cluster = cluster_tls(
        args.scheduler,
        args.tls_ca_file,
        args.tls_cert,
        args.tls_key,
        warn=lambda warning: say(err, f"warning: {warning}"),
    )

    # one look at the paths: the batch and what is shown of it agree
    if surveyed is None:
        surveyed = survey(assignment, args.paths)
    with (
        Publisher(
            assignment,
            surveyed,
            err,
            gradebook=args.gradebook,
            feedback=args.feedback,
            kept=kept_in(args.json, args.csv),
        ) as publish,
        cluster,
    ):
        for note in publish.renamed:
            say(err, f"warning: {note}")
        run = run_batch(
            assignment,
            args.paths,
            jobs=args.jobs,
            scheduler=args.scheduler,
            json_path=args.json,
            resume=args.resume,
            on_result=publish,
            on_plan=publish.plan,
            on_note=lambda note: say(err, f"resuming: {note}"),
            launch=launch,
            display=publish.display,
            worker=worker,
            processes=processes,
            found=surveyed.found,
        )
        publish.catch_up(run.report)
    # every result is written before anything more is shown
    written = write_results(run, args.json, args.csv)
    _show(err, lambda: print_table(run.report, Console()))
    say(
        err,
        f"graded {run.graded} submission(s)"
        + (f", {run.resumed} kept from the journal" if args.resume else ""),
    )
    for line in written.lines + publish.where():
        say(err, line)
    if publish.display_error:
        say(
            err,
            f"warning: the progress display failed ({publish.display_error}); every "
            "result was kept",
        )
    for problem in publish.warnings + publish.problems + written.warnings:
        say(err, f"warning: {problem}")
    for problem in written.refused:
        say(err, f"error: {problem}")
    return ExitCode.FAILED if publish.problems or written.refused else ExitCode.OK


def _show(err, show) -> None:
    """Run a display step; if it fails, say so in one line: the results are already
    written."""
    try:
        show()
    except Exception as error:
        from .outputs.terminal import say

        say(
            err,
            f"warning: the score table could not be shown ({type(error).__name__}: "
            f"{error}); the results are in the files above",
        )


def cmd_validate(args) -> int:
    from .verbs.validate import validate

    result = validate(_assignment(args))
    if result.ok:
        print(
            f"{result.assignment}: master "
            f"{result.master.score:g}/{result.master.max_score:g}, "
            f"released stubs {result.release.score:g}: ok"
        )
        return ExitCode.OK
    print(f"{result.assignment}: NOT valid", file=sys.stderr)
    for problem in result.problems:
        print(f"  {problem}", file=sys.stderr)
    return ExitCode.FAILED


def cmd_gradescope(args) -> int:
    from .outputs.gradescope_zip import build

    print(f"Gradescope autograder: {build(_assignment(args), args.output)}")
    return ExitCode.OK


def cmd_report(args) -> int:
    from .outputs.report import write_report

    print(f"class report: {write_report(_assignment(args), args.json, args.output)}")
    return ExitCode.OK


def cmd_doctor(args) -> int:
    from .verbs.doctor import diagnose

    for line in diagnose().lines():
        print(line)
    return ExitCode.OK


def cmd_new(args) -> int:
    from .verbs.new import create_assignment

    root = find_course_root(args.course) if args.course else find_course_root()
    for path in create_assignment(args.assignment, root):
        print(f"created {path.relative_to(root)}")
    print(
        f"next: edit them, then `autograder release {args.assignment}` and `autograder "
        f"validate {args.assignment}` (see docs/AUTHORING.md)"
    )
    return ExitCode.OK


def cmd_check(args) -> int:
    from .verbs.student_check import find_assignment, format_report, run_checks

    root = find_course_root(args.course) if args.course else find_course_root()
    report = run_checks(
        find_assignment(args.notebook, root, args.assignment), args.notebook
    )
    print(format_report(report))
    return ExitCode.OK if report.passed else ExitCode.FAILED

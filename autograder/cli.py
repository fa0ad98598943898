"""The `autograder` command: a thin layer over the library functions, one per verb."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import settings
from .course.config import find_course_root, load_assignment
from .errors import AutograderError, ExitCode, refused_write

# Imported where used, not here: a command starts its worker, or its grader processes,
# first (`_early_start`), and every import before that is on the way of its result (rich
# alone takes 30 ms).


def main(argv: list[str] | None = None) -> int:
    # jsonschema (under nbformat) imports rfc3987_syntax when installed, building a
    # grammar for ~1 s; nbformat's schemas check no formats, so the command starts
    # without it.
    # None blocks the import; typeshed types sys.modules' values as modules only
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "verb", None):
        parser.print_help()
        return ExitCode.USAGE
    try:
        return int(args.verb(args) or ExitCode.OK)
    except AutograderError as error:
        return _fail(error)
    except KeyboardInterrupt:
        resume = (
            " (the same command with --resume grades the rest)"
            if getattr(args, "json", None)
            else ""
        )
        _say(f"interrupted; results written so far are kept{resume}")
        return 130
    # a bug of ours: one line, not a traceback, and what to do
    except Exception as error:
        # or a full disk under a write no verb reports itself
        if (refused := refused_write(error)) is not None:
            return _fail(refused)
        _say(
            f"internal error: {type(error).__name__}: {str(error)[:300]}; results "
            "written so far are "
            "kept; please report it (run with AUTOGRADER_DEBUG=1 for the traceback)"
        )
        if settings.debug():
            raise
        return int(ExitCode.INTERNAL)


def _fail(error: AutograderError) -> int:
    from rich.console import Console
    from rich.text import Text

    from .outputs.terminal import text

    # plain text: rich would take "[limits.timeout]" in a ConfigError for markup and
    # drop it
    Console(stderr=True).print(
        Text("error: ", style="bold red") + text(str(error)),
        highlight=False,
        soft_wrap=True,
    )
    return int(error.exit_code)


def _say(message: str) -> None:
    from rich.console import Console

    from .outputs.terminal import say

    say(Console(stderr=True), message)


def run() -> None:
    """The `autograder` command: `main`, then exit at once. Every result is written and
    every file, database and worker closed by then; tearing down the libraries imported
    (NumPy, pandas, pytest, SQLAlchemy) would only add 0.2 to 0.4 s to every command."""
    try:
        code = main()
    # argparse's --help and usage errors: it has printed what to say
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said
            pass
    os._exit(code)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autograder", description=__doc__)
    parser.add_argument(
        "--course",
        type=Path,
        default=None,
        help="course folder (default: found from here up)",
    )
    verbs = parser.add_subparsers(title="commands", metavar="COMMAND")

    release = verbs.add_parser(
        "release", help="generate the student version with nbgrader"
    )
    release.add_argument("assignment")
    release.set_defaults(verb=cmd_release)

    grade = verbs.add_parser("grade", help="grade submitted notebooks")
    grade.add_argument("assignment")
    grade.add_argument(
        "paths",
        nargs="+",
        type=Path,
        metavar="PATH",
        help="a notebook, a folder of notebooks, or nbgrader's submitted/ tree",
    )
    grade.add_argument("--json", type=Path, help="write the results as JSON here")
    grade.add_argument("--csv", type=Path, help="write one row per student as CSV here")
    grade.add_argument(
        "--gradebook",
        nargs="?",
        const="",
        metavar="URL",
        help=(
            "store the scores in nbgrader's gradebook (default URL: the course's "
            "gradebook.db)"
        ),
    )
    grade.add_argument(
        "--feedback",
        type=Path,
        metavar="DIR",
        help=(
            "write each student's feedback page to "
            "DIR/<student>/<assignment>/<notebook>.html"
        ),
    )
    grade.add_argument(
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help=(
            "grade N submissions at a time, each in its own grader process (default: "
            "cores)"
        ),
    )
    grade.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help=(
            "grade on the Dask cluster at ADDRESS (tls://HOST:8786); the course is "
            "sent to its workers"
        ),
    )
    for option, what in (
        ("ca-file", "the course CA's certificate"),
        ("cert", "our certificate, signed by that CA"),
        ("key", "our certificate's private key"),
    ):
        grade.add_argument(
            f"--tls-{option}",
            type=Path,
            metavar="PEM",
            help=f"with --scheduler tls://: {what} "
            "(default: Dask's distributed.comm.tls.*)",
        )
    grade.add_argument(
        "--resume",
        action="store_true",
        help=(
            "keep the finished results of an interrupted run with the same --json; "
            "grade the rest"
        ),
    )
    grade.set_defaults(verb=cmd_grade)

    validate = verbs.add_parser(
        "validate", help="check the master scores full marks and the stubs 0"
    )
    validate.add_argument("assignment")
    validate.set_defaults(verb=cmd_validate)

    doctor = verbs.add_parser(
        "doctor", help="show which protections grading gets on this machine"
    )
    doctor.set_defaults(verb=cmd_doctor)

    gradescope = verbs.add_parser(
        "gradescope", help="build a Gradescope autograder zip for an assignment"
    )
    gradescope.add_argument("assignment")
    gradescope.add_argument(
        "-o", "--output", type=Path, default=Path("autograder.zip"), metavar="ZIP"
    )
    gradescope.set_defaults(verb=cmd_gradescope)

    report = verbs.add_parser(
        "report", help="write the class report (HTML) from a results JSON"
    )
    report.add_argument("assignment")
    report.add_argument(
        "--json",
        type=Path,
        required=True,
        help="the results of `autograder grade --json`",
    )
    report.add_argument(
        "-o", "--output", type=Path, default=Path("report.html"), metavar="HTML"
    )
    report.set_defaults(verb=cmd_report)

    new = verbs.add_parser(
        "new",
        help="start an assignment: master, reference, config and a first hidden test",
    )
    new.add_argument("assignment")
    new.set_defaults(verb=cmd_new)

    check = verbs.add_parser(
        "check", help="run an assignment's public checks on a notebook (for students)"
    )
    check.add_argument("notebook", type=Path)
    check.add_argument(
        "--assignment",
        help="the assignment (default: from the notebook's metadata or file name)",
    )
    check.set_defaults(verb=cmd_check)
    return parser


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
    from .outputs.gradescope import build

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

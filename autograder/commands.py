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
    from .verbs.grade import GradeRequest, start

    request = GradeRequest(
        _assignment(args),
        args.paths,
        jobs=args.jobs,
        scheduler=args.scheduler,
        tls_ca_file=args.tls_ca_file,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        json=args.json,
        csv=args.csv,
        gradebook=args.gradebook,
        feedback=args.feedback,
        resume=args.resume,
    )
    launch = build_launch(request.assignment.release_dir)
    # what takes longest to start starts now, before anything else is imported, so
    # that its start overlaps this process's: the worker (its preload is most of a
    # second), or the grader processes (each starts its own worker)
    engine, surveyed = start(request, launch)
    with engine:
        return _grade(request, launch, engine, surveyed)


def _grade(request, launch, engine, surveyed) -> int:
    from rich.console import Console

    from .outputs.table import print_table
    from .outputs.terminal import say
    from .verbs.grade import grade

    err = Console(stderr=True)
    if launch.missing:
        say(
            err,
            f"warning: student code is NOT sandboxed: {'; '.join(launch.missing)}. "
            "Run `autograder doctor` for details.",
        )
    graded = grade(request, engine, err, lambda line: say(err, line), surveyed)
    run = graded.run
    _show(err, lambda: print_table(run.report, Console()))
    say(
        err,
        f"graded {run.graded} submission(s)"
        + (f", {run.resumed} kept from the journal" if request.resume else ""),
    )
    for line in graded.lines:
        say(err, line)
    for warning in graded.warnings:
        say(err, f"warning: {warning}")
    for problem in graded.errors:
        say(err, f"error: {problem}")
    return graded.exit_code


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


def _root(args):
    return find_course_root(args.course) if args.course else find_course_root()


def cmd_check(args) -> int:
    from .verbs.student_check import find_assignment, format_report, run_checks

    root = find_course_root(args.course) if args.course else find_course_root()
    report = run_checks(
        find_assignment(args.notebook, root, args.assignment), args.notebook
    )
    print(format_report(report))
    return ExitCode.OK if report.passed else ExitCode.FAILED
